"""The pages people open all day, rendered from kept layout parts and precomputed rows: what
each reader sees is exactly what the uncached pages showed, and only theirs.

- the layout's fixed parts (`layout_fragment`) give the same page as rendering them afresh,
  for every role and both languages, and never show one reader's name or menu to another;
- the bell's count, read with the user in a read-only request, follows reading;
- the requests list, the work queue and the API list format the same cells as before (the
  row presenters), and the agency's duplicate flags are reuse's;
- the register's deadline marks follow the language.
"""

from __future__ import annotations

import re

import pytest
from sqlalchemy import select

from app.assessment.reuse import duplicate_flags
from app.extensions import db
from app.models import DeviceRequest, Notification, StageRecord
from app.models.types import utcnow
from app.templating import LAYOUT_FRAGMENTS
from app.workqueue.duplicates import duplicate_counts
from tests.assessment_support import NOW, request_in
from tests.statement_support import statements_while_rendering

PAGES = ("/", "/work/", "/requests/", "/register/", "/inbox/", "/nonexistent")
PUBLIC_PAGES = ("/", "/register/", "/nonexistent")  # (no login redirect and its message)


def _without_tokens(page: str) -> str:
    # (The CSRF token's signature carries a timestamp: two renders a second apart differ.)
    return re.sub(r'(name="csrf_token"[^>]*value=")[^"]+"', r'\1X"', page)


def _language(client, code: str) -> None:
    with client.session_transaction() as session:
        session["lang"] = code


@pytest.mark.parametrize("role", ["agency", "assessor", "irccs", "manufacturer", None])
def test_kept_layout_parts_give_the_page_rendered_afresh(app, make, cast, as_user, role):
    # Rows in the register (kept per row too), one with a field its manufacturer hid.
    request_in(make, cast, "consultation", trade_name="Kept Row One")
    request_in(make, cast, "assessment", trade_name="Kept Row Two", confidential_fields=["model"])
    client = as_user(getattr(cast, role)) if role else app.test_client()
    for code in ("it", "en"):
        _language(client, code)
        for path in PAGES if role else PUBLIC_PAGES:
            app.extensions.pop(LAYOUT_FRAGMENTS, None)
            app.jinja_env.auto_reload = True  # nothing kept: every part rendered afresh
            try:
                fresh = client.get(path)
            finally:
                app.jinja_env.auto_reload = False
            client.get(path)  # fills the kept parts
            kept = client.get(path)
            assert kept.status_code == fresh.status_code
            if path == "/register/":
                assert "Kept Row One" in kept.get_data(as_text=True)
            assert _without_tokens(kept.get_data(as_text=True)) == _without_tokens(
                fresh.get_data(as_text=True)
            ), (role, code, path)


def test_each_reader_sees_their_own_name_organisation_role_and_menu(app, make, cast, as_user):
    # Two readers of the same role and organisation, then one of another role.
    colleague = make.user("assessor", organisation=cast.body, full_name="Second Reader")
    db.session.commit()
    pages = {
        user.id: as_user(user).get("/requests/").get_data(as_text=True)
        for user in (cast.assessor, colleague, cast.agency)
    }
    for user in (cast.assessor, colleague, cast.agency):
        page = pages[user.id]
        menu = re.search(r'id="user-menu">(.*?)</button>', page, re.S).group(1)
        assert user.display_name in menu
        for other in (cast.assessor, colleague, cast.agency):
            if other.display_name != user.display_name:
                assert other.display_name not in page
    assert cast.body.name in pages[colleague.id]
    assert cast.body.name not in pages[cast.agency.id]
    # The navigation is the role's: safety reports are the agency's alone.
    assert 'href="/safety/"' in pages[cast.agency.id]
    assert 'href="/safety/"' not in pages[cast.assessor.id]
    assert 'href="/admin/users"' not in pages[cast.agency.id]


def _bell(page: str) -> int:
    found = re.search(r'id="bell-count">(\d+)<', page)
    return int(found.group(1)) if found else 0


def test_the_bell_counts_unread_notifications_read_with_the_user(app, cast, as_user):
    for _n in range(3):
        db.session.add(
            Notification(
                user_id=cast.manufacturer.id,
                kind="queue_arrival",
                params={},
                created_at=utcnow(),
                email_status="pending",
                email_next_at=utcnow(),
                email_attempts=0,
                email_error="",
                urgent=_n == 0,
            )
        )
    db.session.commit()
    client = as_user(cast.manufacturer)
    assert _bell(client.get("/requests/").get_data(as_text=True)) == 3
    assert 'id="urgent-notifications"' in client.get("/").get_data(as_text=True)
    first = db.session.scalars(
        select(Notification.id).where(Notification.user_id == cast.manufacturer.id)
    ).first()
    client.get(f"/inbox/{first}")  # opening it marks it read
    page = client.get("/requests/").get_data(as_text=True)
    assert _bell(page) == 2
    assert "Notifications: 2 unread" in page or "Notifiche: 2 non lette" in page
    client.post("/inbox/read-all")
    assert _bell(client.get("/requests/").get_data(as_text=True)) == 0
    assert 'id="urgent-notifications"' not in client.get("/").get_data(as_text=True)
    # Another reader's bell is their own.
    assert _bell(as_user(cast.agency).get("/requests/").get_data(as_text=True)) == 0


def test_the_requests_list_shows_each_cell_as_before(app, make, cast, as_user):
    draft = make.request(manufacturer=cast.manufacturer_org, trade_name=None, model="M-7")
    submitted = request_in(make, cast, "intake_review", trade_name="Cardio<Valve>", model="")
    db.session.commit()
    manufacturer = as_user(cast.manufacturer)
    _language(manufacturer, "en")
    page = manufacturer.get("/requests/").get_data(as_text=True)
    row = re.search(rf'href="/requests/{draft.id}">(.*?)</tr>', page, re.S).group(0)
    assert ">(untitled draft)</a>" in row and ">M-7</div>" in row
    assert '<td class="mono">—</td>' in row
    assert cast.manufacturer_org.name not in row  # no manufacturer column for itself
    row = re.search(rf'href="/requests/{submitted.id}">(.*?)</tr>', page, re.S).group(0)
    assert "Cardio&lt;Valve&gt;" in row and "text-muted" not in row.split("</a>")[1][:40]
    agency = as_user(cast.agency)
    _language(agency, "it")
    page = agency.get("/requests/").get_data(as_text=True)
    row = re.search(rf'href="/requests/{submitted.id}">(.*?)</tr>', page, re.S).group(0)
    assert f"<td>{cast.manufacturer_org.name}</td>" in row
    assert submitted.receipt_number is None or submitted.receipt_number in row
    assert f"/requests/{draft.id}" not in page  # drafts are the manufacturer's alone


def test_list_templates_run_no_sql(app, make, cast, as_user):
    request_in(make, cast, "intake_review")
    for user, path in (
        (cast.agency, "/"),
        (cast.agency, "/requests/"),
        (cast.agency, "/work/"),
        (cast.assessor, "/"),
        (cast.irccs, "/work/"),
        (cast.manufacturer, "/requests/"),
    ):
        client = as_user(user)
        with statements_while_rendering(app) as statements:
            assert client.get(path).status_code == 200
        assert statements == [], (user.role, path)


IDENTIFIERS = (
    {"basic_udi_di": "ABC-123", "udi_di": "4006381333931", "emdn_code": "P0703"},
    {"basic_udi_di": "abc-123", "udi_di": "", "emdn_code": "P0703"},  # the same basic UDI-DI
    {"basic_udi_di": "", "udi_di": "04006381333931", "emdn_code": ""},  # the GTIN-14 spelling
    {"basic_udi_di": "", "udi_di": "4006381333932", "emdn_code": "P0703"},  # bad check digit
    {"basic_udi_di": "", "udi_di": "", "emdn_code": "P0703"},  # similar, not a duplicate
    {"basic_udi_di": "XYZ", "udi_di": "", "emdn_code": ""},
)


def test_the_queue_s_duplicate_flags_are_reuse_s(app, make, cast):
    requests = [
        request_in(make, cast, "intake_review", trade_name=f"D{n}", **fields)
        for n, fields in enumerate(IDENTIFIERS)
    ]
    db.session.commit()
    rows = [(r.id, r.basic_udi_di, r.udi_di, r.emdn_code, r.manufacturer_id) for r in requests]
    expected = duplicate_flags(requests)
    assert duplicate_counts(rows) == expected
    assert expected  # (some are flagged)


def test_the_work_queue_flags_duplicates_and_formats_its_rows(app, make, cast, as_user):
    requests = [
        request_in(make, cast, "intake_review", trade_name=f"Q{n}", **fields)
        for n, fields in enumerate(IDENTIFIERS)
    ]
    for queued in requests:
        db.session.add(
            StageRecord(request_id=queued.id, state=queued.state, entered_at=NOW, due_at=NOW)
        )
    db.session.commit()
    flagged = duplicate_flags(requests)
    agency = as_user(cast.agency)
    _language(agency, "en")
    page = agency.get("/work/").get_data(as_text=True)
    for queued in requests:
        row = re.search(rf'<tr [^>]*data-request-id="{queued.id}".*?</tr>', page, re.S).group(0)
        assert ("Possible duplicate" in row) == (queued.id in flagged)
        assert f'href="/requests/{queued.id}"' in row
        assert ">Overdue<" in row and 'class="table-overdue"' in row
        assert row.count("2 Mar 2026") == 2  # since, due
        assert f"<td>{cast.manufacturer_org.name}</td>" in row


def test_the_api_list_gives_the_request_summaries(app, make, cast):
    from app.api.requests import _summaries, request_summary

    requests = [request_in(make, cast, "assessment"), request_in(make, cast, "intake_review")]
    db.session.commit()
    with app.test_request_context("/api/v1/requests"):
        for role in ("agency", "manufacturer"):
            loaded = db.session.scalars(
                select(DeviceRequest)
                .where(DeviceRequest.id.in_([r.id for r in requests]))
                .order_by(DeviceRequest.id.desc())
            ).all()
            rows = [
                (
                    r.id,
                    r.state,
                    r.trade_name,
                    r.model,
                    r.version,
                    r.receipt_number,
                    r.manufacturer.id,
                    r.manufacturer.name,
                    r.assigned_body.id if r.assigned_body else None,
                    r.assigned_body.name if r.assigned_body else None,
                    r.submitted_at,
                    r.created_at,
                    r.updated_at,
                )
                for r in loaded
            ]
            assert _summaries(rows, role) == [request_summary(r, role) for r in loaded]


def test_the_register_marks_follow_the_language(app, make, cast, client):
    request_in(make, cast, "consultation")
    db.session.commit()
    marks = {}
    for code in ("it", "en", "it"):
        _language(client, code)
        page = client.get("/register/").get_data(as_text=True)
        marks.setdefault(code, []).append(re.findall(r'deadline-marks">(.*?)</ul>', page, re.S))
    assert marks["it"][0] == marks["it"][1]
    assert marks["it"][0] != marks["en"][0] or not any(marks["it"][0])
