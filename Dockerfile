FROM python:3.11-slim
WORKDIR /opt/observatory
COPY pyproject.toml README.md alembic.ini workspace.yaml ./
COPY observatory_pipelines ./observatory_pipelines
COPY migrations ./migrations
COPY dbt_like_sql ./dbt_like_sql
RUN pip install --no-cache-dir -e .
# A production image never falls back to the embedded PostgreSQL: no database = stop.
ENV OBSERVATORY_ENV=production
ENV DAGSTER_HOME=/opt/dagster/home
RUN mkdir -p $DAGSTER_HOME
COPY deploy/dagster.yaml $DAGSTER_HOME/dagster.yaml
