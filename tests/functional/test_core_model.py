"""The assessment: the HTA Core Model checklist (audited), the draft report refused while a
domain is not started, the manufacturer's factual-accuracy comments reaching the assessor,
finalisation, and the agency's appraisal with the recommendation."""

from __future__ import annotations

import re

import pytest
from sqlalchemy import select

from app.core.fire import fire
from app.domain.core_model import DOMAINS
from app.domain.errors import GuardFailed
from app.extensions import db
from app.models import (
    Adoption,
    AuditEntry,
    DesignatedCentre,
    DomainAssessment,
    FactualComment,
    Recommendation,
)
from tests.assessment_support import (  # noqa: F401 (fixtures)
    NOW,
    all_domains,
    assessment_hooks_only,
    declare,
    reload,
    request_in,
)
from tests.page_support import post_action

pytestmark = pytest.mark.usefixtures("assessment_hooks_only")


def checklist_form(statuses=None, summary="", **overrides) -> dict:
    """Form data for every domain: status (default in_progress), findings and conclusion."""
    statuses = statuses or {}
    data = {"summary": summary}
    for domain in DOMAINS:
        status = statuses.get(domain, "in_progress")
        data[f"status_{domain}"] = status
        data[f"findings_{domain}"] = f"Findings on {domain}."
        data[f"conclusion_{domain}"] = f"Conclusion on {domain}." if status == "done" else ""
    return data | overrides


@pytest.fixture
def assessing(make, cast):
    """A request in assessment, its assessor cleared."""
    req = request_in(make, cast, "assessment")
    declare(req, cast.assessor)
    return req


# --- The checklist ---------------------------------------------------------------------------


def test_the_assessor_fills_in_the_checklist_and_every_change_is_audited(cast, assessing, as_user):
    client = as_user(cast.assessor)
    page = client.get(f"/requests/{assessing.id}/assessment").get_data(as_text=True)
    assert page.count('class="card mb-3 domain-card"') == 9
    assert page.count("EU JCA</span>") == 4
    response = client.post(
        f"/requests/{assessing.id}/assessment",
        data=checklist_form({"safety": "done"}, summary="Safe and effective in trials."),
    )
    assert response.status_code == 302
    safety = db.session.scalars(
        select(DomainAssessment).where(DomainAssessment.domain == "safety")
    ).one()
    assert (safety.status, safety.conclusion) == ("done", "Conclusion on safety.")
    assert safety.updated_by_id == cast.assessor.id

    client.post(
        f"/requests/{assessing.id}/assessment",
        data=checklist_form({"safety": "done"}, summary="Safe and effective in trials.")
        | {"findings_legal": "CE certificate valid until 2029."},
    )
    entries = db.session.scalars(
        select(AuditEntry).where(AuditEntry.action == "assessment_edited").order_by(AuditEntry.seq)
    ).all()
    assert len(entries) == 2
    assert entries[0].changes["safety.status"] == ["not_started", "done"]
    assert entries[0].changes["summary"] == ["", "Safe and effective in trials."]
    assert entries[1].changes == {
        "legal.findings": ["Findings on legal.", "CE certificate valid until 2029."]
    }


def test_a_domain_marked_done_needs_its_conclusion(cast, assessing, as_user):
    data = checklist_form({"ethical": "done"}) | {"conclusion_ethical": " "}
    response = as_user(cast.assessor).post(f"/requests/{assessing.id}/assessment", data=data)
    assert response.status_code == 422
    assert "A domain marked done needs its conclusion." in response.get_data(as_text=True)
    assert db.session.scalars(select(DomainAssessment)).all() == []


def test_an_unknown_status_is_refused(cast, assessing, as_user):
    data = checklist_form() | {"status_safety": "finished"}
    response = as_user(cast.assessor).post(f"/requests/{assessing.id}/assessment", data=data)
    assert response.status_code == 422
    assert db.session.scalars(select(DomainAssessment)).all() == []


# --- The draft report ------------------------------------------------------------------------


def test_the_draft_report_is_refused_while_a_domain_is_not_started(cast, assessing, as_user):
    all_domains(assessing, skip=("ethical", "legal"))
    client = as_user(cast.assessor)
    response = client.post(
        f"/requests/{assessing.id}/assessment/send_draft_report",
        data={"expected_version": str(reload(assessing).version)},
    )
    assert response.status_code == 422
    page = response.get_data(as_text=True)
    refusal = page.split('class="alert alert-danger draft-refused"')[1].split("</div>\n")[1]
    assert "Ethical analysis" in refusal
    assert "Legal aspects" in refusal
    assert "Safety" not in refusal
    assert reload(assessing).state == "assessment"


def test_after_a_refused_draft_report_the_checklist_saves_to_itself(cast, assessing, as_user):
    """The refusal is shown at the action's URL: saving the checklist from there must save it,
    not try to send the draft report again (and drop what the assessor typed)."""
    client = as_user(cast.assessor)
    refused = client.post(
        f"/requests/{assessing.id}/assessment/send_draft_report",
        data={"expected_version": str(reload(assessing).version)},
    )
    assert refused.status_code == 422
    form_tag = re.search(r"<form [^>]*novalidate>", refused.get_data(as_text=True)).group(0)
    assert f'action="/requests/{assessing.id}/assessment"' in form_tag


def test_the_workflow_panel_path_is_refused_the_same_way(cast, assessing, as_user):
    all_domains(assessing, skip=("legal",))
    response = post_action(as_user(cast.assessor), assessing, "send_draft_report")
    assert response.status_code == 422
    assert "Legal aspects" in response.get_data(as_text=True)
    assert reload(assessing).state == "assessment"


def test_fire_itself_refuses_and_names_the_domains(cast, assessing):
    with pytest.raises(GuardFailed) as refused:
        fire(assessing, "send_draft_report", cast.assessor, NOW)
    assert refused.value.details["domains"] == list(DOMAINS)
    db.session.rollback()


def test_with_every_domain_started_the_draft_goes_to_the_manufacturer(cast, assessing, as_user):
    all_domains(assessing, "in_progress", skip=("legal",))
    db.session.add(
        DomainAssessment(request_id=assessing.id, domain="legal", status="not_applicable")
    )
    db.session.commit()
    response = as_user(cast.assessor).post(
        f"/requests/{assessing.id}/assessment/send_draft_report",
        data={"expected_version": str(reload(assessing).version)},
    )
    assert response.status_code == 302
    assert reload(assessing).state == "factual_accuracy_check"


# --- The factual-accuracy check --------------------------------------------------------------


@pytest.fixture
def checking(make, cast):
    req = request_in(make, cast, "factual_accuracy_check")
    declare(req, cast.assessor)
    all_domains(req)
    return req


def test_the_manufacturers_comments_by_section_reach_the_assessor(cast, checking, as_user):
    manufacturer = as_user(cast.manufacturer)
    page = manufacturer.get(f"/requests/{checking.id}/factual-check").get_data(as_text=True)
    assert "Conclusion on safety." in page
    assert 'name="comment_safety"' in page
    response = manufacturer.post(
        f"/requests/{checking.id}/factual-check",
        data={
            "comment_safety": "The adverse event rate is 2.1%, not 21%.",
            "comment_legal": "The certificate number is CE-2024-001.",
            "general": "Two corrections; the rest is accurate.",
            "expected_version": str(reload(checking).version),
        },
    )
    assert response.status_code == 302
    assert reload(checking).state == "factual_accuracy_check"
    stored = db.session.scalars(select(FactualComment).order_by(FactualComment.domain)).all()
    assert [(c.domain, c.by_id) for c in stored] == [
        ("legal", cast.manufacturer.id),
        ("safety", cast.manufacturer.id),
    ]
    entry = db.session.scalars(
        select(AuditEntry).where(AuditEntry.action == "return_factual_comments")
    ).one()
    assert entry.data["comments"] == "Two corrections; the rest is accurate."

    assessor_page = as_user(cast.assessor).get(f"/requests/{checking.id}/assessment")
    html = assessor_page.get_data(as_text=True)
    safety_card = html.split('data-domain="safety"')[1].split("</fieldset>")[0]
    assert "The adverse event rate is 2.1%, not 21%." in safety_card
    assert "The certificate number is CE-2024-001." not in safety_card
    assert "Two corrections; the rest is accurate." in html


def test_comments_without_a_general_note_list_the_sections(cast, checking, as_user):
    as_user(cast.manufacturer).post(
        f"/requests/{checking.id}/factual-check",
        data={"comment_safety": "Wrong rate.", "expected_version": str(checking.version)},
    )
    entry = db.session.scalars(
        select(AuditEntry).where(AuditEntry.action == "return_factual_comments")
    ).one()
    assert entry.data["comments"] == "Safety"


def test_an_empty_return_is_refused(cast, checking, as_user):
    response = as_user(cast.manufacturer).post(
        f"/requests/{checking.id}/factual-check",
        data={"general": "  ", "expected_version": str(checking.version)},
    )
    assert response.status_code == 422
    # Nothing recorded but the login (a security event about the user account).
    assert (
        db.session.scalars(select(AuditEntry).where(AuditEntry.entity_type != "user")).all() == []
    )


def test_the_check_is_closed_outside_the_factual_accuracy_stage(cast, make, as_user):
    req = request_in(make, cast, "appraisal")
    manufacturer = as_user(cast.manufacturer)
    page = manufacturer.get(f"/requests/{req.id}/factual-check")
    assert page.status_code == 200
    assert 'name="general"' not in page.get_data(as_text=True)
    posted = manufacturer.post(f"/requests/{req.id}/factual-check", data={"general": "Late."})
    assert posted.status_code == 403
    early = request_in(make, cast, "assessment")
    assert manufacturer.get(f"/requests/{early.id}/factual-check").status_code == 403


def test_the_assessor_finalises_the_report_for_appraisal(cast, checking, as_user):
    response = as_user(cast.assessor).post(
        f"/requests/{checking.id}/assessment/finalise_report",
        data={"expected_version": str(checking.version)},
    )
    assert response.status_code == 302
    assert reload(checking).state == "appraisal"


# --- Appraisal ---------------------------------------------------------------------------------


def recommendation_form(**fields) -> dict:
    return {
        "outcome": "recommended",
        "rationale": "Lower mortality in high-risk patients.",
        "conditions": "",
        "evidence_requirements": "",
        "review_date": "2031-01-15",
    } | fields


def test_the_agency_appraises_with_the_assessment_summary_and_opens_consultation(
    cast, make, as_user
):
    req = request_in(make, cast, "appraisal")
    all_domains(req)
    agency = as_user(cast.agency)
    page = agency.get(f"/requests/{req.id}/appraisal").get_data(as_text=True)
    assert "Conclusion on clinical_effectiveness." in page
    assert 'name="outcome"' in page
    refused = agency.post(
        f"/requests/{req.id}/appraisal",
        data=recommendation_form(outcome="recommended_restricted")
        | {"expected_version": str(req.version)},
    )
    assert refused.status_code == 422
    assert "Say which indications or centres" in refused.get_data(as_text=True)
    assert reload(req).state == "appraisal"

    restricted = recommendation_form(
        outcome="recommended_restricted",
        conditions="Only in centres with cardiac surgery on site.",
    ) | {"expected_version": str(req.version)}
    no_centre = agency.post(f"/requests/{req.id}/appraisal", data=restricted)
    assert no_centre.status_code == 422
    text = no_centre.get_data(as_text=True)
    assert 'id="designated_centres-error"' in text
    assert "Choose the IRCCS where the device may be used" in text
    assert "Only in centres with cardiac surgery on site." in text  # kept

    response = agency.post(
        f"/requests/{req.id}/appraisal",
        data=restricted
        | {
            "designated_centres": [str(cast.irccs_org.id)],
            "designation_criteria": "Cardiac surgery on site.",
        },
    )
    assert response.status_code == 302
    assert reload(req).state == "consultation"
    recommendation = db.session.scalars(select(Recommendation)).one()
    assert recommendation.conditions == "Only in centres with cardiac surgery on site."
    assert recommendation.designation_criteria == "Cardiac surgery on site."
    assert recommendation.published_at is None
    centres = db.session.scalars(select(DesignatedCentre.irccs_id)).all()
    assert centres == [cast.irccs_org.id]
    page = agency.get(f"/requests/{req.id}/appraisal").get_data(as_text=True)
    assert re.search(rf'<option selected value="{cast.irccs_org.id}">', page)


def test_publishing_after_consultation_starts_from_the_draft(cast, make, as_user):
    req = request_in(make, cast, "consultation")
    db.session.add(
        Recommendation(
            request_id=req.id,
            outcome="recommended_with_evidence_generation",
            rationale="Promising but early.",
            evidence_requirements="12-month registry data, by 30/06/2027",
        )
    )
    db.session.commit()
    agency = as_user(cast.agency)
    page = agency.get(f"/requests/{req.id}/appraisal").get_data(as_text=True)
    assert re.search(
        r'<option selected value="recommended_with_evidence_generation">|'
        r'<option value="recommended_with_evidence_generation" selected>',
        page,
    )
    assert "12-month registry data, by 30/06/2027" in page
    assert "Promising but early." in page
    response = agency.post(
        f"/requests/{req.id}/appraisal",
        data=recommendation_form(
            outcome="recommended_with_evidence_generation",
            rationale="Promising but early.",
            evidence_requirements="12-month registry data, by 30/06/2027",
        )
        | {
            "expected_version": str(reload(req).version),
            "designated_centres": [str(cast.irccs_org.id), str(cast.other_irccs_org.id)],
        },
    )
    assert response.status_code == 302
    assert reload(req).state == "adoption_monitoring"
    assert db.session.scalars(select(Recommendation)).one().published_at is not None
    assert {a.irccs_id for a in db.session.scalars(select(Adoption))} == {
        cast.irccs_org.id,
        cast.other_irccs_org.id,
    }


def test_a_review_date_in_the_past_is_refused(cast, make, as_user):
    req = request_in(make, cast, "appraisal")
    response = as_user(cast.agency).post(
        f"/requests/{req.id}/appraisal",
        data=recommendation_form(review_date="2020-01-01") | {"expected_version": str(req.version)},
    )
    assert response.status_code == 422
    assert "Choose a date after today." in response.get_data(as_text=True)
    assert reload(req).state == "appraisal"


# --- Object-level access -----------------------------------------------------------------------


@pytest.mark.parametrize(
    ("who", "status"),
    [
        ("agency", 200),  # reads the assessment, cannot change it
        ("manufacturer", 403),
        ("other_manufacturer", 404),
        ("colleague", 302),  # same body, not declared yet: sent to the declaration
        ("other_assessor", 404),
        ("irccs", 404),
        ("admin", 404),
    ],
)
def test_the_assessment_page_by_role(cast, assessing, as_user, who, status):
    client = as_user(getattr(cast, who))
    response = client.get(f"/requests/{assessing.id}/assessment")
    assert response.status_code == status
    if status == 200:
        assert 'name="status_safety"' not in response.get_data(as_text=True)
    posted = client.post(f"/requests/{assessing.id}/assessment", data=checklist_form())
    assert posted.status_code == (403 if status == 200 else status)
    action = client.post(f"/requests/{assessing.id}/assessment/send_draft_report")
    assert action.status_code == (403 if status == 200 else status)
    assert db.session.scalars(select(DomainAssessment)).all() == []
    assert reload(assessing).state == "assessment"


def test_a_conflicted_assessor_cannot_edit_through_any_url(cast, make, as_user):
    req = request_in(make, cast, "assessment")
    declare(req, cast.assessor, conflict="Shares in Valvetech.")
    client = as_user(cast.assessor)
    assert client.get(f"/requests/{req.id}/assessment").status_code == 404
    assert client.post(f"/requests/{req.id}/assessment", data=checklist_form()).status_code == 404
    assert db.session.scalars(select(DomainAssessment)).all() == []


@pytest.mark.parametrize(
    ("who", "status"),
    [
        ("agency", 403),
        ("assessor", 403),
        ("other_manufacturer", 404),
        ("other_assessor", 404),
        ("irccs", 404),
    ],
)
def test_the_factual_check_is_the_manufacturers(cast, checking, as_user, who, status):
    client = as_user(getattr(cast, who))
    assert client.get(f"/requests/{checking.id}/factual-check").status_code == status
    posted = client.post(f"/requests/{checking.id}/factual-check", data={"general": "Hijack."})
    assert posted.status_code == status
    assert db.session.scalars(select(FactualComment)).all() == []


@pytest.mark.parametrize(
    ("who", "status"),
    [
        ("manufacturer", 403),
        ("assessor", 403),
        ("other_manufacturer", 404),
        ("other_assessor", 404),
        ("irccs", 404),
        ("admin", 404),
    ],
)
def test_the_appraisal_is_the_agencys(cast, make, as_user, who, status):
    req = request_in(make, cast, "appraisal")
    declare(req, cast.assessor)
    client = as_user(getattr(cast, who))
    assert client.get(f"/requests/{req.id}/appraisal").status_code == status
    posted = client.post(
        f"/requests/{req.id}/appraisal",
        data=recommendation_form() | {"expected_version": str(req.version)},
    )
    assert posted.status_code == status
    assert reload(req).state == "appraisal"
    assert db.session.scalars(select(Recommendation)).all() == []


def test_the_assessor_accepts_or_not_each_comment_with_a_reply_the_manufacturer_reads(
    cast, checking, as_user
):
    manufacturer, assessor = as_user(cast.manufacturer), as_user(cast.assessor)
    manufacturer.post(
        f"/requests/{checking.id}/factual-check",
        data={
            "comment_safety": "The adverse event rate is 2.1%, not 21%.",
            "comment_legal": "The certificate number is CE-2024-001.",
            "expected_version": str(reload(checking).version),
        },
    )
    safety, legal = (
        db.session.scalars(select(FactualComment).where(FactualComment.domain == d)).one()
        for d in ("safety", "legal")
    )
    page = assessor.get(f"/requests/{checking.id}/assessment").get_data(as_text=True)
    assert f'id="comment-{safety.id}"' in page and f'name="c{safety.id}-response"' in page

    # A response needs its reply; what was chosen is kept.
    url = f"/requests/{checking.id}/assessment/comments/{safety.id}/answer"
    refused = assessor.post(url, data={f"c{safety.id}-response": "accepted"})
    assert refused.status_code == 422
    assert "Write the reply the manufacturer will read." in refused.get_data(as_text=True)

    assert (
        assessor.post(
            url,
            data={
                f"c{safety.id}-response": "accepted",
                f"c{safety.id}-reply": "Corrected to 2.1% in the safety domain.",
            },
        ).status_code
        == 302
    )
    assert (
        assessor.post(
            f"/requests/{checking.id}/assessment/comments/{legal.id}/answer",
            data={
                f"c{legal.id}-response": "not_accepted",
                f"c{legal.id}-reply": "The certificate on file reads CE-2024-010.",
            },
        ).status_code
        == 302
    )
    db.session.expire_all()
    assert (db.session.get(FactualComment, safety.id).response) == "accepted"
    entries = db.session.scalars(
        select(AuditEntry).where(AuditEntry.action == "factual_comment_answered")
    ).all()
    assert len(entries) == 2
    assert entries[1].changes[f"factual_comment.{legal.id}.response"] == [None, "not_accepted"]

    # The manufacturer reads the responses on the factual-check page.
    page = manufacturer.get(f"/requests/{checking.id}/factual-check").get_data(as_text=True)
    card = page.split('data-domain="safety"')[1].split("</section>")[0]
    assert "Accepted: the report is corrected" in card
    assert "Corrected to 2.1% in the safety domain." in card
    legal_card = page.split('data-domain="legal"')[1].split("</section>")[0]
    assert "Not accepted" in legal_card and "CE-2024-010" in legal_card

    # Only the assessor responds: not the manufacturer, not after the report is final.
    other = f"/requests/{checking.id}/assessment/comments/{legal.id}/answer"
    hijack = {f"c{legal.id}-response": "accepted", f"c{legal.id}-reply": "Fine."}
    assert manufacturer.post(other, data=hijack).status_code in (403, 404)
    assessor.post(
        f"/requests/{checking.id}/assessment/finalise_report",
        data={"expected_version": str(reload(checking).version)},
    )
    assert assessor.post(other, data=hijack).status_code == 403
