"""A small, hand-computable history for the report tests (rows built directly, no workflow).

Every moment is at 10:00 UTC, so every duration is a whole number of days; NOW is 31 March
2025, 10:00 UTC. Three submitted requests and one draft:

A  manufacturer M1, body L (lombardia), class III, EMDN P0703, submitted 2024-01-08.
   intake_review 10 · incomplete 20 (clock stop) · intake_review 5 · awaiting_prioritisation 30
   · prioritisation 60 · assignment 10 · assessment 90 · factual_accuracy_check 14 (clock stop)
   · appraisal 30 · consultation 30 -> published 2024-11-02 "recommended"; adoption_monitoring
   open (149 days at NOW). End to end: gross 299, net 299 - 20 - 14 = 265.
B  manufacturer M2, body T (toscana), class IIb, EMDN Z1204, submitted 2024-03-04.
   intake_review 20 (LATE: deadline 15) · awaiting_prioritisation 10 · prioritisation 60 ·
   assignment 5 · assessment 40 · information_requested 30 (clock stop) · assessment 73 ·
   factual_accuracy_check 15 (10 working days from Mon 28 Oct 2024, over the 1 November
   holiday: due Tue 12 Nov, not late) · appraisal 40 (LATE: deadline 30) · consultation 30 ->
   published 2025-01-21 "recommended_restricted"; adoption_monitoring open (69 days).
   End to end: gross 323, net 323 - 30 - 15 = 278. Its budget impact and expected volume
   are confidential.
C  manufacturer M1, body L, class IIa, EMDN P01, submitted 2024-12-02, still in assessment
   since 2025-01-11 (79 days), due 2025-03-01 10:00 UTC: 30 days late; 119 days since
   submission, all net.
D  manufacturer M2, a draft (never counted).

Stage visits and spans are written directly (no workflow): each visit keeps its duration once
left through `StageRecord` itself, and the requests' spans (`RequestTiming`) are computed at
the end, as the workflow would have kept them.

Adoption: A published 2024-11-02: I1 (lombardia) decided after 30 days, first use after 60,
in use; I2 (lazio) declined after 90 days; I3 (toscana) not started. B published 2025-01-21:
I1 local evaluation; I3 decided after 30 days, first use after 40, in use. Usage (latest
versions): A-I1 2024 Q4 5 units, 5 procedures, 9,250.00 EUR; A-I1 2025 Q1 version 1
(10 units) corrected by version 2 (12 units, 9 procedures, 22,200.00 EUR, 1 adverse event);
B-I3 2025 Q1 4 units, 4 procedures, 7,400.00 EUR.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from decimal import Decimal

from app.adoption.path_store import rebuild_patient_paths
from app.core.audit import record_audit
from app.core.request_timings import refresh_request_timings
from app.domain.deadlines import DeadlineRule, due_at
from app.models import Adoption, Recommendation, StageRecord, UsageReport
from app.workflow.states import CLOCK_STOP_STATES

NOW = datetime(2025, 3, 31, 10, tzinfo=UTC)
SECRET_DEVICE = "SecretValve Zeta"
SECRET_BUDGET = Decimal("987654.32")
SECRET_VOLUME = 404
M2_NAME = "Rival Devices S.p.A."

DEADLINES = {
    "intake_review": DeadlineRule(15),
    "incomplete": DeadlineRule(30),
    "prioritisation": DeadlineRule(90),
    "assignment": DeadlineRule(15),
    "assessment": DeadlineRule(90),
    "information_requested": DeadlineRule(30),
    "factual_accuracy_check": DeadlineRule(10, working_days=True),
    "appraisal": DeadlineRule(30),
    "consultation": DeadlineRule(30),
    "adoption_monitoring": DeadlineRule(3 * 365),
}


def at(year: int, month: int, day: int) -> datetime:
    return datetime(year, month, day, 10, tzinfo=UTC)


@dataclass
class History:
    agency_org: object
    body_l: object
    body_t: object
    m1: object
    m2: object
    i1: object
    i2: object
    i3: object
    a: object
    b: object
    c: object
    d: object
    agency: object
    assessor_l: object
    maker1: object
    maker2: object
    irccs1: object
    admin: object


def _stages(session, request, start: datetime, stages, *, open_due: datetime | None = None):
    """Add the stage records of `stages` [(state, days)], the last one open when days is None."""
    moment = start
    for state, days in stages:
        left = None if days is None else moment + timedelta(days=days)
        due = due_at(DEADLINES.get(state), moment)
        if days is None and open_due is not None:
            due = open_due
        session.add(
            StageRecord(
                request_id=request.id,
                state=state,
                entered_at=moment,
                left_at=left,
                due_at=due,
                clock_stopped=state in CLOCK_STOP_STATES,
            )
        )
        if left is not None:
            moment = left
    return moment


def build_history(make, session, *, with_audit: bool = True) -> History:
    agency_org = make.org("agency", name="Agenzia centrale")
    body_l = make.org("regional_body", name="HTA Lombardia", region="lombardia")
    body_t = make.org("regional_body", name="HTA Toscana", region="toscana")
    m1 = make.org("manufacturer", name="Alpha Medical S.r.l.")
    m2 = make.org("manufacturer", name=M2_NAME)
    i1 = make.org("irccs", name="IRCCS Milano", region="lombardia")
    i2 = make.org("irccs", name="IRCCS Roma", region="lazio")
    i3 = make.org("irccs", name="IRCCS Firenze", region="toscana")

    a = make.request(
        manufacturer=m1,
        complete=True,
        trade_name="CardioValve",
        model="CV-1",
        state="adoption_monitoring",
        receipt_number="HTA-2024-0001",
        submitted_at=at(2024, 1, 8),
        assigned_body_id=body_l.id,
        risk_class="III",
        emdn_code="P0703",
        expected_volume_per_year=150,
        budget_impact_3y=Decimal("2500000.00"),
    )
    b = make.request(
        manufacturer=m2,
        complete=True,
        trade_name=SECRET_DEVICE,
        model="SZ-9",
        state="adoption_monitoring",
        receipt_number="HTA-2024-0002",
        submitted_at=at(2024, 3, 4),
        assigned_body_id=body_t.id,
        risk_class="IIb",
        emdn_code="Z1204",
        expected_volume_per_year=SECRET_VOLUME,
        budget_impact_3y=SECRET_BUDGET,
        confidential_fields=["budget_impact_3y", "expected_volume_per_year"],
    )
    c = make.request(
        manufacturer=m1,
        complete=True,
        trade_name="GlucoSense",
        model="GS-2",
        state="assessment",
        receipt_number="HTA-2024-0003",
        submitted_at=at(2024, 12, 2),
        assigned_body_id=body_l.id,
        risk_class="IIa",
        emdn_code="P01",
    )
    d = make.request(manufacturer=m2, trade_name="Draft Device", state="draft")

    end_a = _stages(
        session,
        a,
        a.submitted_at,
        [
            ("intake_review", 10),
            ("incomplete", 20),
            ("intake_review", 5),
            ("awaiting_prioritisation", 30),
            ("prioritisation", 60),
            ("assignment", 10),
            ("assessment", 90),
            ("factual_accuracy_check", 14),
            ("appraisal", 30),
            ("consultation", 30),
        ],
    )
    _stages(session, a, end_a, [("adoption_monitoring", None)])
    end_b = _stages(
        session,
        b,
        b.submitted_at,
        [
            ("intake_review", 20),
            ("awaiting_prioritisation", 10),
            ("prioritisation", 60),
            ("assignment", 5),
            ("assessment", 40),
            ("information_requested", 30),
            ("assessment", 73),
            ("factual_accuracy_check", 15),
            ("appraisal", 40),
            ("consultation", 30),
        ],
    )
    _stages(session, b, end_b, [("adoption_monitoring", None)])
    _stages(
        session,
        c,
        c.submitted_at,
        [
            ("intake_review", 10),
            ("awaiting_prioritisation", 5),
            ("prioritisation", 20),
            ("assignment", 5),
            ("assessment", None),
        ],
        open_due=at(2025, 3, 1),
    )
    assert end_a == at(2024, 11, 2) and end_b == at(2025, 1, 21)
    session.add_all(
        [
            Recommendation(
                request_id=a.id,
                outcome="recommended",
                published_at=end_a,
                rationale="Better outcomes than surgery.",
            ),
            Recommendation(
                request_id=b.id,
                outcome="recommended_restricted",
                published_at=end_b,
                rationale="Only in high-volume centres.",
            ),
        ]
    )
    a_i1 = Adoption(
        request_id=a.id,
        irccs_id=i1.id,
        state="in_use",
        decided_at=end_a + timedelta(days=30),
        first_use_at=end_a + timedelta(days=60),
    )
    a_i2 = Adoption(
        request_id=a.id,
        irccs_id=i2.id,
        state="declined",
        decline_reason="no_budget",
        decided_at=end_a + timedelta(days=90),
    )
    a_i3 = Adoption(request_id=a.id, irccs_id=i3.id, state="not_started")
    b_i1 = Adoption(request_id=b.id, irccs_id=i1.id, state="local_evaluation")
    b_i3 = Adoption(
        request_id=b.id,
        irccs_id=i3.id,
        state="in_use",
        decided_at=end_b + timedelta(days=30),
        first_use_at=end_b + timedelta(days=40),
    )
    session.add_all([a_i1, a_i2, a_i3, b_i1, b_i3])
    session.flush()
    session.add_all(
        [
            UsageReport(
                adoption_id=a_i1.id,
                year=2024,
                quarter=4,
                units=5,
                procedures=5,
                spend=Decimal("9250.00"),
                adverse_events=0,
                version=1,
                reported_at=NOW,
            ),
            UsageReport(
                adoption_id=a_i1.id,
                year=2025,
                quarter=1,
                units=10,
                procedures=8,
                spend=Decimal("18500.00"),
                adverse_events=0,
                version=1,
                reported_at=NOW,
            ),
            UsageReport(
                adoption_id=a_i1.id,
                year=2025,
                quarter=1,
                units=12,
                procedures=9,
                spend=Decimal("22200.00"),
                adverse_events=1,
                version=2,
                reported_at=NOW,
            ),
            UsageReport(
                adoption_id=b_i3.id,
                year=2025,
                quarter=1,
                units=4,
                procedures=4,
                spend=Decimal("7400.00"),
                adverse_events=0,
                version=1,
                reported_at=NOW,
            ),
        ]
    )
    agency = make.user("agency", organisation=agency_org, language="en")
    assessor_l = make.user("assessor", organisation=body_l, language="en")
    maker1 = make.user("manufacturer", organisation=m1, language="en")
    maker2 = make.user("manufacturer", organisation=m2, language="en")
    irccs1 = make.user("irccs", organisation=i1, language="en")
    admin = make.user("admin", language="en")
    if with_audit:
        record_audit(
            maker2,
            entity_type="request",
            entity_id=b.id,
            request_id=b.id,
            action="submit",
            now=b.submitted_at,
            from_state="draft",
            to_state="intake_review",
        )
        record_audit(
            maker2,
            entity_type="request",
            entity_id=b.id,
            request_id=b.id,
            action="edit",
            now=b.submitted_at + timedelta(days=25),
            changes={
                "budget_impact_3y": ["900000.00", str(SECRET_BUDGET)],
                "model": ["SZ-8", "SZ-9"],
            },
        )
        record_audit(
            agency,
            entity_type="request",
            entity_id=a.id,
            request_id=a.id,
            action="publish",
            now=end_a,
            from_state="consultation",
            to_state="adoption_monitoring",
            data={"outcome": "recommended"},
        )
    session.flush()
    # The workflow keeps each request's spans after every stage change; written directly,
    # the history has them computed once (as `flask db upgrade` does for existing data).
    refresh_request_timings()
    # And the paths to the first patient (`flask report rebuild-paths`).
    rebuild_patient_paths()
    return History(
        agency_org,
        body_l,
        body_t,
        m1,
        m2,
        i1,
        i2,
        i3,
        a,
        b,
        c,
        d,
        agency,
        assessor_l,
        maker1,
        maker2,
        irccs1,
        admin,
    )
