"""Prometheus metrics at `/metrics`, through prometheus-client.

- `hta_http_requests_total{route,method,status}` and
  `hta_http_request_duration_seconds{route,status}`: every request, by URL rule;
- `hta_transitions_total{workflow,transition}`: workflow transitions committed (counted from
  the audit entries of committed transactions, so a rolled-back `fire` is not counted);
- `hta_documents_stored_total`: document versions committed;
- the notification email backlog, read from the database at each scrape (one statement on the
  delivery worker's own index), the same whichever worker answers:
  `hta_notifications_pending` (emails not sent yet: due, waiting for their retry or for the
  daily digest), `hta_notifications_due` (of those, the ones a worker should be sending now)
  and `hta_notifications_oldest_pending_age_seconds` (how long the longest-waiting due email
  has been due; 0 when none is). A due backlog that keeps growing, or an age past a few
  minutes, means no `flask notify run` worker is delivering. If the database does not answer,
  the scrape still returns the other metrics, without these three.

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
from prometheus_client.core import GaugeMetricFamily
from sqlalchemy import case, event, func, select
from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.orm import Session

from app.extensions import db
from app.models import AuditEntry, DocumentVersion, Notification
from app.models.types import UTCDateTime, utcnow
from app.notifications.delivery import DUE_STATUSES
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
    backlog = CollectorRegistry()
    backlog.register(NotificationBacklog())
    body = generate_latest(_registry()) + generate_latest(backlog)
    return Response(body, mimetype=CONTENT_TYPE_LATEST)


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


class NotificationBacklog:
    """The notification outbox as gauges, computed from the database when scraped (a value
    kept per worker process would be stale in every worker but the last to write it)."""

    def collect(self):
        try:
            pending, due, oldest_due_at = _backlog()
        except SQLAlchemyError:
            db.session.rollback()
            current_app.logger.warning("metrics: the notification backlog could not be read")
            return
        yield GaugeMetricFamily(
            "hta_notifications_pending",
            "Notification emails not sent yet (due, waiting to be retried or for the digest)",
            value=pending,
        )
        yield GaugeMetricFamily(
            "hta_notifications_due", "Notification emails due to be sent now", value=due
        )
        age = (utcnow() - oldest_due_at).total_seconds() if oldest_due_at is not None else 0.0
        yield GaugeMetricFamily(
            "hta_notifications_oldest_pending_age_seconds",
            "Seconds since the longest-waiting due notification email became due",
            value=max(age, 0.0),
        )


def _backlog():
    """(unsent, due now, when the longest-waiting due one became due) in one statement."""
    now = utcnow()
    is_due = Notification.email_next_at <= now
    row = db.session.execute(
        select(
            func.count(),
            func.coalesce(func.sum(case((is_due, 1), else_=0)), 0),
            func.min(case((is_due, Notification.email_next_at)), type_=UTCDateTime()),
        ).where(Notification.email_status.in_(DUE_STATUSES))
    ).one()
    return int(row[0]), int(row[1]), row[2]
