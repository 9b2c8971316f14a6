# The fedsearch web UI and API. docker-compose.yml runs it beside Elasticsearch.
FROM python:3.11-slim

ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    PIP_NO_CACHE_DIR=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1

WORKDIR /app
COPY pyproject.toml README.md ./
COPY fedsearch ./fedsearch
COPY connectors ./connectors
COPY rawstore ./rawstore
COPY indexers ./indexers
COPY search_api ./search_api
COPY web_ui ./web_ui
COPY fedsearch_app ./fedsearch_app
RUN pip install . \
    && useradd --system --create-home --home-dir /home/fedsearch fedsearch \
    && mkdir -p /data && chown fedsearch: /data

USER fedsearch
VOLUME ["/data"]
EXPOSE 8000
# The configuration is mounted from config/ (see docker-compose.yml).
ENV FEDSEARCH_CONFIG=/etc/fedsearch/fedsearch.docker.yaml
CMD ["fedsearch", "serve", "--host", "0.0.0.0", "--port", "8000"]
