"""Gunicorn settings for the production image (`gunicorn -c gunicorn.conf.py wsgi:app`; boot.sh
does). Every value can be overridden from the environment named beside it.

- workers: 2 x CPUs + 1, at most 12 (GUNICORN_WORKERS), sync workers: each request holds a
  database connection for its whole life, and the work is mostly waiting on PostgreSQL (the
  cap keeps several servers' connection pools within PostgreSQL's max_connections);
- timeouts: a worker silent for 60 s is killed and replaced (GUNICORN_TIMEOUT; uploads of
  50 MB over a slow line fit in it); on SIGTERM, workers get 30 s to finish the requests they
  hold (GUNICORN_GRACEFUL_TIMEOUT); keep-alive 5 s behind a load balancer;
- page statements: the workers' PostgreSQL statements are cancelled after 20 s
  (DATABASE_STATEMENT_TIMEOUT_MS, read by the app; 0 turns it off), well within the worker
  timeout, so a runaway query answers an error instead of getting its worker killed; `flask`
  commands (exports, backups) do not read this file and run without a timeout;
- max_requests with jitter: workers are recycled now and then, never all at once;
- graceful restart: SIGHUP reloads the workers one by one with new code and settings
  (`preload_app` is off so that they do);
- no control socket (gunicornc) unless GUNICORN_CONTROL_SOCKET names a path: its default is
  one per user (~/.gunicorn/gunicorn.ctl), which several servers on one host would fight over
  and which the image's user cannot create; signals (HUP, TERM, TTIN/TTOU) do the same work;
- the access log is off: the app writes one JSON line per request (`app.ops.request_log`)
  with more in it; gunicorn's own error log goes to stderr;
- Prometheus in multiprocess mode: PROMETHEUS_MULTIPROC_DIR (created empty at start; by
  default under /tmp) holds each worker's values; a dead worker's files are marked so that
  its gauges leave the scrape.
"""

from __future__ import annotations

import multiprocessing
import os
import shutil
import tempfile
from pathlib import Path


def _int(name: str, default: int) -> int:
    return int(os.environ.get(name) or default)


bind = os.environ.get("GUNICORN_BIND", "0.0.0.0:8000")
workers = _int("GUNICORN_WORKERS", min(multiprocessing.cpu_count() * 2 + 1, 12))
worker_class = "sync"
timeout = _int("GUNICORN_TIMEOUT", 60)
# Read by the app in each worker (config.py, app/core/database_settings.py).
os.environ.setdefault("DATABASE_STATEMENT_TIMEOUT_MS", "20000")
graceful_timeout = _int("GUNICORN_GRACEFUL_TIMEOUT", 30)
keepalive = _int("GUNICORN_KEEPALIVE", 5)
max_requests = _int("GUNICORN_MAX_REQUESTS", 2000)
max_requests_jitter = _int("GUNICORN_MAX_REQUESTS_JITTER", 200)
preload_app = False
forwarded_allow_ips = os.environ.get("FORWARDED_ALLOW_IPS", "127.0.0.1")

# The control socket only where asked for (see above).
control_socket_disable = not os.environ.get("GUNICORN_CONTROL_SOCKET")
if not control_socket_disable:
    control_socket = os.environ["GUNICORN_CONTROL_SOCKET"]

accesslog = None
errorlog = "-"
loglevel = os.environ.get("GUNICORN_LOG_LEVEL", "info")

# The metrics directory must be known before the workers import prometheus_client.
metrics_dir = Path(
    os.environ.setdefault(
        "PROMETHEUS_MULTIPROC_DIR", str(Path(tempfile.gettempdir()) / "hta-prometheus")
    )
)


def on_starting(server) -> None:
    """Start from an empty metrics directory: values of a previous run are not this one's."""
    shutil.rmtree(metrics_dir, ignore_errors=True)
    metrics_dir.mkdir(parents=True, exist_ok=True)


def child_exit(server, worker) -> None:
    from prometheus_client import multiprocess

    multiprocess.mark_process_dead(worker.pid)
