"""`flask seed-demo` covers the whole process (issue 13, item 8), read back from the database:
every state of both workflows; every transition trigger fired at least once, taken from the
workflow specs themselves (so a new transition without demo data fails here); every outcome
published; consultation comments in every moderation status; factual-accuracy comments with
the assessor's responses; declared conflicts of interest (none, overridden, reassigned);
designated centres and asks to join them in every status; procurement by every route with
awards; usage figures consistent with the dossiers; needs, evidence milestones, a safety
signal; histories dated in the past with realistic durations. All through fire and the
services (the audit chain verifies), the logins printed, and a second run changes nothing.

One seeding serves every check (seeding takes several seconds); each check is a function
named after the part of the demo it guards.
"""

from datetime import timedelta
from decimal import Decimal
from statistics import median

from sqlalchemy import func, select

from app.core.audit import verify_chain
from app.domain.core_model import FACTUAL_RESPONSES
from app.domain.deadlines import rome_date
from app.domain.procurement import PROCUREMENT_ROUTES, is_valid_cig
from app.extensions import db
from app.models import (
    Adoption,
    AdoptionBarrier,
    AuditEntry,
    ClinicalNeed,
    CoiDeclaration,
    ConsultationComment,
    DesignatedCentre,
    DesignationRequest,
    DeviceRequest,
    DomainReuse,
    EvidenceMilestone,
    FactualComment,
    NeedEndorsement,
    NeedLink,
    Organisation,
    PriorAssessment,
    Procurement,
    Recommendation,
    Reimbursement,
    SafetyAlert,
    UsageReport,
    User,
)
from app.models.adoption import DESIGNATION_STATUSES
from app.models.consultation import COMMENT_STATUSES
from app.models.types import utcnow
from app.workflow.definitions import (
    ADOPTION_WORKFLOW,
    REIMBURSEMENT_WORKFLOW,
    REQUEST_WORKFLOW,
)
from app.workflow.states import (
    ADOPTION_STATES,
    BARRIER_KINDS,
    OUTCOMES,
    REIMBURSEMENT_STATES,
    REQUEST_STATES,
)


def _count(model) -> int:
    return db.session.scalar(select(func.count()).select_from(model))


def _fired(entity_type: str) -> set[str]:
    return set(
        db.session.scalars(
            select(AuditEntry.action).where(AuditEntry.entity_type == entity_type).distinct()
        )
    )


def test_seed_demo_covers_the_whole_process_verifies_and_is_idempotent(runner, app):
    first = runner.invoke(args=["seed-demo", "--copies", "1"])
    assert first.exit_code == 0, first.output
    assert "agenzia@demo.hta" in first.output and "demo-agenzia-2026" in first.output

    check_states_people_and_organisations()
    check_every_transition_fired()
    check_every_outcome_published()
    check_consultation_comments()
    check_factual_accuracy_comments_answered()
    check_conflicts_of_interest()
    check_designated_centres_and_asks()
    check_procurement_by_every_route()
    check_usage_figures_consistent_with_the_dossiers()
    check_needs_milestones_reuse_and_safety()
    check_histories_dated_plausibly()
    check_barriers_of_every_kind_and_status()
    check_regional_tariffs()
    assert verify_chain().ok

    entries = _count(AuditEntry)
    second = runner.invoke(args=["seed-demo", "--copies", "1"])
    assert second.exit_code == 0 and "already present" in second.output
    assert _count(AuditEntry) == entries


def check_states_people_and_organisations():
    assert set(db.session.scalars(select(DeviceRequest.state))) == set(REQUEST_STATES)
    assert set(db.session.scalars(select(Adoption.state))) == set(ADOPTION_STATES)
    roles = set(db.session.scalars(select(User.role)))
    assert roles == {"admin", "agency", "assessor", "irccs", "manufacturer"}
    kinds = dict(
        db.session.execute(
            select(Organisation.kind, func.count()).group_by(Organisation.kind)
        ).all()
    )
    assert kinds["irccs"] >= 6 and kinds["regional_body"] == 3 and kinds["manufacturer"] == 3


def check_every_transition_fired():
    """Every trigger of both workflows, read from their specs: no exclusion. (`resume` is one
    trigger with one transition per state it may return to; one resumption covers it.)"""
    missing_request = set(REQUEST_WORKFLOW.triggers) - _fired("request")
    missing_adoption = set(ADOPTION_WORKFLOW.triggers) - _fired("adoption")
    missing_tariff = set(REIMBURSEMENT_WORKFLOW.triggers) - _fired("reimbursement")
    assert not missing_request, f"request triggers never fired: {sorted(missing_request)}"
    assert not missing_adoption, f"adoption triggers never fired: {sorted(missing_adoption)}"
    assert not missing_tariff, f"tariff triggers never fired: {sorted(missing_tariff)}"


def check_every_outcome_published():
    published = set(
        db.session.scalars(
            select(Recommendation.outcome).where(Recommendation.published_at.is_not(None))
        )
    )
    assert published == set(OUTCOMES)


def check_consultation_comments():
    comments = db.session.scalars(select(ConsultationComment)).all()
    assert {c.status for c in comments} == set(COMMENT_STATUSES)
    published = [c for c in comments if c.status == "published"]
    assert all(c.answer for c in published), "every published comment has the agency's answer"
    assert all(c.moderation_reason for c in comments if c.status == "rejected")
    # Published recommendations show the comments of their (closed) consultation, answered.
    assert any(
        c.request.recommendation and c.request.recommendation.published_at for c in published
    )
    # The pending one waits on a consultation still open.
    pending = [c for c in comments if c.status == "pending"]
    assert {db.session.get(DeviceRequest, c.request_id).state for c in pending} == {"consultation"}


def check_factual_accuracy_comments_answered():
    comments = db.session.scalars(select(FactualComment)).all()
    assert {c.response for c in comments} == set(FACTUAL_RESPONSES)
    assert all(c.reply and c.replied_by_id for c in comments)


def check_conflicts_of_interest():
    declarations = db.session.scalars(select(CoiDeclaration)).all()
    assert any(not d.has_conflict for d in declarations), "declared none"
    assert any(d.has_conflict and d.overridden_at and d.override_reason for d in declarations)
    # Declared, not overridden: the agency assigned another body, whose assessor took over.
    reassigned = [
        d
        for d in declarations
        if d.has_conflict
        and d.overridden_at is None
        and db.session.get(DeviceRequest, d.request_id).assigned_body_id
        != db.session.get(User, d.user_id).organisation_id
    ]
    assert reassigned
    assert all(
        db.session.get(DeviceRequest, d.request_id).state != "assignment" for d in reassigned
    )


def check_designated_centres_and_asks():
    assert _count(DesignatedCentre) > 0
    statuses = set(db.session.scalars(select(DesignationRequest.status)))
    assert statuses == set(DESIGNATION_STATUSES)
    # A recommendation naming centres opens adoption records at those centres only.
    outside = db.session.scalar(
        select(func.count())
        .select_from(Adoption)
        .where(
            Adoption.request_id.in_(select(DesignatedCentre.request_id)),
            ~select(DesignatedCentre.id)
            .where(
                DesignatedCentre.request_id == Adoption.request_id,
                DesignatedCentre.irccs_id == Adoption.irccs_id,
            )
            .exists(),
        )
    )
    assert outside == 0
    # A restricted recommendation reaches a patient at one of its designated centres.
    restricted_in_use = db.session.scalar(
        select(func.count())
        .select_from(Adoption)
        .join(Recommendation, Recommendation.request_id == Adoption.request_id)
        .where(
            Recommendation.outcome == "recommended_restricted",
            Adoption.first_use_at.is_not(None),
        )
    )
    assert restricted_in_use >= 1


def check_procurement_by_every_route():
    procurements = db.session.scalars(select(Procurement)).all()
    assert {p.route for p in procurements} == set(PROCUREMENT_ROUTES)
    awarded = [p for p in procurements if p.awarded_price is not None]
    assert len({p.route for p in awarded}) >= 3
    for procurement in awarded:
        assert is_valid_cig(procurement.cig) and procurement.supplier and procurement.award_date
        list_price = procurement.adoption.request.list_price
        assert procurement.awarded_price >= list_price * Decimal("0.8")  # a year's units at least
    assert any(p.awarded_price is None and p.call_date for p in procurements), "awaiting award"


def check_usage_figures_consistent_with_the_dossiers():
    """Spend is units at the list price or less (a tender's discount); the IRCCS together
    never use more in a year than the dossier expects nationally, so never spend more than
    the dossier's yearly budget impact."""
    reports = db.session.scalars(select(UsageReport)).all()
    assert len(reports) >= 10
    yearly: dict[tuple[int, int], int] = {}
    for report in reports:
        request = report.adoption.request
        assert report.units >= 1 and report.procedures == report.units
        unit_price = report.spend / report.units
        assert request.list_price * Decimal("0.8") <= unit_price <= request.list_price
        key = (request.id, report.year)
        yearly[key] = yearly.get(key, 0) + report.units
    for (request_id, _year), units in yearly.items():
        request = db.session.get(DeviceRequest, request_id)
        assert units <= request.expected_volume_per_year
        assert units * request.list_price <= request.budget_impact_3y / 3


def check_needs_milestones_reuse_and_safety():
    assert _count(ClinicalNeed) == 3 and _count(NeedEndorsement) >= 6
    assert _count(NeedLink) == 3
    assert _count(PriorAssessment) == 2 and _count(DomainReuse) == 3
    assert _count(EvidenceMilestone) == 2
    assert _count(SafetyAlert) >= 1  # demo usage over a device's threshold


def check_histories_dated_plausibly():
    """Everything happened in the past, and a published recommendation took months, not
    minutes, from submission (so the timing reports show realistic figures)."""
    now = utcnow() + timedelta(minutes=5)
    assert db.session.scalar(select(func.max(AuditEntry.occurred_at))) <= now
    assert db.session.scalar(select(func.max(UsageReport.reported_at))) <= now
    days = [
        (published - submitted).days
        for published, submitted in db.session.execute(
            select(Recommendation.published_at, DeviceRequest.submitted_at)
            .join(DeviceRequest, DeviceRequest.id == Recommendation.request_id)
            .where(Recommendation.published_at.is_not(None))
        )
    ]
    assert 180 <= median(days) <= 720


def check_barriers_of_every_kind_and_status():
    """Every barrier kind, owner and status, an overdue one, one escalated then resolved,
    in several regions."""
    rows = db.session.execute(
        select(AdoptionBarrier, Organisation.region)
        .join(Adoption, Adoption.id == AdoptionBarrier.adoption_id)
        .join(Organisation, Organisation.id == Adoption.irccs_id)
    ).all()
    barriers = [barrier for barrier, _region in rows]
    assert {b.kind for b in barriers} == set(BARRIER_KINDS)
    assert {b.owner for b in barriers} == {"irccs", "region", "agency"}
    assert {b.status for b in barriers} == {"open", "escalated", "resolved"}
    assert any(b.status == "resolved" and b.escalated_at is not None for b in barriers)
    today = rome_date(utcnow())
    assert any(b.status != "resolved" and b.due_date < today for b in barriers)  # overdue
    assert len({region for _barrier, region in rows}) >= 3


def check_regional_tariffs():
    """Regional tariffs across regions: the region's three decisions and a case under
    evaluation whatever the number of copies (a case still "requested" depends on which
    adoption paths the copies play)."""
    tariffs = set(db.session.scalars(select(Reimbursement.state)))
    assert tariffs >= set(REIMBURSEMENT_STATES) - {"requested"}
    assert len(set(db.session.scalars(select(Reimbursement.region)))) >= 2
