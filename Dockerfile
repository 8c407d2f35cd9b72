FROM python:3.11-slim
# Dependencies from the lock first (a layer that changes only with requirements.lock), then the
# project as a plain, non-editable install: the package, its SQL and the dbt_like_sql models
# all come from site-packages. The build backend is the locked setuptools (no resolution).
COPY requirements.lock /tmp/build/requirements.lock
RUN pip install --no-cache-dir -r /tmp/build/requirements.lock
COPY pyproject.toml README.md /tmp/build/
COPY observatory_pipelines /tmp/build/observatory_pipelines
COPY dbt_like_sql /tmp/build/dbt_like_sql
RUN pip install --no-cache-dir --no-deps --no-build-isolation /tmp/build && rm -rf /tmp/build
# The working directory holds only what is run from it, not the sources: alembic.ini and
# migrations/ for the migrate step (`alembic upgrade head`, which imports the installed
# package), and workspace.yaml for the webserver and daemon.
WORKDIR /opt/observatory
COPY alembic.ini workspace.yaml ./
COPY migrations ./migrations
ENV DAGSTER_HOME=/opt/dagster/home
RUN mkdir -p $DAGSTER_HOME
COPY deploy/dagster.yaml $DAGSTER_HOME/dagster.yaml
