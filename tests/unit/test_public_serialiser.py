"""The public serialiser (`to_public`) and the download builders, on objects in memory.

No database: requests, stage records and recommendations are transient model instances.
"""

from __future__ import annotations

import csv
import io
import xml.etree.ElementTree as ET
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal

import pytest
from sqlalchemy.orm import configure_mappers

from app.domain.dossier_fields import CONFIDENTIAL_CAPABLE_FIELDS
from app.domain.errors import NotFound
from app.models import (
    Comparator,
    ConsultationComment,
    DeviceRequest,
    EvidenceItem,
    Organisation,
    Recommendation,
    StageRecord,
)
from app.public.exports import FeedEntry, FeedInfo, atom_bytes, csv_bytes, neutralise, rfc3339
from app.public.register import (
    PUBLIC_FIELDS,
    deadline_status,
    is_in_register,
    public_comment,
    to_public,
)

NOW = datetime(2026, 6, 1, 10, 0, tzinfo=UTC)
DAY = timedelta(days=1)

configure_mappers()


def stage(state, entered_days_ago, left_days_ago=None, due_in_days=None, request_id=1):
    entered = NOW - entered_days_ago * DAY
    return StageRecord(
        request_id=request_id,
        state=state,
        entered_at=entered,
        left_at=None if left_days_ago is None else NOW - left_days_ago * DAY,
        due_at=None if due_in_days is None else entered + due_in_days * DAY,
    )


def make_request(state="assessment", **fields) -> DeviceRequest:
    values = {
        "id": 7,
        "manufacturer": Organisation(name="Acme Medical", kind="manufacturer"),
        "state": state,
        "trade_name": "CardioValve",
        "model": "CV-1",
        "risk_class": "III",
        "emdn_code": "P0703",
        "receipt_number": "HTA-2026-00007",
        "submitted_at": NOW - 100 * DAY,
        "consent_to_publication": True,
        "confidential_fields": [],
        "intended_purpose": "Purpose text",
        "claimed_benefits": "Benefit text",
        "list_price": Decimal("1000.00"),
        "acquisition_cost": Decimal("900.00"),
        "running_costs_per_year": Decimal("100.00"),
        "budget_impact_3y": Decimal("50000.00"),
        "expected_volume_per_year": 40,
        "coi_declaration": "Private declaration",
        "ce_certificate_number": "CE-PRIVATE",
    }
    request = DeviceRequest(**(values | fields))
    request.comparators = [Comparator(position=1, description="Surgery")]
    request.evidence = [EvidenceItem(position=1, design="rct", reference="Rossi 2024")]
    return request


ADMITTED = [stage("intake_review", 100, 90, 15), stage("awaiting_prioritisation", 90, 80)]


# --- who is in the register --------------------------------------------------------------------


@pytest.mark.parametrize("state", ["draft", "intake_review", "incomplete", "inadmissible"])
def test_requests_before_admission_are_never_public(state):
    request = make_request(state)
    assert not is_in_register(request, ["intake_review"])
    with pytest.raises(NotFound):
        to_public(request, stages=[], now=NOW)


@pytest.mark.parametrize("consent", [False, None])
def test_requests_without_consent_are_never_public(consent):
    request = make_request(consent_to_publication=consent)
    with pytest.raises(NotFound):
        to_public(request, stages=ADMITTED, now=NOW)


def test_an_unsubmitted_request_is_never_public():
    with pytest.raises(NotFound):
        to_public(make_request(submitted_at=None), stages=ADMITTED, now=NOW)


@pytest.mark.parametrize("state", ["withdrawn", "suspended"])
def test_withdrawn_and_suspended_depend_on_whether_intake_was_passed(state):
    request = make_request(state)
    assert not is_in_register(request, ["intake_review", state])
    assert is_in_register(request, ["intake_review", "awaiting_prioritisation", state])


@pytest.mark.parametrize(
    "state", ["awaiting_prioritisation", "assessment", "consultation", "archived", "routed"]
)
def test_states_after_admission_are_public(state):
    assert is_in_register(make_request(state), [])


# --- the allow-list ----------------------------------------------------------------------------


def test_to_public_only_returns_allow_listed_fields():
    public = to_public(make_request(), stages=ADMITTED, now=NOW, detail=True)
    assert set(public) <= set(PUBLIC_FIELDS)
    for private in (
        "coi_declaration",
        "ce_certificate_number",
        "confidential_fields",
        "created_by",
    ):
        assert private not in public
    assert "Private declaration" not in repr(public)
    assert "CE-PRIVATE" not in repr(public)


def test_summary_leaves_the_dossier_out():
    public = to_public(make_request(), stages=ADMITTED, now=NOW)
    assert public["trade_name"] == "CardioValve"
    assert public["manufacturer"] == "Acme Medical"
    assert "intended_purpose" not in public
    assert "list_price" not in public


COMMERCIAL_FIELDS = (
    "list_price",
    "acquisition_cost",
    "running_costs_per_year",
    "budget_impact_3y",
    "expected_volume_per_year",
)


def test_commercial_figures_are_never_public():
    public = to_public(make_request(), stages=ADMITTED, now=NOW, detail=True)
    for field in COMMERCIAL_FIELDS:
        assert field not in public


@pytest.mark.parametrize(
    "field", [f for f in CONFIDENTIAL_CAPABLE_FIELDS if f not in COMMERCIAL_FIELDS]
)
def test_each_confidential_field_is_skipped(field):
    open_request = to_public(make_request(), stages=ADMITTED, now=NOW, detail=True)
    assert field in open_request  # shown when not confidential ...
    hidden = to_public(
        make_request(confidential_fields=[field]), stages=ADMITTED, now=NOW, detail=True
    )
    assert field not in hidden  # ... and gone when it is


def test_all_confidential_at_once_leaves_no_trace_of_the_values():
    request = make_request(confidential_fields=list(CONFIDENTIAL_CAPABLE_FIELDS))
    text = repr(to_public(request, stages=ADMITTED, now=NOW, detail=True))
    for value in ("Purpose text", "Benefit text", "Rossi 2024", "1000.00", "50000.00"):
        assert value not in text


# --- the recommendation ------------------------------------------------------------------------


def with_recommendation(state, published):
    request = make_request(state)
    request.recommendation = Recommendation(
        outcome="recommended",
        rationale="Rationale",
        published_at=NOW - DAY if published else None,
    )
    return request


def test_an_unpublished_recommendation_is_private_outside_consultation():
    public = to_public(with_recommendation("appraisal", False), stages=ADMITTED, now=NOW)
    assert public["recommendation"] is None


def test_the_draft_is_public_during_consultation():
    public = to_public(with_recommendation("consultation", False), stages=ADMITTED, now=NOW)
    assert public["recommendation"]["status"] == "draft"
    assert public["recommendation"]["rationale"] == "Rationale"


def test_a_published_recommendation_is_public():
    public = to_public(with_recommendation("adoption_monitoring", True), stages=ADMITTED, now=NOW)
    assert public["recommendation"]["status"] == "published"
    assert public["recommendation"]["outcome_label"] == "Recommended"


# --- stage timing ------------------------------------------------------------------------------


def test_deadline_status_of_finished_and_open_stages():
    assert deadline_status(stage("assessment", 100, 50, 90), NOW) == "met"
    assert deadline_status(stage("assessment", 100, 5, 90), NOW) == "missed"
    assert deadline_status(stage("assessment", 10, None, 90), NOW) == "on_track"
    assert deadline_status(stage("assessment", 100, None, 90), NOW) == "overdue"
    assert deadline_status(stage("awaiting_prioritisation", 10), NOW) is None


def test_timeline_days_in_stage_and_deadline_counts():
    stages = [
        stage("draft", 120, 100),
        stage("intake_review", 100, 90, 15),
        stage("awaiting_prioritisation", 90, 80),
        stage("prioritisation", 80, 20, 30),
        stage("assignment", 20, None, 15),
    ]
    public = to_public(make_request("assignment"), stages=stages, now=NOW)
    assert [row["state"] for row in public["timeline"]] == [
        "intake_review",
        "awaiting_prioritisation",
        "prioritisation",
        "assignment",
    ]
    assert public["days_in_stage"] == 20.0
    assert public["current_deadline"] == "overdue"
    assert public["deadlines_met"] == 1
    assert public["deadlines_missed"] == 2


def test_terminal_stage_has_no_days_in_stage():
    stages = [*ADMITTED, stage("withdrawn", 10)]
    public = to_public(make_request("withdrawn"), stages=stages, now=NOW)
    assert public["days_in_stage"] is None
    assert public["timeline"][-1]["days"] is None


# --- comments and documents --------------------------------------------------------------------


def test_public_comment_never_carries_the_email():
    comment = ConsultationComment(
        id=1,
        request_id=7,
        author_name="",
        author_email="private@example.org",
        text="Text",
        status="published",
        created_at=NOW,
        answer="",
    )
    public = public_comment(comment)
    assert "author_email" not in public
    assert "private@example.org" not in repr(public)


@pytest.mark.parametrize("status", ["pending", "rejected"])
def test_unpublished_comments_are_never_public(status):
    comment = ConsultationComment(id=1, request_id=7, text="Text", status=status)
    with pytest.raises(NotFound):
        public_comment(comment)


# --- CSV and Atom builders ---------------------------------------------------------------------


@pytest.mark.parametrize("text", ["=1+1", "+39 02", "-2", "@SUM(A1)", "\tx", "\rx"])
def test_formula_cells_are_neutralised(text):
    assert neutralise(text) == "'" + text


def test_csv_bytes_have_a_bom_and_round_trip():
    body = csv_bytes(["Device", "Submitted"], [['Città, "Valve"', date(2026, 3, 1)], ["=x", None]])
    assert body.startswith(b"\xef\xbb\xbf")
    rows = list(csv.reader(io.StringIO(body.decode("utf-8-sig"))))
    assert rows == [["Device", "Submitted"], ['Città, "Valve"', "2026-03-01"], ["'=x", ""]]


def test_rfc3339_is_utc_with_z():
    rome = datetime(2026, 3, 1, 10, 30, tzinfo=UTC).astimezone()
    assert rfc3339(rome) == "2026-03-01T10:30:00Z"
    with pytest.raises(ValueError):
        rfc3339(datetime(2026, 3, 1))


def test_atom_escapes_text_and_is_well_formed():
    info = FeedInfo(
        id="https://example.org/register/feed.atom",
        title="Feed & <title>",
        subtitle="Sub",
        self_url="https://example.org/register/feed.atom?a=1&b=2",
        alternate_url="https://example.org/register/",
        author="Agency",
        updated=NOW,
    )
    entry = FeedEntry(
        id="https://example.org/register/1#recommendation",
        title='Valve <b>"X"</b> & co',
        link="https://example.org/register/1",
        published=NOW,
        updated=NOW,
        summary="a < b & c",
    )
    body = atom_bytes(info, [entry])
    feed = ET.fromstring(body)  # noqa: S314 (our own output)
    ns = "{http://www.w3.org/2005/Atom}"
    assert feed.find(f"{ns}title").text == "Feed & <title>"
    assert feed.find(f"{ns}entry/{ns}title").text == 'Valve <b>"X"</b> & co'
    assert feed.find(f"{ns}entry/{ns}summary").text == "a < b & c"
    assert feed.find(f"{ns}updated").text == "2026-06-01T10:00:00Z"
    assert feed.get("{http://www.w3.org/XML/1998/namespace}lang") == "it"
    assert b"<b>" not in body


@pytest.mark.parametrize("left", [None, NOW - 2 * DAY, NOW - DAY / 3])
@pytest.mark.parametrize("due", [None, NOW - 3 * DAY, NOW - DAY, NOW + DAY])
@pytest.mark.parametrize("entered", [NOW - 9.96 * DAY, NOW - 4.05 * DAY, NOW + DAY])
def test_a_public_stage_shows_stage_timings_gross_days_and_lateness(entered, due, left):
    from app.domain.deadlines import stage_timing
    from app.public.register import gross_days_and_late

    timing = stage_timing("appraisal", entered, left, due, NOW)
    assert gross_days_and_late(entered, left, due, NOW) == (timing.gross_days, timing.late)
