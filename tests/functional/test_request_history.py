"""The request page shows the last 20 stage visits and audit entries; the history page has
all of them (a plain link, no script), and only for those who may see the request."""

from __future__ import annotations

import pytest

from tests.functional.test_page_statements import _request_in_assessment
from tests.workflow_support import make_cast, no_area_hooks  # noqa: F401 (fixture)

pytestmark = pytest.mark.usefixtures("no_area_hooks")


def _count(html: str, marker: str) -> int:
    return html.count(marker)


def test_a_long_history_is_folded_and_whole_on_the_history_page(make, as_user):
    cast = make_cast(make)
    request_id = _request_in_assessment(make, cast, 12)  # 24 suspensions and resumptions
    client = as_user(cast.agency)

    page = client.get(f"/requests/{request_id}").get_data(as_text=True)
    timeline = page.split('class="table table-sm align-middle stage-timeline"')[1].split(
        "</table>"
    )[0]
    trail = page.split('class="table table-sm align-middle audit-trail"')[1].split("</table>")[0]
    assert _count(timeline, "<tr") == 1 + 20
    assert _count(trail, "<tr") == 1 + 20
    assert f"/requests/{request_id}/history#timeline" in page
    assert f"/requests/{request_id}/history#audit" in page
    assert "Check 11." in trail and "Check 0." not in trail  # the most recent ones

    history = client.get(f"/requests/{request_id}/history")
    assert history.status_code == 200
    html = history.get_data(as_text=True)
    whole = html.split('class="table table-sm align-middle stage-timeline"')[1].split("</table>")[0]
    assert _count(whole, "<tr") > 1 + 24
    assert "Check 0." in html and "Check 11." in html


def test_a_short_history_has_no_fold(make, as_user):
    cast = make_cast(make)
    request_id = _request_in_assessment(make, cast, 1)
    page = as_user(cast.agency).get(f"/requests/{request_id}").get_data(as_text=True)
    assert "/history#" not in page


def test_the_history_page_is_for_the_parties_only(make, as_user):
    cast = make_cast(make)
    request_id = _request_in_assessment(make, cast, 1)
    assert (
        as_user(cast.other_manufacturer).get(f"/requests/{request_id}/history").status_code == 404
    )
    own = as_user(cast.manufacturer).get(f"/requests/{request_id}/history")
    assert own.status_code == 200
