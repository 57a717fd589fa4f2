# syntax=docker/dockerfile:1
# Two stages: the builder compiles nothing by hand, it only installs wheels into a virtualenv; the
# runtime stage copies that venv and the source, runs as an unprivileged user and holds no secrets.
# Secrets come at run time: env file, or a key file mounted as a Docker secret (see docs/deploy.md).

ARG PYTHON_IMAGE=python:3.11-slim-bookworm

FROM ${PYTHON_IMAGE} AS builder
ENV PIP_NO_CACHE_DIR=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1 \
    PYTHONDONTWRITEBYTECODE=1
RUN python -m venv /opt/venv
ENV PATH=/opt/venv/bin:$PATH
WORKDIR /app

# Dependencies first, from pyproject.toml alone (empty packages stand in for the code), so this slow
# layer is rebuilt only when the dependencies change, not on every code edit.
# constraints.txt pins every version (refreshed by `make constraints`), so a rebuild installs what
# the tests ran against.
COPY pyproject.toml README.md constraints.txt ./
RUN mkdir -p trader handlers web \
    && touch trader/__init__.py handlers/__init__.py web/__init__.py \
    && pip install -c constraints.txt . \
    && pip uninstall -y tradebot \
    && rm -rf trader handlers web build ./*.egg-info

COPY trader ./trader
COPY handlers ./handlers
COPY web ./web
COPY migrations ./migrations
COPY bot.py ./
# Editable install: the code stays in /app, where the store finds its migrations (/app/migrations).
RUN pip install --no-deps -e . && python -m compileall -q trader handlers web

FROM ${PYTHON_IMAGE} AS runtime
ENV PATH=/opt/venv/bin:$PATH \
    PYTHONUNBUFFERED=1 \
    PYTHONDONTWRITEBYTECODE=1 \
    MPLCONFIGDIR=/tmp/matplotlib \
    PYTHONPATH=/app \
    TRADER_OPS__DATA_DIR=/data \
    TRADER_DATABASE__URL=sqlite+aiosqlite:////data/trader.db \
    TRADER_OPS__HEALTH_PORT=8080
RUN groupadd --system --gid 10001 trader \
    && useradd --system --uid 10001 --gid trader --home-dir /app --no-create-home \
       --shell /usr/sbin/nologin trader \
    && mkdir -p /data \
    && chown trader:trader /data
COPY --from=builder /opt/venv /opt/venv
COPY --from=builder /app /app
WORKDIR /app
USER 10001:10001
VOLUME ["/data"]
EXPOSE 8080

# Inside the container the health server listens on 127.0.0.1 (OpsConfig.health_host); no curl in slim.
HEALTHCHECK --interval=30s --timeout=5s --start-period=90s --retries=3 \
    CMD ["python", "-c", "import os, sys, urllib.request; port = os.environ.get('TRADER_OPS__HEALTH_PORT', '8080'); sys.exit(0 if urllib.request.urlopen(f'http://127.0.0.1:{port}/health', timeout=4).status == 200 else 1)"]

# Apply migrations, then replace the shell with tradebot (PID 1 gets the stop signal). Any tradebot
# command works: `docker compose run --rm bot secrets list`.
ENTRYPOINT ["/bin/sh", "-c", "tradebot db upgrade && exec tradebot \"$@\"", "tradebot"]
CMD ["run"]
