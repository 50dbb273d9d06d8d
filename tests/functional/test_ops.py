"""Operations endpoints and signals: `/healthz` and `/readyz` for the load balancer, one JSON
log line per request (with the request id returned to the client), and Prometheus metrics at
`/metrics` for the monitoring system only."""

from __future__ import annotations

import json
import logging
import subprocess
import sys
import textwrap
from datetime import UTC, datetime, timedelta

import pytest
from prometheus_client import REGISTRY, CollectorRegistry, multiprocess
from prometheus_client.parser import text_string_to_metric_families
from sqlalchemy import text

from app.core.fire import fire
from app.extensions import db
from app.models import Notification
from app.models.types import utcnow
from app.ops.request_log import LOGGER_NAME, JsonFormatter
from tests.document_support import pdf_bytes, upload
from tests.workflow_support import make_cast, walk_to
from tests.workflow_support import no_area_hooks as no_area_hooks  # a fixture


@pytest.fixture
def request_log(caplog):
    """The request log's lines, as the JSON objects the production formatter writes."""
    # `flask db stamp` (another test) runs Alembic's fileConfig, which disables existing loggers.
    logging.getLogger(LOGGER_NAME).disabled = False
    caplog.set_level(logging.DEBUG, logger=LOGGER_NAME)
    formatter = JsonFormatter()

    def lines() -> list[dict]:
        return [
            json.loads(formatter.format(record))
            for record in caplog.records
            if record.name == LOGGER_NAME
        ]

    return lines


@pytest.fixture
def stamped(app, runner):
    """The schema recorded at the migrations' head, as `flask db upgrade` leaves it."""
    result = runner.invoke(args=["db", "stamp", "head"])
    assert result.exit_code == 0, result.output
    yield
    db.session.rollback()
    db.session.execute(text("DROP TABLE IF EXISTS alembic_version"))
    db.session.commit()


# --- Health and readiness ---------------------------------------------------------------------


def test_healthz_answers_without_login_and_without_the_database(client, request_log):
    response = client.get("/healthz")

    assert response.status_code == 200
    assert response.json == {"status": "ok"}
    (line,) = request_log()
    assert line["sql_statements"] == 0
    assert line["sql_ms"] == 0
    assert line["level"] == "DEBUG"  # probes do not fill the INFO log


@pytest.mark.own_app  # `flask db stamp` writes through its own connection
def test_readyz_is_ready_when_database_schema_and_store_answer(client, stamped):
    response = client.get("/readyz")

    assert response.status_code == 200
    assert response.json == {
        "status": "ready",
        "checks": {"database": "ok", "migrations": "ok", "documents": "ok"},
    }


def test_readyz_is_not_ready_before_the_migrations_ran(client):
    response = client.get("/readyz")

    assert response.status_code == 503
    assert response.json["status"] == "not ready"
    assert response.json["checks"]["database"] == "ok"
    assert response.json["checks"]["migrations"] != "ok"


@pytest.mark.own_app  # `flask db stamp` writes through its own connection
def test_readyz_is_not_ready_when_the_document_store_is_unreachable(app, client, stamped):
    from tests.s3_support import free_port

    app.config["DOCUMENT_STORE"] = "s3://hta-documents/prod"
    app.config["S3_ENDPOINT_URL"] = f"http://127.0.0.1:{free_port()}"  # nobody listens
    app.extensions.pop("document_store", None)
    try:
        response = client.get("/readyz")
    finally:
        app.extensions.pop("document_store", None)

    assert response.status_code == 503
    assert response.json["checks"]["documents"].startswith("failed")
    assert response.json["checks"]["migrations"] == "ok"


# --- The request log --------------------------------------------------------------------------


def test_one_json_line_per_request_with_its_id_user_route_status_and_cost(
    make, login, client, request_log
):
    cast = make_cast(make)
    request = make.request(manufacturer=cast.manufacturer_org)
    db.session.commit()
    login(cast.manufacturer)

    response = client.get(f"/requests/{request.id}", headers={"X-Request-ID": "lb-4f2a.77"})

    assert response.status_code == 200
    assert response.headers["X-Request-ID"] == "lb-4f2a.77"
    line = request_log()[-1]
    assert line["request_id"] == "lb-4f2a.77"
    assert line["user_id"] == cast.manufacturer.id
    assert line["route"] == "/requests/<int:request_id>"
    assert line["path"] == f"/requests/{request.id}"
    assert (line["method"], line["status"], line["level"]) == ("GET", 200, "INFO")
    assert line["duration_ms"] > 0
    assert line["sql_statements"] > 0
    assert 0 < line["sql_ms"] <= line["duration_ms"]
    assert line["cpu_ms"] > 0
    datetime.fromisoformat(line["time"])


def test_a_request_without_a_usable_id_gets_a_new_one(client, request_log):
    first = client.get("/healthz")
    second = client.get("/healthz", headers={"X-Request-ID": "<script>" + "x" * 200})

    ids = [first.headers["X-Request-ID"], second.headers["X-Request-ID"]]
    assert all(len(value) == 32 for value in ids) and ids[0] != ids[1]
    assert [line["request_id"] for line in request_log()] == ids


# --- Metrics ----------------------------------------------------------------------------------


def samples(body: str) -> dict[tuple, float]:
    found = {}
    for family in text_string_to_metric_families(body):
        for sample in family.samples:
            found[(sample.name, tuple(sorted(sample.labels.items())))] = sample.value
    return found


def test_metrics_count_requests_by_route_and_status_for_loopback_scrapers(client):
    client.get("/healthz")
    client.get("/no-such-page")

    response = client.get("/metrics")

    assert response.status_code == 200
    found = samples(response.get_data(as_text=True))
    healthz = (("method", "GET"), ("route", "/healthz"), ("status", "200"))
    assert found[("hta_http_requests_total", healthz)] >= 1
    unmatched = (("method", "GET"), ("route", "unmatched"), ("status", "404"))
    assert found[("hta_http_requests_total", unmatched)] >= 1
    latency = (("route", "/healthz"), ("status", "200"))
    assert found[("hta_http_request_duration_seconds_count", latency)] >= 1


def test_metrics_are_hidden_from_other_networks_without_the_token(app, client):
    outside = {"REMOTE_ADDR": "203.0.113.9"}
    assert client.get("/metrics", environ_base=outside).status_code == 404

    app.config["METRICS_TOKEN"] = "s3cret-scraper-token"
    assert client.get("/metrics", environ_base=outside).status_code == 404
    assert client.get("/metrics").status_code == 404  # loopback needs the token too now
    wrong = {"Authorization": "Bearer guessed"}
    assert client.get("/metrics", headers=wrong, environ_base=outside).status_code == 404
    right = {"Authorization": "Bearer s3cret-scraper-token"}
    assert client.get("/metrics", headers=right, environ_base=outside).status_code == 200


def test_metrics_show_the_notification_email_backlog(client, make):
    """Unsent emails (due now, waiting for a retry, waiting for the digest), how many are due,
    and how long the longest-waiting due one has been due; sent ones are not backlog."""
    empty = samples(client.get("/metrics").get_data(as_text=True))
    assert empty[("hta_notifications_pending", ())] == 0
    assert empty[("hta_notifications_oldest_pending_age_seconds", ())] == 0

    user = make.user("manufacturer")
    now = utcnow()
    waiting = {
        "pending": [now - timedelta(minutes=10), now + timedelta(hours=1)],  # due; a retry
        "digest": [now - timedelta(minutes=1)],
        "sent": [now - timedelta(hours=2)],
        "failed": [now - timedelta(hours=3)],
    }
    for status, moments in waiting.items():
        for moment in moments:
            db.session.add(
                Notification(
                    user_id=user.id,
                    kind="request_submitted",
                    email_status=status,
                    email_next_at=moment,
                    created_at=moment,
                )
            )
    db.session.flush()

    found = samples(client.get("/metrics").get_data(as_text=True))

    assert found[("hta_notifications_pending", ())] == 3
    assert found[("hta_notifications_due", ())] == 2
    assert 600 <= found[("hta_notifications_oldest_pending_age_seconds", ())] < 660


INCOMPLETE = {"reason": "Missing studies.", "missing_items": ["IFU"]}


def transitions_counted(workflow: str, transition: str) -> float:
    value = REGISTRY.get_sample_value(
        "hta_transitions_total", {"workflow": workflow, "transition": transition}
    )
    return value or 0.0


def test_committed_transitions_and_documents_are_counted_rolled_back_ones_are_not(
    app, make, no_area_hooks
):
    cast = make_cast(make)
    request = make.request(manufacturer=cast.manufacturer_org, complete=True)
    moment = walk_to(request, "intake_review", cast, start=datetime(2026, 3, 2, 9, tzinfo=UTC))
    db.session.commit()
    before = transitions_counted("request", "mark_incomplete")
    documents_before = REGISTRY.get_sample_value("hta_documents_stored_total")

    fire(request, "mark_incomplete", cast.agency, moment, **INCOMPLETE)
    db.session.rollback()
    assert transitions_counted("request", "mark_incomplete") == before

    request = db.session.get(type(request), request.id)
    fire(request, "mark_incomplete", cast.agency, moment, **INCOMPLETE)
    db.session.commit()
    assert transitions_counted("request", "mark_incomplete") == before + 1

    upload(cast.manufacturer, request, "other", pdf_bytes("annex"), title="Annex")
    db.session.commit()
    assert REGISTRY.get_sample_value("hta_documents_stored_total") == documents_before + 1


def test_metrics_of_several_worker_processes_add_up(tmp_path):
    """Under gunicorn (PROMETHEUS_MULTIPROC_DIR set) each worker writes its own values and the
    scrape adds them up: two processes answering three requests each count six."""
    metrics_dir = tmp_path / "metrics"
    metrics_dir.mkdir()
    worker = textwrap.dedent(
        f"""
        from app import create_app
        app = create_app("testing", {{"INSTANCE_DIR": {str(tmp_path / "instance")!r}}})
        client = app.test_client()
        for _ in range(3):
            assert client.get("/healthz").status_code == 200
        """
    )
    env = {"PROMETHEUS_MULTIPROC_DIR": str(metrics_dir), "PATH": "/usr/bin:/bin"}
    for _ in range(2):
        subprocess.run([sys.executable, "-c", worker], check=True, env=env, timeout=120)

    registry = CollectorRegistry()
    multiprocess.MultiProcessCollector(registry, path=str(metrics_dir))
    labels = {"route": "/healthz", "method": "GET", "status": "200"}
    assert registry.get_sample_value("hta_http_requests_total", labels) == 6
