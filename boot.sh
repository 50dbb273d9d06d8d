#!/bin/sh
# Container entrypoint: bring the schema up to date, then serve. Several app servers may start
# at once against one PostgreSQL: Alembic's upgrade is transactional there, and a second
# upgrade finds nothing to do.
set -e
flask db upgrade
exec gunicorn --bind 0.0.0.0:8000 --workers "${GUNICORN_WORKERS:-3}" \
    --access-logfile - --forwarded-allow-ips "${FORWARDED_ALLOW_IPS:-127.0.0.1}" wsgi:app
