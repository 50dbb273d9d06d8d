"""Prometheus metrics at `/metrics`, through prometheus-client.

- `hta_http_requests_total{route,method,status}` and
  `hta_http_request_duration_seconds{route,status}`: every request, by URL rule;
- `hta_transitions_total{workflow,transition}`: workflow transitions committed (counted from
  the audit entries of committed transactions, so a rolled-back `fire` is not counted);
- `hta_documents_stored_total`: document versions committed.

Under gunicorn every worker is a process: set `PROMETHEUS_MULTIPROC_DIR` to an empty
directory (`gunicorn.conf.py` does, and removes a dead worker's files), and `/metrics`
aggregates every worker's values. The page is for the monitoring system only: with
`METRICS_TOKEN` set it needs `Authorization: Bearer <token>`; without, it answers only to
loopback clients (a scraper on the same host, or through a port not published); anyone else
gets 404. A proxy on the same host forwarding outside traffic makes that traffic loopback
unless `TRUSTED_PROXY_HOPS` is set: set the token there.
"""

from __future__ import annotations

import hmac
import os

from flask import Flask, Response, abort, current_app, request
from prometheus_client import (
    CONTENT_TYPE_LATEST,
    REGISTRY,
    CollectorRegistry,
    Counter,
    Histogram,
    generate_latest,
    multiprocess,
)
from sqlalchemy import event
from sqlalchemy.orm import Session

from app.models import AuditEntry, DocumentVersion
from app.ops.request_log import elapsed_ms, route_of_request

LOOPBACK = frozenset({"127.0.0.1", "::1"})

if os.environ.get("PROMETHEUS_MULTIPROC_DIR"):
    # The values are files there, opened as the metrics below are made (a CLI command run
    # before gunicorn created the directory must not fail).
    os.makedirs(os.environ["PROMETHEUS_MULTIPROC_DIR"], exist_ok=True)

REQUESTS = Counter("hta_http_requests", "HTTP requests answered", ("route", "method", "status"))
LATENCY = Histogram(
    "hta_http_request_duration_seconds",
    "Time to answer an HTTP request",
    ("route", "status"),
    buckets=(0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30),
)
TRANSITIONS = Counter(
    "hta_transitions", "Workflow transitions committed", ("workflow", "transition")
)
DOCUMENTS_STORED = Counter("hta_documents_stored", "Document versions committed")

_PENDING = "hta_metrics_pending"


def init_app(app: Flask) -> None:
    app.after_request(_observe_request)
    app.add_url_rule("/metrics", "ops.metrics", metrics_page)
    if not event.contains(Session, "after_flush", _note_flushed):
        event.listen(Session, "after_flush", _note_flushed)
        event.listen(Session, "after_commit", _count_committed)
        event.listen(Session, "after_soft_rollback", _forget_pending)


def _observe_request(response):
    route = route_of_request()
    status = str(response.status_code)
    REQUESTS.labels(route, request.method, status).inc()
    duration_ms = elapsed_ms()
    if duration_ms is not None:
        LATENCY.labels(route, status).observe(duration_ms / 1000)
    return response


def _note_flushed(session, flush_context) -> None:
    pending = session.info.setdefault(_PENDING, [])
    for obj in session.new:
        if isinstance(obj, AuditEntry) and obj.to_state is not None:
            pending.append(("transition", obj.entity_type, obj.action))
        elif isinstance(obj, DocumentVersion):
            pending.append(("document", None, None))


def _count_committed(session) -> None:
    if session.in_nested_transaction():
        return  # a savepoint was released; the outer transaction may still roll back
    for kind, workflow, transition in session.info.pop(_PENDING, ()):
        if kind == "transition":
            TRANSITIONS.labels(workflow, transition).inc()
        else:
            DOCUMENTS_STORED.inc()


def _forget_pending(session, previous_transaction) -> None:
    if previous_transaction.parent is None:
        session.info.pop(_PENDING, None)


def metrics_page():
    if not _may_scrape():
        abort(404)
    return Response(generate_latest(_registry()), mimetype=CONTENT_TYPE_LATEST)


def _may_scrape() -> bool:
    token = current_app.config.get("METRICS_TOKEN")
    if token:
        offered = request.headers.get("Authorization", "").removeprefix("Bearer ").strip()
        return hmac.compare_digest(offered.encode(), token.encode())
    return request.remote_addr in LOOPBACK


def _registry():
    if os.environ.get("PROMETHEUS_MULTIPROC_DIR"):
        registry = CollectorRegistry()
        multiprocess.MultiProcessCollector(registry)
        return registry
    return REGISTRY
