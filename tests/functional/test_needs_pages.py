"""IRCCS needs through the pages: an IRCCS posts a need, other IRCCS endorse it, the
manufacturer links its request, and the agency sees the "declared need" criterion filled on
the request's prioritisation scores. Each step is audit-logged; each party can do only its
own part."""

from __future__ import annotations

import re

import pytest
from sqlalchemy import select

from app.extensions import db
from app.models import AuditEntry, ClinicalNeed, NeedEndorsement, NeedLink
from tests.assessment_support import request_in, statements_for

NEED_FORM = {
    "title": "TAVI for frail patients",
    "condition": "Severe aortic stenosis",
    "population": "Adults over 75 unfit for open surgery",
    "patients_per_year": "1500",
    "standard_of_care": "Surgical aortic valve replacement",
    "gap": "No option for patients who cannot undergo surgery",
}


def post_need(client, **changes) -> ClinicalNeed:
    response = client.post("/needs/new", data=NEED_FORM | changes)
    assert response.status_code == 302, response.get_data(as_text=True)
    return db.session.scalars(select(ClinicalNeed).order_by(ClinicalNeed.id.desc())).first()


def test_a_need_posted_endorsed_and_linked_fills_the_declared_need_criterion(cast, make, as_user):
    third_irccs = make.user("irccs", organisation=make.org("irccs", name="IRCCS Besta"))
    db.session.commit()
    need = post_need(as_user(cast.irccs))
    assert need.organisation_id == cast.irccs_org.id

    for endorser in (cast.other_irccs, third_irccs):
        response = as_user(endorser).post(f"/needs/{need.id}/endorse", data={"comment": "Same."})
        assert response.status_code == 302
    req = request_in(make, cast, "prioritisation")
    manufacturer = as_user(cast.manufacturer)
    page = manufacturer.get(f"/needs/{need.id}").get_data(as_text=True)
    assert 'id="link-form"' in page
    assert (
        manufacturer.post(f"/needs/{need.id}/link", data={"request_id": req.id}).status_code == 302
    )

    listing = as_user(cast.agency).get("/needs/").get_data(as_text=True)
    assert "TAVI for frail patients" in listing
    scores = as_user(cast.agency).get(f"/requests/{req.id}/prioritisation").get_data(True)
    # 3 IRCCS (2-3: 2) and 1,500 patients a year (a point more): 3.
    assert re.search(r'class="declared-need-score">\s*3\s*<', scores)
    assert "3 IRCCS" in scores
    actions = db.session.scalars(
        select(AuditEntry.action).where(AuditEntry.action.like("need_%")).order_by(AuditEntry.seq)
    ).all()
    assert actions == ["need_posted", "need_endorsed", "need_endorsed", "need_linked"]
    link_entry = db.session.scalars(
        select(AuditEntry).where(AuditEntry.action == "need_linked")
    ).one()
    assert link_entry.request_id == req.id


def test_a_linked_need_raises_the_request_in_the_ranking(cast, make, as_user):
    from tests.functional.test_prioritisation_pages import ranked_ids, score

    plain = request_in(make, cast, "prioritisation", trade_name="Plain")
    needed = request_in(make, cast, "prioritisation", trade_name="Needed")
    score(plain, disease_severity=2)
    score(needed, disease_severity=2)
    need = post_need(as_user(cast.irccs))
    as_user(cast.manufacturer).post(f"/needs/{need.id}/link", data={"request_id": needed.id})
    page = as_user(cast.agency).get("/requests/prioritisation").get_data(as_text=True)
    assert ranked_ids(page) == [needed.id, plain.id]


def test_a_need_missing_its_patients_is_refused_and_what_was_typed_is_kept(cast, as_user):
    response = as_user(cast.irccs).post("/needs/new", data=NEED_FORM | {"patients_per_year": ""})
    assert response.status_code == 422
    page = response.get_data(as_text=True)
    assert "Enter a whole number of patients." in page
    assert "No option for patients who cannot undergo surgery" in page
    assert db.session.scalars(select(ClinicalNeed)).all() == []


@pytest.mark.parametrize("role", ["manufacturer", "agency", "admin"])
def test_only_irccs_and_regional_bodies_post_needs(cast, as_user, role):
    client = as_user(getattr(cast, role))
    assert client.post("/needs/new", data=NEED_FORM).status_code == 403
    assert db.session.scalars(select(ClinicalNeed)).all() == []


def test_a_regional_body_posts_a_need(cast, as_user):
    need = post_need(as_user(cast.assessor))
    assert need.organisation_id == cast.body.id


def test_an_irccs_cannot_endorse_its_own_need_nor_twice(cast, as_user):
    need = post_need(as_user(cast.irccs))
    assert as_user(cast.irccs).post(f"/needs/{need.id}/endorse", data={}).status_code == 403
    other = as_user(cast.other_irccs)
    assert other.post(f"/needs/{need.id}/endorse", data={}).status_code == 302
    assert other.post(f"/needs/{need.id}/endorse", data={}).status_code == 409
    assert as_user(cast.manufacturer).post(f"/needs/{need.id}/endorse").status_code == 403
    assert len(db.session.scalars(select(NeedEndorsement)).all()) == 1


def test_a_manufacturer_links_only_its_own_requests_before_appraisal(cast, make, as_user):
    need = post_need(as_user(cast.irccs))
    req = request_in(make, cast, "prioritisation")
    late = request_in(make, cast, "appraisal")
    other = as_user(cast.other_manufacturer)
    # Another manufacturer's request is not found; nothing is linked.
    assert other.post(f"/needs/{need.id}/link", data={"request_id": req.id}).status_code == 422
    page = other.get(f"/needs/{need.id}").get_data(as_text=True)
    assert req.title not in page
    own = as_user(cast.manufacturer)
    assert own.post(f"/needs/{need.id}/link", data={"request_id": late.id}).status_code == 422
    assert db.session.scalars(select(NeedLink)).all() == []
    assert (
        as_user(cast.agency).post(f"/needs/{need.id}/link", data={"request_id": req.id}).status_code
        == 403
    )


def test_linked_requests_are_named_only_to_those_who_may_see_them(cast, make, as_user):
    need = post_need(as_user(cast.irccs))
    req = request_in(make, cast, "prioritisation", trade_name="SecretValve")
    as_user(cast.manufacturer).post(f"/needs/{need.id}/link", data={"request_id": req.id})
    assert "SecretValve" in as_user(cast.agency).get(f"/needs/{need.id}").get_data(True)
    irccs_page = as_user(cast.other_irccs).get(f"/needs/{need.id}").get_data(True)
    assert "SecretValve" not in irccs_page
    assert "you see only those you are a party to" in irccs_page


def test_the_manufacturer_unlinks_and_the_trail_says_so(cast, make, as_user):
    need = post_need(as_user(cast.irccs))
    req = request_in(make, cast, "prioritisation")
    client = as_user(cast.manufacturer)
    client.post(f"/needs/{need.id}/link", data={"request_id": req.id})
    assert client.post(f"/needs/{need.id}/unlink", data={"request_id": req.id}).status_code == 302
    assert db.session.scalars(select(NeedLink)).all() == []
    trail = select(AuditEntry.action).where(AuditEntry.request_id == req.id)
    assert db.session.scalars(trail.order_by(AuditEntry.seq)).all() == [
        "need_linked",
        "need_unlinked",
    ]


def test_the_needs_list_costs_the_same_statements_for_2_or_8_needs(cast, as_user):
    irccs = as_user(cast.irccs)
    for _ in range(2):
        post_need(irccs)
    with_2 = statements_for(irccs, "/needs/")
    for _ in range(6):
        post_need(irccs)
    assert statements_for(irccs, "/needs/") == with_2


def test_the_request_record_lists_its_declared_needs(cast, make, as_user):
    from tests.functional.test_reports_pages import pdf_text

    need = post_need(as_user(cast.irccs), title="Frail TAVI need")
    as_user(cast.other_irccs).post(f"/needs/{need.id}/endorse", data={})
    req = request_in(make, cast, "prioritisation")
    as_user(cast.manufacturer).post(f"/needs/{need.id}/link", data={"request_id": req.id})
    response = as_user(cast.agency).get(f"/reports/requests/{req.id}.pdf")
    assert response.status_code == 200
    text = pdf_text(response.data)
    assert "Declared needs" in text
    assert "Frail TAVI need" in text and "IRCCS San Matteo" in text
