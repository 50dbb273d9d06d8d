"""One JSON line per request, through the standard logging module.

The logger `hta.request` writes, at the end of every request: time, request id, user id,
method, route (the URL rule, so ids do not explode the cardinality), path, status, duration
in milliseconds, the process CPU time the request took (`cpu_ms`: what the worker itself
spent, not waiting), the number of SQL statements the request ran and the time spent in them
(`sql_ms`: from sending each statement to its rows being in, as the worker saw it). Probes
and metric scrapes (`QUIET_ENDPOINTS`) are logged at DEBUG, everything else at INFO.

The request id is the client's `X-Request-ID` when it is a sane token (a load balancer's), a
new one otherwise; it is returned in the response's `X-Request-ID` and added by
`JsonFormatter` to every log record written while the request runs, so an error logged by a
view carries it too.

Outside tests, `init_app` sends the `hta` and the app's loggers to stderr through
`JsonFormatter` (gunicorn's access log is off: this line replaces it). `LOG_LEVEL` sets
the level.
"""

from __future__ import annotations

import json
import logging
import re
import sys
import time
import uuid
from datetime import UTC, datetime

from flask import Flask, g, has_request_context, request
from sqlalchemy import event, inspect
from sqlalchemy.engine import Engine

LOGGER_NAME = "hta.request"
REQUEST_ID_HEADER = "X-Request-ID"
QUIET_ENDPOINTS = frozenset({"ops.healthz", "ops.readyz", "ops.metrics"})
_SANE_REQUEST_ID = re.compile(r"[A-Za-z0-9._:-]{1,128}")
_STANDARD_ATTRIBUTES = frozenset(vars(logging.makeLogRecord({}))) | {"message", "asctime"}

FIGURES = "request_log"  # the `g` attribute of this request's RequestFigures

log = logging.getLogger(LOGGER_NAME)


class JsonFormatter(logging.Formatter):
    """A log record as one JSON object: time (UTC, ISO 8601), level, logger, message, the
    request id when inside a request, every `extra=` field, and the traceback if any."""

    def format(self, record: logging.LogRecord) -> str:
        line = {
            "time": datetime.fromtimestamp(record.created, UTC).isoformat(timespec="milliseconds"),
            "level": record.levelname,
            "logger": record.name,
            "message": record.getMessage(),
        }
        if has_request_context() and "request_id" in g:
            line["request_id"] = g.request_id  # records written while a request runs
        for key, value in vars(record).items():
            if key not in _STANDARD_ATTRIBUTES and not key.startswith("_"):
                line[key] = value
        if record.exc_info:
            line["exception"] = self.formatException(record.exc_info)
        return json.dumps(line, default=str, ensure_ascii=False)


def init_app(app: Flask) -> None:
    if not app.testing:
        _send_logs_to_stderr(app)
    app.before_request(_start)
    app.after_request(_finish)
    _count_sql_statements()


def _send_logs_to_stderr(app: Flask) -> None:
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(JsonFormatter())
    level = str(app.config.get("LOG_LEVEL") or "INFO").upper()
    for logger in (logging.getLogger("hta"), app.logger):
        logger.handlers[:] = [handler]
        logger.setLevel(level)
        logger.propagate = False


def _count_sql_statements() -> None:
    if not event.contains(Engine, "before_cursor_execute", _count_statement):
        event.listen(Engine, "before_cursor_execute", _count_statement)
        event.listen(Engine, "after_cursor_execute", _time_statement)


class RequestFigures:
    """What the log line of one request counts, kept on `g` as one object (`g.request_log`):
    the statement hooks run for every SQL statement, and one look-up of `g` each is less
    than the four they made with a `g` attribute per figure."""

    __slots__ = ("cpu_started", "request_id", "sent", "sql_seconds", "started", "statements")

    def __init__(self, request_id: str):
        self.request_id = request_id
        self.started = time.perf_counter()
        self.cpu_started = time.process_time()
        self.statements = 0
        self.sql_seconds = 0.0
        self.sent: float | None = None  # when the statement now running was sent


def _figures() -> RequestFigures | None:
    return g.get(FIGURES) if has_request_context() else None


def _count_statement(conn, cursor, statement, parameters, context, executemany) -> None:
    figures = _figures()
    if figures is not None:
        figures.statements += 1
        figures.sent = time.perf_counter()


def _time_statement(conn, cursor, statement, parameters, context, executemany) -> None:
    # The driver has the rows by now (psycopg and sqlite3 buffer client-side cursors).
    figures = _figures()
    if figures is not None and figures.sent is not None:
        figures.sql_seconds += time.perf_counter() - figures.sent
        figures.sent = None


def request_id_from(header: str | None) -> str:
    if header and _SANE_REQUEST_ID.fullmatch(header):
        return header
    return uuid.uuid4().hex


def _start() -> None:
    request_id = request_id_from(request.headers.get(REQUEST_ID_HEADER))
    g.request_id = request_id  # (JsonFormatter adds it to every record of the request)
    g.request_log = RequestFigures(request_id)


def _finish(response):
    figures = _figures()
    response.headers[REQUEST_ID_HEADER] = figures.request_id if figures else ""
    duration_ms = elapsed_ms(figures)
    level = logging.DEBUG if request.endpoint in QUIET_ENDPOINTS else logging.INFO
    if log.isEnabledFor(level):
        log.log(
            level,
            "%s %s %s",
            request.method,
            request.path,
            response.status_code,
            extra={
                "request_id": figures.request_id if figures else None,
                "user_id": _user_id(),
                "method": request.method,
                "route": route_of_request(),
                "path": request.path,
                "status": response.status_code,
                "duration_ms": duration_ms,
                "cpu_ms": _cpu_ms(figures),
                "sql_statements": figures.statements if figures else 0,
                "sql_ms": round(figures.sql_seconds * 1000, 2) if figures else 0.0,
                "remote_addr": request.remote_addr,
            },
        )
    return response


def elapsed_ms(figures: RequestFigures | None = None) -> float | None:
    """Milliseconds since the request started (None before `_start` ran)."""
    figures = figures or _figures()
    if figures is None:
        return None
    return round((time.perf_counter() - figures.started) * 1000, 2)


def _cpu_ms(figures: RequestFigures | None) -> float | None:
    """CPU time of this worker process since the request started (sync workers serve one
    request at a time, so it is the request's)."""
    if figures is None:
        return None
    return round((time.process_time() - figures.cpu_started) * 1000, 2)


def route_of_request() -> str:
    """The matched URL rule (``/requests/<int:request_id>``), or "unmatched"."""
    rule = request.url_rule
    return rule.rule if rule is not None else "unmatched"


def _user_id() -> int | None:
    """The user the request loaded, if it loaded one (never a query of its own: after the
    commit the user is expired, and reading `user.id` would reload it, on a connection that
    may be gone by now; the identity map keeps the id)."""
    user = g.get("_login_user")
    if user is None:
        return None
    state = inspect(user, raiseerr=False)
    if state is not None and state.identity:
        return state.identity[0]
    return getattr(user, "id", None)
