# One image for every role of the deployment (docker-compose.yml builds it once and tags it
# observatory-pipelines:${OBSERVATORY_VERSION}): init steps, code server, webserver, daemon,
# the run containers the DockerRunLauncher starts, and the one-shot backup.
# No HEALTHCHECK here: each role has its own, declared in docker-compose.yml (the tools they
# call are in the image: python, dagster, dagster-daemon). Base image pinned to a patch release.
FROM python:3.11.14-slim-bookworm

ARG OBSERVATORY_VERSION=0.1.0
LABEL org.opencontainers.image.title="observatory-pipelines" \
      org.opencontainers.image.version="${OBSERVATORY_VERSION}" \
      org.opencontainers.image.licenses="MIT"

ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1 \
    OBSERVATORY_ENV=production \
    OBSERVATORY_DATA_DIR=/var/lib/observatory \
    DAGSTER_HOME=/opt/dagster/home

# Debian's PostgreSQL 15 client: a backup of a PostgreSQL 15 server is then made by a matching
# pg_dump (found on PG_BIN_SEARCH_PATH at /usr/lib/postgresql/15/bin), so its dump needs no
# header filter; 16 and 17 use the bundled pg_dump 18 plus the filter, or PG_BIN_DIR_<major>
# (docs/operations/backup_restore.md).
RUN apt-get update \
    && apt-get install --yes --no-install-recommends postgresql-client-15 \
    && rm -rf /var/lib/apt/lists/*

# Dependencies from the lock first (a layer that changes only with requirements.lock), then the
# project as a plain, non-editable install: the package, its SQL and the dbt_like_sql models
# all come from site-packages. The build backend is the locked setuptools (no resolution).
COPY requirements.lock /tmp/build/requirements.lock
RUN pip install --no-cache-dir -r /tmp/build/requirements.lock
COPY pyproject.toml README.md /tmp/build/
COPY observatory_pipelines /tmp/build/observatory_pipelines
COPY dbt_like_sql /tmp/build/dbt_like_sql
RUN pip install --no-cache-dir --no-deps --no-build-isolation /tmp/build && rm -rf /tmp/build

# A fixed uid/gid, so volume ownership is the same on every host and in every run container.
RUN groupadd --system --gid 10001 observatory \
    && useradd --system --uid 10001 --gid observatory --home-dir /var/lib/observatory \
       --shell /usr/sbin/nologin observatory

# The working directory holds only what is run from it, not the sources: alembic.ini and
# migrations/ for the migrate step (`alembic upgrade head`, which imports the installed
# package), and the deploy workspace (code server over gRPC) for the webserver and daemon.
WORKDIR /opt/observatory
COPY alembic.ini ./
COPY migrations ./migrations
COPY deploy/workspace.yaml ./deploy/workspace.yaml
# dagster.yaml stays in the image (read-only, replaced by each upgrade); only storage/ under
# DAGSTER_HOME is a volume (docker-compose.yml), so a volume never shadows a newer config.
COPY deploy/dagster.yaml $DAGSTER_HOME/dagster.yaml
RUN mkdir -p $DAGSTER_HOME/storage $OBSERVATORY_DATA_DIR \
    && chown -R observatory:observatory $DAGSTER_HOME/storage $OBSERVATORY_DATA_DIR

USER observatory:observatory
