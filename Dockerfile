# zhaocuo — 我为政府网站找错. One image for the API (`zhaocuo serve`, the default), the
# scheduler (`zhaocuo scheduler`) and the operator commands (`zhaocuo migrate`, `import`, …).
# On the embedded SQLite database (the default) the server runs the scheduler itself
# (docker/entrypoint.sh sets ZHAOCUO_SCHEDULER=embedded); on PostgreSQL run one more container
# with `zhaocuo scheduler` (/readyz answers 503 while no scheduler has run).
#
#   docker build -t zhaocuo .
#   docker run -p 8000:8000 -e ZHAOCUO_FORM_SECRET=$(openssl rand -hex 32) -v zhaocuo-data:/data zhaocuo
#   docker run -p 8000:8000 -e ZHAOCUO_FORM_SECRET=… -e ZHAOCUO_DATABASE_URL=postgresql+psycopg://user:pw@db/zhaocuo zhaocuo
#
# ZHAOCUO_FORM_SECRET signs the citizens' report form: production refuses to start without it,
# and every node of one service must share it.
#
# The schema is migrated at start (docker/entrypoint.sh; ZHAOCUO_MIGRATE_ON_START=0 skips it).
# Behind a reverse proxy, set FORWARDED_ALLOW_IPS to the proxy's address: uvicorn then takes
# the client address from X-Forwarded-For, which the per-address submission limit relies on.
FROM python:3.11-slim

ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    PIP_NO_CACHE_DIR=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1

# The application's code stays owned by root: the service cannot rewrite itself.
RUN useradd --system --uid 10001 --user-group --home-dir /nonexistent --no-create-home zhaocuo \
    && mkdir /data \
    && chown zhaocuo:zhaocuo /data

# WORKDIR is the source root: app/migrate.py finds alembic.ini and migrations/ here.
WORKDIR /app

# Dependencies first, in their own layer, so that a code change does not reinstall them: the
# exact versions and hashes of requirements.lock (`make lock` writes it from pyproject.toml).
COPY requirements.lock ./
RUN pip install --require-hashes --no-deps -r requirements.lock

COPY . .
RUN pip install --no-deps . \
    && rm -rf build ./*.egg-info \
    && zhaocuo --help > /dev/null

# Production refuses a relative SQLite path; the default is a file on the /data volume.
ENV ZHAOCUO_ENV=production \
    ZHAOCUO_DATABASE_URL=sqlite:////data/zhaocuo.db \
    ZHAOCUO_SLA_REPORT_DIR=/data/sla-reports
VOLUME ["/data"]

USER zhaocuo
EXPOSE 8000

HEALTHCHECK --interval=30s --timeout=5s --start-period=20s --retries=3 \
    CMD ["python", "-c", "import urllib.request; urllib.request.urlopen('http://127.0.0.1:8000/healthz', timeout=4)"]

ENTRYPOINT ["/bin/sh", "/app/docker/entrypoint.sh"]
CMD ["zhaocuo", "serve", "--host", "0.0.0.0", "--port", "8000"]
