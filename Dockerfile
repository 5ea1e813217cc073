# syntax=docker/dockerfile:1
# One image for every onsale service: the web Deployments (ONSALE_SERVICE picks
# which URLs a pod mounts), the Celery worker and beat, and the migration Job.
# See docker/entrypoint.sh for the commands: web (default), worker, beat,
# migrate, manage ...
ARG PYTHON_VERSION=3.12

# --- builder: compilers and headers, used only to build the virtualenv ------
FROM python:${PYTHON_VERSION}-slim-bookworm AS builder

ENV PIP_NO_CACHE_DIR=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1 \
    PYTHONDONTWRITEBYTECODE=1

# Debian's security archive replaces package versions, so a pinned version stops
# installing within weeks; the base image tag pins the release instead.
# hadolint ignore=DL3008
RUN apt-get update \
    && apt-get install -y --no-install-recommends \
        build-essential default-libmysqlclient-dev pkg-config \
    && rm -rf /var/lib/apt/lists/*

RUN python -m venv /opt/venv
ENV PATH=/opt/venv/bin:$PATH
WORKDIR /src

# Dependencies first, in their own layer: a code change does not rebuild them.
# A placeholder package lets pip resolve pyproject.toml without the code.
COPY pyproject.toml README.md ./
RUN mkdir onsale && touch onsale/__init__.py \
    && pip install . \
    && pip uninstall -y onsale

COPY onsale ./onsale
RUN pip install --no-deps . && pip check

# --- runtime: the virtualenv, the MariaDB client library, no compilers ------
FROM python:${PYTHON_VERSION}-slim-bookworm AS runtime

# Same reason as above for not pinning Debian package versions.
# hadolint ignore=DL3008
RUN apt-get update \
    && apt-get install -y --no-install-recommends libmariadb3 \
    && rm -rf /var/lib/apt/lists/* \
    && groupadd --system --gid 10001 onsale \
    && useradd --system --uid 10001 --gid onsale --home-dir /app --shell /usr/sbin/nologin onsale

ENV PATH=/opt/venv/bin:$PATH \
    PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    DJANGO_SETTINGS_MODULE=onsale.config.settings \
    ONSALE_SERVICE=all \
    ONSALE_VAR_DIR=/tmp/onsale \
    ONSALE_STATIC_MANIFEST=true \
    STATIC_ROOT=/app/static \
    PORT=8000

COPY --from=builder /opt/venv /opt/venv
WORKDIR /app
COPY manage.py gunicorn.conf.py newrelic.ini ./
COPY docker/entrypoint.sh docker/healthcheck.py ./docker/

# Static files are collected (with content-hashed names) at build time, so a
# pod never writes them and the root file system stays read-only. It runs
# with the production settings and no secrets: only serving processes (web,
# worker, beat) insist on them, and the image must never contain them.
RUN ONSALE_VAR_DIR=/tmp/build-var \
    python manage.py collectstatic --noinput -v 0 \
    && rm -rf /tmp/build-var \
    && python -m compileall -q /opt/venv/lib \
    && chmod 0755 docker/entrypoint.sh

USER 10001:10001
EXPOSE 8000

# Liveness only (the process answers); readiness (MySQL, Redis) is the
# orchestrator's /readyz probe, so a database outage never restarts containers.
HEALTHCHECK --interval=15s --timeout=3s --start-period=20s --retries=3 \
    CMD ["python", "/app/docker/healthcheck.py"]

ENTRYPOINT ["/app/docker/entrypoint.sh"]
CMD ["web"]
