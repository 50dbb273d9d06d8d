#!/bin/sh
# Container entrypoint: bring the schema up to date, then serve. Several app servers may start
# at once against one PostgreSQL: Alembic's upgrade is transactional there, and a second
# upgrade finds nothing to do.
set -e
# `notify-worker`: the email delivery worker of the notifications (run one or more beside the
# app servers, on the same DATABASE_URL and MAIL_* settings); it never migrates.
if [ "$1" = "notify-worker" ]; then
    exec flask notify run
fi
flask db upgrade
exec gunicorn --bind 0.0.0.0:8000 --workers "${GUNICORN_WORKERS:-3}" \
    --access-logfile - --forwarded-allow-ips "${FORWARDED_ALLOW_IPS:-127.0.0.1}" wsgi:app
