"""The register list's kept summaries (`register.SUMMARIES`) and kept table body: what a
reader of the list would notice if a kept row were stale.

- a row kept at one moment shows, later, the days in stage and the lateness of that later
  moment (and equals a summary made afresh then);
- a change of the request, of its stage records or of its confidential marks shows at once;
- a row kept in one language is not shown in the other;
- the request's own page shows its stage moments in UTC (the list reads them as the
  database gives them).
"""

from __future__ import annotations

from datetime import UTC, timedelta

from flask_babel import force_locale

from app.core.kept import clear_all
from app.extensions import db
from app.models import StageRecord
from app.models.types import utcnow
from app.public import register
from tests.functional.test_public_register import (
    add_stage,
    fresh,
    page,
    public_request,
    set_language,
)


def _rows(app, now, locale="en") -> dict[int, dict]:
    with app.test_request_context(), force_locale(locale):
        _, rows = register.list_register(register.RegisterFilters(), page=1, per_page=25, now=now)
    return {row["id"]: row for row in rows}


def _fresh_rows(app, now, locale="en") -> dict[int, dict]:
    """The same summaries made afresh (nothing kept)."""
    clear_all()
    return _rows(app, now, locale)


def test_a_kept_row_shows_the_days_and_lateness_of_the_moment_it_is_read(app, make):
    request = public_request(make, "assignment")  # (entered 5 days ago; 15 days to go)
    fresh()
    now = utcnow()
    early = _rows(app, now)[request.id]
    assert (early["days_in_stage"], early["current_deadline"]) == (5.0, "on_track")
    later = now + timedelta(days=30)
    kept_late = _rows(app, later)[request.id]
    assert (kept_late["days_in_stage"], kept_late["current_deadline"]) == (35.0, "overdue")
    assert kept_late == _fresh_rows(app, later)[request.id]
    assert _rows(app, now)[request.id] == early  # (and back: each moment its own row)


def test_a_change_of_the_request_its_stages_or_its_marks_shows_at_once(app, make):
    request = public_request(make, "assessment", trade_name="Before")
    fresh()
    now = utcnow()
    assert _rows(app, now)[request.id]["trade_name"] == "Before"

    request.trade_name = "After"
    fresh()
    assert _rows(app, now)[request.id]["trade_name"] == "After"

    request.confidential_fields = ["model"]
    fresh()
    assert "model" not in _rows(app, now)[request.id]

    open_stage = db.session.scalars(
        db.select(StageRecord).where(
            StageRecord.request_id == request.id, StageRecord.left_at.is_(None)
        )
    ).one()
    open_stage.left_at = now - timedelta(days=1)
    request.state = "factual_accuracy_check"
    add_stage(request, "factual_accuracy_check", now - timedelta(days=1))
    fresh()
    row = _rows(app, now)[request.id]
    assert row["state"] == "factual_accuracy_check" and row["days_in_stage"] == 1.0
    assert row == _fresh_rows(app, now)[request.id]


def test_a_row_kept_in_one_language_is_not_shown_in_the_other(app, make):
    request = public_request(make, "assessment")
    fresh()
    now = utcnow()
    english = _rows(app, now, "en")[request.id]
    italian = _rows(app, now, "it")[request.id]
    assert english["stage_label"] != italian["stage_label"]
    assert italian == _fresh_rows(app, now, "it")[request.id]


def test_the_kept_table_body_follows_the_rows_and_the_language(app, client, make):
    request = public_request(make, "assessment", trade_name="Body Kept Device")
    set_language(client, "en")
    assert "Body Kept Device" in page(client, "/register/")
    request.trade_name = "Body Changed Device"
    html = page(client, "/register/")
    assert "Body Changed Device" in html and "Body Kept Device" not in html
    with app.test_request_context():
        with force_locale("en"):
            english_label = register.public_state_label("assessment")
        with force_locale("it"):
            italian_label = register.public_state_label("assessment")
    assert english_label != italian_label and english_label in html
    set_language(client, "it")
    italian = page(client, "/register/")
    assert italian_label in italian and english_label not in italian


def test_the_request_page_shows_its_stage_moments_in_utc(app, make):
    request = public_request(make, "assessment")
    fresh()
    with app.test_request_context():
        public = register.get_public_request(request.id, now=utcnow())
    moments = [
        stage[name]
        for stage in public["timeline"]
        for name in ("entered_at", "left_at", "due_at")
        if stage[name] is not None
    ]
    assert moments and all(moment.tzinfo is UTC for moment in moments)
