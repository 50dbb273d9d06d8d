"""The register's and the requests list's kept parts (`layout_fragment`) and kept labels, seen
by several readers in one process: each sees what their own page says, in their language,
with their filters, and nothing kept for another reader.

(tests/functional/test_list_pages_render.py compares kept and fresh pages one reader at a time;
these mix readers, languages and filters in one process.)
"""

from __future__ import annotations

import re

from app.extensions import db
from app.templating import LAYOUT_FRAGMENTS
from tests.assessment_support import request_in

MODERATE = "Moderate consultation comments"


def _language(client, code: str) -> None:
    with client.session_transaction() as session:
        session["lang"] = code


def _selected(page: str, name: str) -> list[str]:
    """The values of the options selected in the <select> called `name`."""
    select = re.search(rf'<select[^>]*name="{name}"[^>]*>(.*?)</select>', page, re.S).group(1)
    return re.findall(r'<option value="([^"]*)" selected>', select)


def _text(client, url: str) -> str:
    response = client.get(url)
    assert response.status_code == 200, url
    return response.get_data(as_text=True)


def test_register_parts_follow_the_reader_the_language_and_the_filters(app, make, cast, as_user):
    request_in(make, cast, "consultation", trade_name="Kept Register Row")
    app.extensions.pop(LAYOUT_FRAGMENTS, None)
    public, agency = app.test_client(), as_user(cast.agency)
    for client in (public, agency):
        _language(client, "en")

    assert MODERATE not in _text(public, "/register/")
    assert MODERATE in _text(agency, "/register/")  # (the tabs: only the agency moderates)
    assert MODERATE not in _text(public, "/register/")

    page = _text(public, "/register/?stage=consultation&risk_class=III")
    assert _selected(page, "stage") == ["consultation"]
    assert _selected(page, "risk_class") == ["III"]
    assert ">Clear</a>" in page
    page = _text(public, "/register/")
    assert _selected(page, "stage") == [] and _selected(page, "risk_class") == []
    assert ">Clear</a>" not in page

    _language(public, "it")
    page = _text(public, "/register/?stage=consultation")
    assert ">Cerca</button>" in page and ">Search</button>" not in page
    assert "Kept Register Row" in page
    _language(public, "en")
    assert ">Search</button>" in _text(public, "/register/?stage=consultation")


def test_requests_list_parts_follow_the_role_the_language_and_the_filter(app, make, cast, as_user):
    request_in(make, cast, "intake_review", trade_name="Kept List Row")
    app.extensions.pop(LAYOUT_FRAGMENTS, None)
    maker, agency = as_user(cast.manufacturer), as_user(cast.agency)
    for client in (maker, agency):
        _language(client, "en")

    # The state filter and the rows in each role's words (the manufacturer's differ).
    page = _text(maker, "/requests/?state=intake_review")
    assert _selected(page, "state") == ["intake_review"]
    assert page.count("Submitted: admissibility check") == 2  # the option and the row
    assert ">New request</a>" in page
    page = _text(agency, "/requests/?state=intake_review")
    assert "Submitted: admissibility check" not in page
    assert page.count("Intake review") == 2
    assert ">New request</a>" not in page
    assert "Kept List Row" in page
    page = _text(agency, "/requests/")
    assert _selected(page, "state") == []
    assert ">Clear</a>" not in page

    _language(agency, "it")
    page = _text(agency, "/requests/?state=intake_review")
    assert "Intake review" not in page and "Kept List Row" in page
    assert ">Cerca</button>" in page


def _ids_listed(page: str) -> set[int]:
    return {int(n) for n in re.findall(r'href="/requests/(\d+)"', page)}


def test_list_statements_kept_per_reader_show_each_reader_their_own_requests_as_they_are(
    app, make, cast, as_user
):
    """The list's and the API's statements are kept per reader (`Reader`): each manufacturer
    sees only their own requests, an assessor's new conflict hides a request at once, and a
    reader moved to another organisation sees that organisation's."""
    from app.models import CoiDeclaration
    from tests.api_support import api_for

    other_org = make.org("manufacturer")
    rival = make.user("manufacturer", organisation=other_org)
    own = make.request(manufacturer=cast.manufacturer_org)
    theirs = make.request(manufacturer=other_org)
    assigned = request_in(make, cast, "assessment", trade_name="Assigned")
    mine, others = as_user(cast.manufacturer), as_user(rival)
    api_mine, api_others = (
        api_for(app.test_client(), cast.manufacturer),
        api_for(app.test_client(), rival),
    )

    for _ in range(2):  # (the second time from the kept statements)
        assert _ids_listed(_text(mine, "/requests/")) == {own.id, assigned.id}
        assert _ids_listed(_text(others, "/requests/")) == {theirs.id}
        assert {i["id"] for i in api_mine.get("/requests").get_json()["items"]} == {
            own.id,
            assigned.id,
        }
        assert [i["id"] for i in api_others.get("/requests").get_json()["items"]] == [theirs.id]

    assessor = as_user(cast.assessor)
    assert assigned.id in _ids_listed(_text(assessor, "/requests/"))
    db.session.add(
        CoiDeclaration(
            request_id=assigned.id, user_id=cast.assessor.id, has_conflict=True, description="x"
        )
    )
    db.session.commit()
    assert assigned.id not in _ids_listed(_text(assessor, "/requests/"))

    rival.organisation_id = cast.manufacturer_org.id
    db.session.commit()
    assert _ids_listed(_text(as_user(rival), "/requests/")) == {own.id, assigned.id}


def test_kept_table_bodies_follow_their_rows_and_the_manufacturer_column(app, make, cast, as_user):
    """The requests table's body is kept whole (`body_fragment`) by its rows and whether it
    shows the manufacturer: a renamed request shows at once, the manufacturer's own list has
    no manufacturer column, the agency's has one."""
    request = request_in(make, cast, "assessment", trade_name="Body Before")
    maker, agency = as_user(cast.manufacturer), as_user(cast.agency)
    for client in (maker, agency):
        _language(client, "en")
    organisation = cast.manufacturer_org.name
    for _ in range(2):  # (the second time from the kept bodies)
        agency_page, maker_page = _text(agency, "/requests/"), _text(maker, "/requests/")
        assert "Body Before" in agency_page and "Body Before" in maker_page
        assert f"<td>{organisation}</td>" in agency_page
        assert f"<td>{organisation}</td>" not in maker_page

    request.trade_name = "Body After"
    db.session.commit()
    for client in (maker, agency):
        page = _text(client, "/requests/")
        assert "Body After" in page and "Body Before" not in page
