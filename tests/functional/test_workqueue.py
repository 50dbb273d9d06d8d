"""The work queue: what needs my action, per role, soonest due first, overdue rows
highlighted, filterable, paginated, and at a constant number of SQL statements."""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta

import pytest

from app.extensions import db
from app.models import Adoption, DeviceRequest, StageRecord
from app.workflow.states import CLOCK_STOP_STATES
from app.workqueue.queries import deadline_status
from tests.page_support import post_action
from tests.statement_support import counting_statements
from tests.workflow_support import make_cast

NOW = datetime.now(UTC)


@pytest.fixture
def cast(make):
    """The usual cast (tests.workflow_support.make_cast) as a dict: cast["agency"] ..."""
    people = vars(make_cast(make))
    db.session.commit()
    return people


def in_state(make, cast, state, *, name=None, due_in=None, entered_ago=10, body=None, org=None):
    """A request in `state` with its open stage (test set-up; no action is taken)."""
    request = make.request(
        manufacturer=org or cast["manufacturer_org"], trade_name=name or f"Device {state}"
    )
    request.state = state
    if body is not None:
        request.assigned_body_id = body.id
    if state != "draft":
        db.session.add(
            StageRecord(
                request_id=request.id,
                state=state,
                entered_at=NOW - timedelta(days=entered_ago),
                due_at=None if due_in is None else NOW + timedelta(days=due_in),
                clock_stopped=state in CLOCK_STOP_STATES,
            )
        )
    db.session.commit()
    return request


def queue_names(client, query: str = "") -> list[str]:
    page = client.get(f"/work/{query}").get_data(as_text=True)
    return re.findall(r'<a href="/(?:requests|adoptions)/\d+">([^<]+)</a>', page)


def queue_rows(client, query: str = "") -> list[tuple[str, str]]:
    """(row class, device name) of each queue row."""
    page = client.get(f"/work/{query}").get_data(as_text=True)
    body = page.split("<tbody>")[1].split("</tbody>")[0]
    return re.findall(
        r'<tr class="([^"]*)" data-request-id="\d+">\s*<td>\s*<a href="[^"]+">([^<]+)</a>', body
    )


def test_agency_sees_the_stages_it_acts_in(cast, make, as_user):
    for state in ("draft", "intake_review", "incomplete", "assessment", "consultation"):
        in_state(make, cast, state, body=cast["body"])
    names = queue_names(as_user(cast["agency"]))
    assert sorted(names) == ["Device consultation", "Device intake_review"]


def test_manufacturer_sees_its_own_requests_waiting_for_it(cast, make, as_user):
    for state in ("draft", "intake_review", "incomplete", "information_requested"):
        in_state(make, cast, state)
    in_state(make, cast, "incomplete", name="Competitor device", org=make.org("manufacturer"))
    names = queue_names(as_user(cast["manufacturer"]))
    assert sorted(names) == ["Device draft", "Device incomplete", "Device information_requested"]


def test_assessor_sees_its_bodys_work_and_the_report_once_comments_are_back(cast, make, as_user):
    for state in ("assignment", "assessment", "appraisal"):
        in_state(make, cast, state, body=cast["body"])
    in_state(make, cast, "assessment", name="Other body's device", body=make.org("regional_body"))
    report = in_state(make, cast, "factual_accuracy_check", name="Draft report", body=cast["body"])
    assessor = as_user(cast["assessor"])
    manufacturer = as_user(cast["manufacturer"])
    assert sorted(queue_names(assessor)) == ["Device assessment", "Device assignment"]
    assert "Draft report" in queue_names(manufacturer)

    response = post_action(
        manufacturer,
        report,
        "return_factual_comments",
        comments="Table 2: the follow-up is 24 months.",
    )
    assert response.status_code == 302

    assert "Draft report" in queue_names(assessor)
    assert "Draft report" not in queue_names(manufacturer)


def test_irccs_sees_its_open_adoption_records(cast, make, as_user):
    other_irccs = make.org("irccs")
    for n, state in enumerate(("not_started", "in_use", "declined", "discontinued")):
        request = in_state(make, cast, "adoption_monitoring", name=f"Device {state}")
        db.session.add(Adoption(request_id=request.id, irccs_id=cast["irccs_org"].id, state=state))
        if n == 0:
            db.session.add(Adoption(request_id=request.id, irccs_id=other_irccs.id))
    db.session.commit()
    page = as_user(cast["irccs"]).get("/work/").get_data(as_text=True)
    names = re.findall(r'<a href="/adoptions/\d+">([^<]+)</a>', page)
    assert sorted(names) == ["Device in_use", "Device not_started"]


def test_rows_are_sorted_by_due_date_with_overdue_and_near_due_highlighted(cast, make, as_user):
    in_state(make, cast, "intake_review", name="No deadline")
    in_state(make, cast, "intake_review", name="Due in ten days", due_in=10, entered_ago=5)
    in_state(make, cast, "intake_review", name="Overdue", due_in=-3, entered_ago=20)
    in_state(make, cast, "intake_review", name="Due tomorrow", due_in=1, entered_ago=14)

    rows = queue_rows(as_user(cast["agency"]))

    assert rows == [
        ("table-overdue", "Overdue"),
        ("table-neardue", "Due tomorrow"),
        ("", "Due in ten days"),
        ("", "No deadline"),
    ]


def test_filters_by_state_overdue_and_text(cast, make, as_user):
    in_state(make, cast, "intake_review", name="CardioValve", due_in=-1)
    in_state(make, cast, "intake_review", name="NeuroStim", due_in=5)
    in_state(make, cast, "appraisal", name="CardioPatch", due_in=5)
    agency = as_user(cast["agency"])

    assert sorted(queue_names(agency, "?state=intake_review")) == ["CardioValve", "NeuroStim"]
    assert queue_names(agency, "?overdue=1") == ["CardioValve"]
    assert sorted(queue_names(agency, "?q=cardio")) == ["CardioPatch", "CardioValve"]
    assert queue_names(agency, "?q=cardio&state=appraisal") == ["CardioPatch"]
    page = agency.get("/work/?q=nothing-like-this").get_data(as_text=True)
    assert "Nothing matches these filters." in page


def test_pagination(app, cast, make, as_user):
    app.config["PAGE_SIZE"] = 2
    for day in range(5):
        in_state(make, cast, "intake_review", name=f"Device due in {day + 1}", due_in=day + 1)
    agency = as_user(cast["agency"])

    first = agency.get("/work/").get_data(as_text=True)
    assert "Page 1 of 3" in first
    assert queue_names(agency) == ["Device due in 1", "Device due in 2"]
    assert queue_names(agency, "?page=3") == ["Device due in 5"]
    assert queue_names(agency, "?page=99") == ["Device due in 5"]  # past the end: last page


def statements_for_queue(client, rows: int) -> int:
    """SQL statements of one queue page showing `rows` rows, from a fresh session."""
    db.session.expire_all()  # nothing cached from the set-up: every load is counted
    with counting_statements() as statements:
        response = client.get("/work/")
    assert response.status_code == 200
    assert response.get_data(as_text=True).count("data-request-id=") == rows
    return len(statements)


@pytest.mark.parametrize("role", ["agency", "assessor", "manufacturer"])
def test_the_queue_costs_the_same_statements_for_3_or_30_rows(app, cast, make, as_user, role):
    app.config["PAGE_SIZE"] = 50
    client = as_user(cast[role])
    state = {"agency": "intake_review", "assessor": "assessment", "manufacturer": "incomplete"}
    manufacturers = [make.org("manufacturer", name=f"Maker {n}") for n in range(30)]

    def add(n):
        for i in range(n):
            in_state(make, cast, state[role], body=cast["body"], due_in=i)
            # Each row has its own manufacturer for the agency and assessor (lazy loads show).
            if role != "manufacturer":
                request = db.session.scalars(
                    db.select(DeviceRequest).order_by(DeviceRequest.id.desc()).limit(1)
                ).one()
                request.manufacturer_id = manufacturers[i].id
        db.session.commit()

    add(3)
    with_3 = statements_for_queue(client, 3)
    add(27)
    assert statements_for_queue(client, 30) == with_3


def test_the_irccs_queue_costs_the_same_statements_for_3_or_30_rows(app, cast, make, as_user):
    app.config["PAGE_SIZE"] = 50
    client = as_user(cast["irccs"])

    def add(n):
        for _ in range(n):
            maker = make.org("manufacturer")
            request = in_state(make, cast, "adoption_monitoring", org=maker)
            db.session.add(Adoption(request_id=request.id, irccs_id=cast["irccs_org"].id))
        db.session.commit()

    add(3)
    with_3 = statements_for_queue(client, 3)
    add(27)
    assert statements_for_queue(client, 30) == with_3


def test_deadline_status_in_the_last_fifth_is_near_due():
    entered = datetime(2026, 1, 1, tzinfo=UTC)
    due = entered + timedelta(days=10)
    assert deadline_status(entered, None, entered) is None
    assert deadline_status(entered, due, entered + timedelta(days=7)) == "on_time"
    assert deadline_status(entered, due, entered + timedelta(days=8)) == "near_due"
    assert deadline_status(entered, due, due) == "near_due"
    assert deadline_status(entered, due, due + timedelta(seconds=1)) == "overdue"


@pytest.mark.parametrize("role", ["manufacturer", "agency", "assessor", "irccs"])
def test_the_workflow_page_draws_the_three_machines_for_any_user(cast, as_user, role):
    page = as_user(cast[role]).get("/work/workflow").get_data(as_text=True)
    assert page.count('<pre class="mermaid') == 3
    assert "stateDiagram-v2" in page
    assert "draft --&gt; intake_review : submit (manufacturer)" in page
    assert "not_started --&gt; local_evaluation : start_evaluation (irccs)" in page
    assert "requested --&gt; under_evaluation : start_tariff_evaluation (assessor)" in page
    assert "/static/vendor/mermaid/mermaid.min.js" in page
    # Nothing is loaded from a CDN or any other host (a nonce may spell "cdn": only addresses).
    assert not re.search(r'<script[^>]+src="(?:https?:)?//', page)
    assert not re.search(r'(?:src|href)="[^"]*cdn', page, re.IGNORECASE)
    # The tables list each action with its roles, reason and data.
    assert 'data-trigger="mark_incomplete"' in page
    assert "Missing items" in page


def test_the_workflow_page_needs_a_login(client):
    response = client.get("/work/workflow")
    assert response.status_code == 302
    assert "/auth/login" in response.headers["Location"]


def test_the_agency_queue_index_covers_exactly_the_agency_queue_states():
    """The partial index the agency's queue reads is written out in its migration: a state
    added to the agency's queue needs a new migration of the index, or the queue would be read
    through an index that misses it (and the database would fall back to a slower plan)."""
    import importlib.util
    import re
    from pathlib import Path

    from app.workqueue.queries import AGENCY_QUEUE_STATES

    path = Path(__file__).parents[2] / "migrations/versions/e5b9c3a71f20_page_indexes.py"
    spec = importlib.util.spec_from_file_location("page_indexes", path)
    migration = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(migration)
    written = set(re.findall(r"'(\w+)'", str(migration.AGENCY_QUEUE)))
    assert written == set(AGENCY_QUEUE_STATES)


def test_kept_queue_statements_never_serve_one_reader_s_rows_to_another(cast, make, as_user):
    """The queue's SELECTs are kept per reader and filters: after each reader has filled
    them, every reader still sees only its own rows, and a change shows at once."""
    rival_org = make.org("manufacturer")
    rival = make.user("manufacturer", organisation=rival_org)
    other_body = make.org("regional_body")
    other_assessor = make.user("assessor", organisation=other_body)
    in_state(make, cast, "incomplete", name="Mine")
    in_state(make, cast, "incomplete", name="Theirs", org=rival_org)
    in_state(make, cast, "assessment", name="Our body", body=cast["body"])
    in_state(make, cast, "assessment", name="Other body", body=other_body)
    db.session.commit()
    readers = {
        "maker": (as_user(cast["manufacturer"]), ["Mine"]),
        "rival": (as_user(rival), ["Theirs"]),
        "assessor": (as_user(cast["assessor"]), ["Our body"]),
        "other": (as_user(other_assessor), ["Other body"]),
    }
    for _round in range(2):
        for client, expected in readers.values():
            assert queue_names(client) == expected
            assert queue_names(client, "?q=the") == [n for n in expected if "the" in n.lower()]
    later = in_state(make, cast, "incomplete", name="Mine too")
    assert sorted(queue_names(readers["maker"][0])) == ["Mine", "Mine too"]
    later.state = "intake_review"
    db.session.commit()
    assert queue_names(readers["maker"][0]) == ["Mine"]
    assert queue_names(readers["rival"][0]) == ["Theirs"]
