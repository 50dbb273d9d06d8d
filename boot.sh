#!/bin/sh
# Container entrypoint: bring the schema up to date, then serve. Several app servers may start
# at once against one PostgreSQL: the upgrade takes an advisory lock (migrations/env.py), so it
# runs once and the others find nothing to do. Gunicorn's settings are in gunicorn.conf.py
# (workers from the CPU count, timeouts, graceful restart, metrics, no access log: the app
# writes one JSON line per request). `exec` makes gunicorn PID 1's process: SIGTERM from the
# orchestrator reaches it and stops the workers gracefully. The code is the installed wheel's
# (the image's /opt/venv): this folder holds only boot.sh and gunicorn.conf.py (.ci/prod-smoke
# starts it the same way, away from the checkout).
set -e
cd "$(dirname "$0")"
# `notify-worker`: the email delivery worker of the notifications (run one or more beside the
# app servers, on the same DATABASE_URL and MAIL_* settings); it never migrates.
if [ "$1" = "notify-worker" ]; then
    exec flask notify run
fi
flask db upgrade
exec gunicorn --config gunicorn.conf.py wsgi:app
