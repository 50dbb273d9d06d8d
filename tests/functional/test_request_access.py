"""Who sees which request: another organisation's request is a 404 on every URL.

The URLs are read from the app's URL map, so a page another area adds under a request
(anything routed under /requests/<request_id>) is covered without touching this test. The
public register (/register/...) is public by design and tested where it lives.
"""

from __future__ import annotations

import re

import pytest

from app.extensions import db
from app.models import CoiDeclaration, Recommendation

IGNORED_METHODS = {"HEAD", "OPTIONS"}


def request_urls(app, request_id: int) -> list[tuple[str, str]]:
    """(method, url) for every page of a request; other arguments filled with 1 or "x"."""
    urls = []
    for rule in app.url_map.iter_rules():
        if "request_id" not in rule.arguments or not rule.rule.startswith("/requests/"):
            continue
        values = dict.fromkeys(rule.arguments, 1) | {"request_id": request_id}
        values = {
            name: ("x" if not _is_int_argument(rule, name) else value)
            for name, value in values.items()
        }
        url = rule.build(values, append_unknown=False)[1]
        urls += [(method, url) for method in sorted(rule.methods - IGNORED_METHODS)]
    return urls


def _is_int_argument(rule, name: str) -> bool:
    return bool(re.search(rf"<int:{name}>", rule.rule))


def test_the_request_urls_include_the_dossier_pages(app):
    urls = request_urls(app, 7)
    assert ("GET", "/requests/7") in urls
    assert ("GET", "/requests/7/edit") in urls
    assert ("POST", "/requests/7/edit") in urls


@pytest.mark.parametrize("state", ["draft", "intake_review", "incomplete", "assessment"])
def test_another_manufacturer_gets_404_on_every_url(app, client, make, login, state):
    mine = make.user("manufacturer")
    theirs = make.request(complete=True, state=state)
    db.session.commit()
    login(mine)
    for method, url in request_urls(app, theirs.id):
        response = client.open(url, method=method, data={"trade_name": "Hijacked"})
        assert response.status_code == 404, (method, url, response.status_code)
    db.session.expire_all()
    assert theirs.trade_name == "CardioValve X"
    assert theirs.state == state


def test_a_request_that_does_not_exist_is_a_404_too(app, client, make, login):
    login(make.user("manufacturer"))
    assert client.get("/requests/999999").status_code == 404
    assert client.get("/requests/999999/edit").status_code == 404


def test_anonymous_visitors_are_sent_to_log_in_on_every_url(app, client, make):
    draft = make.request()
    db.session.commit()
    for method, url in request_urls(app, draft.id):
        response = client.open(url, method=method)
        assert response.status_code in (302, 401), (method, url, response.status_code)
        if response.status_code == 302:
            assert "/auth/login" in response.headers["Location"]


def test_the_owner_sees_its_request(client, make, login):
    owner = make.user("manufacturer")
    draft = make.request(manufacturer=owner.organisation, trade_name="OwnDevice")
    db.session.commit()
    login(owner)
    assert client.get(f"/requests/{draft.id}").status_code == 200
    assert client.get(f"/requests/{draft.id}/edit").status_code == 200
    assert "OwnDevice" in client.get("/requests/").get_data(as_text=True)


def test_a_colleague_of_the_same_manufacturer_sees_and_edits_it(client, make, login):
    owner = make.user("manufacturer")
    colleague = make.user("manufacturer", organisation=owner.organisation)
    draft = make.request(manufacturer=owner.organisation)
    db.session.commit()
    login(colleague)
    assert client.get(f"/requests/{draft.id}/edit").status_code == 200


def test_the_agency_sees_submitted_requests_but_not_drafts(client, make, login):
    agency = make.user("agency")
    draft = make.request(trade_name="SecretDraft")
    submitted = make.request(trade_name="SubmittedDevice", state="intake_review")
    db.session.commit()
    login(agency)

    listing = client.get("/requests/").get_data(as_text=True)
    assert "SubmittedDevice" in listing
    assert "SecretDraft" not in listing
    assert client.get(f"/requests/{submitted.id}").status_code == 200
    assert client.get(f"/requests/{draft.id}").status_code == 404
    # Seeing is not editing: the dossier is the manufacturer's.
    assert client.get(f"/requests/{submitted.id}/edit").status_code == 403
    assert client.get(f"/requests/{draft.id}/edit").status_code == 404


def test_an_assessor_sees_only_what_its_body_is_assigned(client, make, login):
    assessor = make.user("assessor")
    other_body = make.org("regional_body")
    assigned = make.request(
        trade_name="AssignedDevice", state="assessment", assigned_body=assessor.organisation
    )
    elsewhere = make.request(
        trade_name="ElsewhereDevice", state="assessment", assigned_body=other_body
    )
    db.session.commit()
    login(assessor)

    listing = client.get("/requests/").get_data(as_text=True)
    assert "AssignedDevice" in listing
    assert "ElsewhereDevice" not in listing
    # Before declaring on conflicts of interest the assessor is sent to the declaration.
    assert client.get(f"/requests/{assigned.id}").status_code == 302
    db.session.add(CoiDeclaration(request_id=assigned.id, user_id=assessor.id, has_conflict=False))
    db.session.commit()
    assert client.get(f"/requests/{assigned.id}").status_code == 200
    assert client.get(f"/requests/{elsewhere.id}").status_code == 404


def test_an_irccs_sees_published_positive_recommendations_only(client, make, login):
    irccs = make.user("irccs")
    published = make.request(trade_name="PublishedDevice", state="adoption_monitoring")
    rejected = make.request(trade_name="RejectedDevice", state="not_recommended")
    db.session.add(Recommendation(request=published, outcome="recommended"))
    db.session.add(Recommendation(request=rejected, outcome="not_recommended"))
    db.session.commit()
    login(irccs)
    assert client.get(f"/requests/{published.id}").status_code == 200
    assert client.get(f"/requests/{rejected.id}").status_code == 404


def test_an_admin_manages_users_not_dossiers(client, make, login):
    admin = make.user("admin")
    submitted = make.request(trade_name="SubmittedDevice", state="intake_review")
    db.session.commit()
    login(admin)
    assert "SubmittedDevice" not in client.get("/requests/").get_data(as_text=True)
    assert client.get(f"/requests/{submitted.id}").status_code == 404
    assert client.get("/requests/new").status_code == 403
