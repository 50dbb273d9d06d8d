"""Evidence milestones: the agency sets them on a recommendation with evidence generation; a
missed one (by hand or by `flask deadlines check`) or the delivery of the last moves the
request to reassessment due through fire, the milestone named in the audit entry's reason."""

from __future__ import annotations

import io

from sqlalchemy import select

from app.extensions import db
from app.models import AuditEntry, EvidenceMilestone, Recommendation
from tests.assessment_support import request_in
from tests.document_support import pdf_bytes

MILESTONE = {
    "evidence": "Two-year mortality in the Italian registry",
    "id_kind": "nct",
    "study_id": "nct04567890",
    "due_on": "2027-06-30",
}


def monitored(make, cast, outcome="recommended_with_evidence_generation"):
    req = request_in(make, cast, "adoption_monitoring", trade_name="EvidenceValve")
    db.session.add(Recommendation(request_id=req.id, outcome=outcome, rationale="Promising."))
    db.session.commit()
    return req


def set_one(client, req, cast, **changes):
    data = MILESTONE | {"irccs_id": str(cast.irccs_org.id)} | changes
    return client.post(f"/requests/{req.id}/milestones", data=data)


def reload(req):
    db.session.expire_all()
    return db.session.get(type(req), req.id)


def test_a_missed_milestone_makes_the_request_due_for_reassessment(cast, make, as_user):
    req = monitored(make, cast)
    agency = as_user(cast.agency)
    assert set_one(agency, req, cast).status_code == 302
    milestone = db.session.scalars(select(EvidenceMilestone)).one()
    assert milestone.study_id == "NCT04567890" and milestone.status == "open"
    response = agency.post(
        f"/requests/{req.id}/milestones/{milestone.id}/miss", data={"reason": "Study stopped."}
    )
    assert response.status_code == 302
    assert reload(req).state == "reassessment_due"
    move = db.session.scalars(select(AuditEntry).where(AuditEntry.action == "review_due")).one()
    assert move.actor_role == "system"
    assert "NCT04567890" in move.reason and "Study stopped." in move.reason
    assert db.session.scalars(
        select(AuditEntry.action).where(AuditEntry.action.like("milestone_%"))
    ).all() == ["milestone_set", "milestone_missed"]


def test_delivering_the_last_milestone_makes_the_request_due_for_reassessment(cast, make, as_user):
    req = monitored(make, cast)
    agency = as_user(cast.agency)
    set_one(agency, req, cast)
    set_one(agency, req, cast, id_kind="registry", study_id="Registro TAVI")
    first, second = db.session.scalars(select(EvidenceMilestone).order_by(EvidenceMilestone.id))
    pdf = pdf_bytes("Evidence report")
    for milestone in (first, second):
        response = agency.post(
            f"/requests/{req.id}/milestones/{milestone.id}/deliver",
            data={"file": (io.BytesIO(pdf), "results.pdf")},
            content_type="multipart/form-data",
        )
        assert response.status_code == 302, response.get_data(as_text=True)
        if milestone is first:
            assert reload(req).state == "adoption_monitoring"  # one still open
    assert reload(req).state == "reassessment_due"
    delivered = db.session.scalars(select(EvidenceMilestone)).all()
    assert all(m.status == "delivered" and m.document_id for m in delivered)
    move = db.session.scalars(select(AuditEntry).where(AuditEntry.action == "review_due")).one()
    assert move.reason == "Last evidence milestone delivered: Registro TAVI."


def test_the_deadline_check_misses_the_milestones_past_due(cast, make, as_user, runner):
    req = monitored(make, cast)
    set_one(as_user(cast.agency), req, cast, due_on="2026-03-01")
    result = runner.invoke(args=["deadlines", "check", "--now", "2026-03-03T09:00"])
    assert result.exit_code == 0, result.output
    assert "evidence milestone NCT04567890 due 2026-03-01" in result.output
    assert reload(req).state == "reassessment_due"
    again = runner.invoke(args=["deadlines", "check", "--now", "2026-03-04T09:00"])
    assert "evidence milestone" not in again.output


def test_a_malformed_identifier_is_refused_and_what_was_typed_is_kept(cast, make, as_user):
    req = monitored(make, cast)
    response = set_one(as_user(cast.agency), req, cast, id_kind="eu_ct", study_id="2023-12-00")
    assert response.status_code == 422
    page = response.get_data(as_text=True)
    assert "This identifier does not have the format of the kind chosen." in page
    assert "Two-year mortality in the Italian registry" in page
    assert db.session.scalars(select(EvidenceMilestone)).all() == []


def test_only_the_agency_sets_milestones_and_only_on_evidence_outcomes(cast, make, as_user):
    req = monitored(make, cast)
    assert set_one(as_user(cast.manufacturer), req, cast).status_code == 403
    assert as_user(cast.manufacturer).get(f"/requests/{req.id}/milestones").status_code == 200
    assert as_user(cast.other_manufacturer).get(f"/requests/{req.id}/milestones").status_code == 404
    plain = request_in(make, cast, "adoption_monitoring")
    db.session.add(Recommendation(request_id=plain.id, outcome="recommended", rationale="Good."))
    db.session.commit()
    assert as_user(cast.agency).get(f"/requests/{plain.id}/milestones").status_code == 404
    assert db.session.scalars(select(EvidenceMilestone)).all() == []


def test_the_api_sets_and_misses_a_milestone(client, cast, make):
    from tests.api_support import api_for

    req = monitored(make, cast)
    api = api_for(client, cast.agency)
    bad = api.post(
        f"/requests/{req.id}/milestones",
        json=MILESTONE | {"study_id": "NCT123", "irccs_id": cast.irccs_org.id},
    )
    assert bad.status_code == 422
    assert bad.get_json()["error_codes"] == {"study_id": ["format"]}
    made = api.post(
        f"/requests/{req.id}/milestones",
        json=MILESTONE
        | {"id_kind": "eu_ct", "study_id": "2023-501234-12-00", "irccs_id": cast.irccs_org.id},
    )
    assert made.status_code == 201, made.get_json()
    milestone_id = made.get_json()["items"][0]["id"]
    missed = api.post(f"/requests/{req.id}/milestones/{milestone_id}/missed", json={})
    assert missed.status_code == 200
    assert missed.get_json()["request_state"] == "reassessment_due"
    manufacturer = api_for(client, cast.manufacturer)
    assert manufacturer.get(f"/requests/{req.id}/milestones").status_code == 200
    refused = manufacturer.post(
        f"/requests/{req.id}/milestones", json=MILESTONE | {"irccs_id": cast.irccs_org.id}
    )
    assert refused.status_code == 403


def test_the_record_lists_the_milestones(cast, make, as_user):
    from tests.functional.test_reports_pages import pdf_text

    req = monitored(make, cast)
    set_one(as_user(cast.agency), req, cast)
    text = pdf_text(as_user(cast.manufacturer).get(f"/reports/requests/{req.id}.pdf").data)
    assert "Evidence milestones" in text and "NCT04567890" in text
