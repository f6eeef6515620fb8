# syntax=docker/dockerfile:1
# The finance service image: gunicorn with uvicorn workers serving config.asgi.
#
#   docker build -t finance-service:$(git rev-parse --short HEAD) .
#
# Two stages: "build" has the compilers and pip and produces a virtualenv plus the
# collected static files; "runtime" receives only those, runs as an unprivileged user
# and can run with a read-only root filesystem (every write goes to /tmp, /dev/shm or the
# metrics emptyDir).

ARG PYTHON_IMAGE=python:3.11.14-slim-bookworm

FROM ${PYTHON_IMAGE} AS build

ENV PIP_NO_CACHE_DIR=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1 \
    PYTHONDONTWRITEBYTECODE=1

# Compilers for any dependency that ships no wheel for the target platform; they stay in
# this stage.
RUN apt-get update \
    && apt-get install --yes --no-install-recommends build-essential libpq-dev \
    && rm -rf /var/lib/apt/lists/*

RUN python -m venv /opt/venv
ENV PATH=/opt/venv/bin:$PATH

# Requirements first, so a code change does not reinstall every dependency.
COPY requirements.txt /tmp/requirements.txt
RUN pip install --requirement /tmp/requirements.txt

WORKDIR /app
COPY . /app

# collectstatic only reads settings: a throwaway key, the SQLite default, no database
# access. Byte-compile once here, since the runtime filesystem is read-only.
RUN SECRET_KEY=collectstatic-only DEBUG=0 python manage.py collectstatic --noinput \
    && python -m compileall -q /app /opt/venv


FROM ${PYTHON_IMAGE} AS runtime

# A fixed numeric id, so Kubernetes' runAsNonRoot can verify it without reading
# /etc/passwd. The metrics directory exists for plain `docker run`; in Kubernetes an
# emptyDir is mounted over it.
RUN groupadd --system --gid 10001 finance \
    && useradd --system --uid 10001 --gid finance --no-create-home \
       --home-dir /nonexistent --shell /usr/sbin/nologin finance \
    && install --directory --owner 10001 --group 10001 --mode 0700 /run/finance-metrics

COPY --from=build /opt/venv /opt/venv
COPY --from=build /app /app

ENV PATH=/opt/venv/bin:$PATH \
    PYTHONUNBUFFERED=1 \
    PYTHONDONTWRITEBYTECODE=1 \
    DJANGO_SETTINGS_MODULE=config.settings \
    PROMETHEUS_MULTIPROC_DIR=/run/finance-metrics \
    GUNICORN_BIND=0.0.0.0:8000 \
    METRICS_PORT=9100

WORKDIR /app
# Code and static files stay owned by root: the service can read them, never change them.
USER 10001:10001

EXPOSE 8000 9100

# Exec form: gunicorn is PID 1 and receives SIGTERM itself for a graceful shutdown.
CMD ["gunicorn", "--config", "config/gunicorn.conf.py", "config.asgi:application"]
