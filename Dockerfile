# spendkoll image: Airflow 3.3 + dbt + Great Expectations + the spendkoll package,
# installed from the same requirements.lock as `make demo` / `make test`.
FROM python:3.11-slim-bookworm

ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    SPENDKOLL_HOME=/opt/spendkoll \
    SPENDKOLL_DATA_DIR=/data \
    AIRFLOW_HOME=/opt/airflow \
    AIRFLOW__CORE__DAGS_FOLDER=/opt/spendkoll/dags \
    AIRFLOW__CORE__PLUGINS_FOLDER=/opt/spendkoll/plugins \
    AIRFLOW__CORE__LOAD_EXAMPLES=False \
    DO_NOT_TRACK=1 \
    SCARF_ANALYTICS=false \
    DBT_SEND_ANONYMOUS_USAGE_STATS=False \
    GX_ANALYTICS_ENABLED=False \
    AIRFLOW__USAGE_DATA_COLLECTION__ENABLED=False

RUN useradd --create-home --uid 50000 airflow \
 && mkdir -p /opt/spendkoll /opt/airflow /data \
 && chown -R airflow /opt/airflow /data

WORKDIR /opt/spendkoll
COPY requirements.lock ./
RUN pip install --no-cache-dir uv==0.13.8 \
 && uv pip install --system --no-cache --require-hashes -r requirements.lock
COPY pyproject.toml README.md ./
COPY src ./src
RUN uv pip install --system --no-cache --no-deps --no-build-isolation .
COPY dags ./dags
COPY plugins ./plugins
COPY include ./include
COPY dbt_project ./dbt_project
COPY expectations ./expectations

USER airflow
