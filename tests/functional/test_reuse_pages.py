"""Reuse, not redo, through the pages: the agency sees a duplicate at intake (on the request
and in its work queue), records an existing assessment and adopts or adapts Core Model
domains from it; each choice is audited, the assessment starts from it, and the timing report
shows the days saved. Only the agency and the cleared assessors of the body see any of it."""

from __future__ import annotations

import re
from datetime import date

from sqlalchemy import select

from app.domain.reuse import is_duplicate
from app.extensions import db
from app.models import (
    AuditEntry,
    DomainAssessment,
    DomainReuse,
    PriorAssessment,
    Recommendation,
    StageRecord,
)
from tests.assessment_support import NOW, declare, request_in

OTHER_DEVICE = {"basic_udi_di": "", "udi_di": "4006381333931", "emdn_code": "Z1201"}


def pair(make, cast, state="intake_review"):
    """An earlier assessed request and a new one for the same device (same identifiers)."""
    earlier = request_in(make, cast, "adoption_monitoring", trade_name="ValveOne")
    db.session.add(
        DomainAssessment(
            request_id=earlier.id,
            domain="safety",
            status="done",
            findings="No excess mortality at 2 years.",
            conclusion="Safe in the studied population.",
        )
    )
    db.session.commit()
    new = request_in(make, cast, state, trade_name="ValveOne", model="Mk II")
    return earlier, new


def test_the_agency_sees_a_duplicate_at_intake_and_in_its_queue(cast, make, as_user):
    earlier, new = pair(make, cast)
    unrelated = request_in(make, cast, "intake_review", trade_name="Other", **OTHER_DEVICE)
    for queued in (new, unrelated):  # the queue lists requests by their open stage visit
        db.session.add(StageRecord(request_id=queued.id, state=queued.state, entered_at=NOW))
    db.session.commit()
    agency = as_user(cast.agency)
    page = agency.get(f"/requests/{new.id}").get_data(as_text=True)
    assert "Possible duplicate: other requests concern the same device." in page
    assert f"/requests/{earlier.id}" in page
    assert "duplicate-alert" not in agency.get(f"/requests/{unrelated.id}").get_data(True)
    queue = agency.get("/work/").get_data(as_text=True)
    row = re.search(rf'data-request-id="{new.id}".*?</tr>', queue, re.S).group(0)
    assert "Possible duplicate" in row
    other_row = re.search(rf'data-request-id="{unrelated.id}".*?</tr>', queue, re.S).group(0)
    assert "Possible duplicate" not in other_row
    # The manufacturer is not told about other manufacturers' requests.
    assert "duplicate-alert" not in as_user(cast.manufacturer).get(f"/requests/{new.id}").get_data(
        True
    )


def test_a_prior_assessment_reused_for_two_domains(cast, make, as_user):
    earlier, new = pair(make, cast)
    agency = as_user(cast.agency)
    page = agency.get(f"/requests/{new.id}/reuse").get_data(as_text=True)
    assert "same Basic UDI-DI" in page and "same UDI-DI" in page
    response = agency.post(
        f"/requests/{new.id}/reuse/prior",
        data={
            "source": "ours",
            "reference": "Our assessment of ValveOne",
            "issued_on": "2025-06-30",
            "source_request_id": str(earlier.id),
        },
    )
    assert response.status_code == 302, response.get_data(as_text=True)
    prior = db.session.scalars(select(PriorAssessment)).one()
    response = agency.post(
        f"/requests/{new.id}/reuse/domains",
        data={
            "choice_safety": "adopted",
            "prior_safety": str(prior.id),
            "choice_legal": "adapted",
            "prior_legal": str(prior.id),
            "note_legal": "Italian procurement rules differ.",
            "choice_ethical": "redone",
            "prior_ethical": str(prior.id),
        },
    )
    assert response.status_code == 302
    choices = {r.domain: r.choice for r in db.session.scalars(select(DomainReuse))}
    assert choices == {"safety": "adopted", "legal": "adapted", "ethical": "redone"}
    started = {
        r.domain: (r.status, r.conclusion)
        for r in db.session.scalars(
            select(DomainAssessment).where(DomainAssessment.request_id == new.id)
        )
    }
    assert started["safety"] == ("done", "Safe in the studied population.")
    assert started["legal"][0] == "in_progress"
    assert "ethical" not in started
    entry = db.session.scalars(
        select(AuditEntry).where(AuditEntry.action == "assessment_reuse_decided")
    ).one()
    assert entry.request_id == new.id
    assert entry.changes["safety"] == [None, f"adopted (prior assessment {prior.id})"]
    assert db.session.scalars(
        select(AuditEntry.action).where(AuditEntry.action == "prior_assessment_recorded")
    ).all()


def test_an_external_assessment_needs_its_link_and_what_was_typed_is_kept(cast, make, as_user):
    _earlier, new = pair(make, cast)
    response = as_user(cast.agency).post(
        f"/requests/{new.id}/reuse/prior",
        data={"source": "eu_jca", "reference": "JCA 2025/07 ValveOne", "issued_on": "2025-09-01"},
    )
    assert response.status_code == 422
    assert "JCA 2025/07 ValveOne" in response.get_data(as_text=True)
    assert db.session.scalars(select(PriorAssessment)).all() == []


def test_a_choice_without_its_prior_assessment_is_refused(cast, make, as_user):
    _earlier, new = pair(make, cast)
    agency = as_user(cast.agency)
    agency.post(
        f"/requests/{new.id}/reuse/prior",
        data={
            "source": "other_region",
            "reference": "Veneto HTA report 12/2024",
            "issued_on": "2024-12-10",
            "url": "https://example.org/report.pdf",
        },
    )
    response = agency.post(f"/requests/{new.id}/reuse/domains", data={"choice_safety": "adopted"})
    assert response.status_code == 422
    assert "Choose the prior assessment it comes from." in response.get_data(as_text=True)
    assert db.session.scalars(select(DomainReuse)).all() == []


def test_only_the_agency_and_the_cleared_assessors_reach_the_reuse_page(cast, make, as_user):
    _earlier, new = pair(make, cast, state="assessment")
    assert as_user(cast.agency).get(f"/requests/{new.id}/reuse").status_code == 200
    assert as_user(cast.manufacturer).get(f"/requests/{new.id}/reuse").status_code == 403
    assert as_user(cast.other_manufacturer).get(f"/requests/{new.id}/reuse").status_code == 404
    assert as_user(cast.other_assessor).get(f"/requests/{new.id}/reuse").status_code == 404
    assert as_user(cast.irccs).get(f"/requests/{new.id}/reuse").status_code == 404
    declare(new, cast.assessor)
    db.session.commit()
    assert as_user(cast.assessor).get(f"/requests/{new.id}/reuse").status_code == 200
    response = as_user(cast.manufacturer).post(
        f"/requests/{new.id}/reuse/prior",
        data={
            "source": "eu_jca",
            "reference": "x",
            "issued_on": "2025-01-01",
            "url": "https://a.b",
        },
    )
    assert response.status_code == 403


def test_the_timing_report_shows_the_days_saved(cast, make, as_user):
    earlier, new = pair(make, cast)
    agency = as_user(cast.agency)
    agency.post(
        f"/requests/{new.id}/reuse/prior",
        data={
            "source": "ours",
            "reference": "Our assessment of ValveOne",
            "issued_on": "2025-06-30",
            "source_request_id": str(earlier.id),
        },
    )
    prior = db.session.scalars(select(PriorAssessment)).one()
    data = {}
    for domain in ("health_problem", "safety"):
        data |= {f"choice_{domain}": "adopted", f"prior_{domain}": str(prior.id)}
    agency.post(f"/requests/{new.id}/reuse/domains", data=data)
    page = agency.get("/reports/timing").get_data(as_text=True)
    assert "Assessments reused" in page
    # 90 days x 2 of 9 domains = 20.0
    assert re.search(r"20[.,]0", page)
    assert "In all: 20.0 days over 1 requests." in page


def test_the_record_shows_the_reuse_to_the_parties_only(cast, make, as_user):
    from tests.functional.test_reports_pages import pdf_text

    _earlier, new = pair(make, cast, state="adoption_monitoring")
    db.session.add(
        PriorAssessment(
            request_id=new.id,
            source="eu_jca",
            reference="JCA 2025/07 ValveOne",
            issued_on=date(2025, 9, 1),
            url="https://example.org/jca",
        )
    )
    db.session.add(Recommendation(request_id=new.id, outcome="recommended", rationale="Good."))
    db.session.commit()
    agency_text = pdf_text(as_user(cast.agency).get(f"/reports/requests/{new.id}.pdf").data)
    assert "JCA 2025/07 ValveOne" in agency_text
    irccs = as_user(cast.irccs).get(f"/reports/requests/{new.id}.pdf")
    assert irccs.status_code == 200
    assert "JCA 2025/07 ValveOne" not in pdf_text(irccs.data)


def test_the_request_page_s_duplicates_are_matches_for_s(make, cast):
    """`duplicates_among` (the request page's columns) finds the duplicates `matches_for`
    finds, in its order and with its reasons, whatever identifiers a request has; and so
    from the rows the page reads with its other reads in one statement."""
    from app.assessment.reuse import duplicates_among, duplicates_reads, matches_for
    from app.requests.page_reads import read_all
    from tests.functional.test_list_pages_render import IDENTIFIERS

    requests = [
        request_in(make, cast, "intake_review", trade_name=f"P{n}", **fields)
        for n, fields in enumerate(IDENTIFIERS)
    ]
    requests.append(request_in(make, cast, "intake_review", trade_name="", model=""))
    db.session.commit()
    found = 0
    for request in requests:
        expected = [(m.request.id, m.request.title, m.reasons) for m in matches_for(request)]
        shown = [(m.request.id, m.request.title, m.reasons) for m in duplicates_among(request)]
        assert shown == [row for row in expected if row[2] and is_duplicate(row[2])], request.id
        reads = duplicates_reads(request)
        if reads is not None:
            rows = read_all(*reads)["duplicates"]
            read = [
                (m.request.id, m.request.title, m.reasons) for m in duplicates_among(request, rows)
            ]
            assert read == shown, request.id
        found += len(shown)
    assert found
