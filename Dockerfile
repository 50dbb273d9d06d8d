# HTA Tracker production image: multi-stage, non-root, gunicorn serving wsgi:app.
# Build: docker build -t hta-tracker .
# Run:   docker run -e SECRET_KEY=... -e DATABASE_URL=postgresql+psycopg://user:pw@db/hta -p 8000:8000 hta-tracker
# Mail:  docker run -e SECRET_KEY=... -e DATABASE_URL=... -e MAIL_SERVER=smtp.example.org -e MAIL_PORT=587 \
#          -e MAIL_USE_TLS=1 -e MAIL_USERNAME=... -e MAIL_PASSWORD=... -e BASE_URL=https://hta.example.org \
#          hta-tracker notify-worker      # the notification email worker (several may run at once)

# .ci/prod-smoke follows these steps without a container engine (same sources, wheel, fresh
# virtual environment, a working folder holding only boot.sh and gunicorn.conf.py): keep both
# in step.
FROM python:3.11-slim AS build
ENV PIP_NO_CACHE_DIR=1 PIP_DISABLE_PIP_VERSION_CHECK=1
WORKDIR /src
# The wheel's sources: the app (templates, static files, translations, the password list),
# the settings and WSGI modules, the migrations (pyproject.toml says what the wheel ships).
COPY pyproject.toml config.py wsgi.py ./
COPY app ./app
COPY migrations ./migrations
RUN python -m venv /build \
    && /build/bin/pip install --upgrade pip babel \
    && /build/bin/pybabel compile --use-fuzzy -d app/translations \
    && /build/bin/pip wheel --no-deps --wheel-dir /wheels . \
    && python -m venv /opt/venv \
    && /opt/venv/bin/pip install /wheels/hta_tracker-*.whl

FROM python:3.11-slim AS runtime
ENV PATH=/opt/venv/bin:$PATH \
    PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    HTA_ENV=production \
    FLASK_APP=wsgi \
    HTA_INSTANCE_DIR=/var/lib/hta \
    PROMETHEUS_MULTIPROC_DIR=/tmp/hta-prometheus
RUN groupadd --system hta && useradd --system --gid hta --home /app hta \
    && mkdir -p /var/lib/hta && chown hta:hta /var/lib/hta
WORKDIR /app
# The code is the installed wheel's (/opt/venv); the working folder holds only the entrypoint
# and gunicorn's settings.
COPY --from=build /opt/venv /opt/venv
COPY --chown=hta:hta gunicorn.conf.py boot.sh ./
USER hta
EXPOSE 8000
# The load balancer's probes: /healthz (alive) and /readyz (database, schema, document store).
HEALTHCHECK --interval=30s --timeout=5s --start-period=30s \
    CMD python -c "import urllib.request; urllib.request.urlopen('http://127.0.0.1:8000/healthz', timeout=4)"
VOLUME ["/var/lib/hta"]
ENTRYPOINT ["./boot.sh"]
