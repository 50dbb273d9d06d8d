"""`flask seed-demo`: demo organisations, one user per role, and requests in every state.

Every state change goes through the workflow's `fire`, with backdated times, so the demo
database has realistic timelines (some late, some with clock stops) and its audit chain
verifies. Idempotent: a second run finds the agency and only reprints the logins.
"""

from __future__ import annotations

import base64
import hashlib
import io
import random
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from decimal import Decimal
from functools import lru_cache

from flask import current_app
from reportlab.pdfgen import canvas
from sqlalchemy import select

from app.accounts.passwords import hash_password
from app.assessment.core_model import save_assessment
from app.assessment.prioritisation import save_scores
from app.core.fire import fire
from app.demo import catalogue, exchanges
from app.demo.adoptions import play_adoptions
from app.demo.barriers import create_barriers
from app.demo.milestones import create_milestones
from app.demo.needs import create_needs
from app.demo.reuse import create_reuse
from app.demo.tariffs import create_tariffs
from app.documents.information import open_round, save_answer, send_answers
from app.documents.operations import BytesUpload, DocumentMeta, upload_document
from app.domain.core_model import DOMAINS
from app.domain.deadlines import DEFAULT_MINIMUM_DAYS, earliest_leaving
from app.domain.dossier_rules import gmn_check_pair
from app.domain.prioritisation import CRITERIA
from app.extensions import db
from app.models import (
    Comparator,
    DesignatedCentre,
    DeviceRequest,
    EvidenceItem,
    Organisation,
    User,
)
from app.models.types import utcnow

SEED = 20261125
STAFF_PASSWORD_SUFFIX = "-2026"  # noqa: S105 (demo data, printed on purpose)


@dataclass
class SeedResult:
    created: bool
    logins: list[tuple[str, str, str, str]]  # (role, email, password, TOTP key or "")
    requests: int = 0


@dataclass
class Cast:
    """Who acts in the demo histories."""

    agency: User
    manufacturers: list[User]
    assessors: dict[int, User]  # regional body id -> assessor
    irccs_users: dict[int, User]  # irccs id -> user
    bodies: list[Organisation]
    extra: dict = field(default_factory=dict)


def seed_demo(now: datetime, copies: int = 2) -> SeedResult:
    """Load the demo data unless present. `copies` requests per scenario (different speeds)."""
    logins = [
        (role, email, password, demo_totp_secret(email) if _needs_second_factor(role) else "")
        for email, password, role, _, _ in catalogue.DEMO_LOGINS
    ]
    if db.session.scalar(select(Organisation).where(Organisation.name == catalogue.AGENCY)):
        return SeedResult(created=False, logins=logins)
    cast = _create_people()
    rng = random.Random(SEED)
    count = _create_requests(cast, now, rng, copies)
    create_needs(cast, now)
    create_reuse(cast, now)
    create_milestones(cast, now, _demo_pdf("Evidence report"))
    create_barriers(cast, now)
    create_tariffs(cast, now)
    return SeedResult(created=True, logins=logins, requests=count)


# --- organisations and people ----------------------------------------------------------------


def _org(name: str, kind: str, region: str | None = None, **fields) -> Organisation:
    organisation = Organisation(name=name, kind=kind, region=region, **fields)
    db.session.add(organisation)
    return organisation


def demo_totp_secret(email: str) -> str:
    """The demo user's TOTP key: derived from the email, so `flask seed-demo` prints the same
    key on every run (the demo is public; real users enrol their own random key)."""
    digest = hashlib.sha256(f"hta-demo-totp:{email}".encode()).digest()
    return base64.b32encode(digest[:20]).decode()


def _needs_second_factor(role: str) -> bool:
    return role in current_app.config["SECOND_FACTOR_REQUIRED_ROLES"]


def _user(
    email: str, password: str, role: str, organisation, full_name: str, password_hash: str = ""
) -> User:
    """A demo user; `password_hash`, when given, is the hash of `password` already computed
    (the colleagues share one password: hashing it once keeps `flask seed-demo` fast)."""
    user = User(
        email=email,
        password_hash=password_hash or hash_password(password),
        role=role,
        organisation=organisation,
        full_name=full_name,
    )
    if _needs_second_factor(role):
        user.totp_secret = demo_totp_secret(email)
        user.totp_enabled_at = utcnow()
    db.session.add(user)
    return user


def _create_people() -> Cast:
    orgs = {catalogue.AGENCY: _org(catalogue.AGENCY, "agency")}
    bodies = [_org(name, "regional_body", region) for name, region in catalogue.REGIONAL_BODIES]
    irccs = [_org(name, "irccs", region) for name, region in catalogue.IRCCS]
    makers = [
        _org(name, "manufacturer", vat_number=vat, eudamed_srn=srn)
        for name, vat, srn in catalogue.MANUFACTURERS
    ]
    for organisation in (*bodies, *irccs, *makers):
        orgs[organisation.name] = organisation
    db.session.flush()

    named = {}
    for email, password, role, org_name, full_name in catalogue.DEMO_LOGINS:
        named[email] = _user(email, password, role, orgs.get(org_name), full_name)
    # Colleagues, so that every body, IRCCS and manufacturer has someone who can act.
    staff = {"password": "demo-staff" + STAFF_PASSWORD_SUFFIX}
    staff["password_hash"] = hash_password(staff["password"])
    assessors = {bodies[0].id: named["valutatore@demo.hta"]}
    for n, body in enumerate(bodies[1:], start=2):
        assessors[body.id] = _user(
            email=f"valutatore{n}@demo.hta",
            role="assessor",
            organisation=body,
            full_name=f"Valutatore {n}",
            **staff,
        )
    irccs_users = {irccs[0].id: named["irccs@demo.hta"]}
    for n, hospital in enumerate(irccs[1:], start=2):
        irccs_users[hospital.id] = _user(
            email=f"irccs{n}@demo.hta",
            role="irccs",
            organisation=hospital,
            full_name=f"Referente IRCCS {n}",
            **staff,
        )
    manufacturers = [named["produttore@demo.hta"]]
    for n, maker in enumerate(makers[1:], start=2):
        manufacturers.append(
            _user(
                email=f"produttore{n}@demo.hta",
                role="manufacturer",
                organisation=maker,
                full_name=f"Referente regolatorio {n}",
                **staff,
            )
        )
    db.session.flush()
    return Cast(
        agency=named["agenzia@demo.hta"],
        manufacturers=manufacturers,
        assessors=assessors,
        irccs_users=irccs_users,
        bodies=bodies,
    )


# --- dossiers ---------------------------------------------------------------------------------


def _basic_udi_di(n: int) -> str:
    data = f"8012345DEMO{n:03d}"
    return data + gmn_check_pair(data)


def _gtin(n: int) -> str:
    from stdnum import ean

    body = f"0801234{n:06d}"
    return body + ean.calc_check_digit(body)


def _dossier(device: dict, n: int, manufacturer: User, created_at: datetime) -> DeviceRequest:
    price = Decimal(device["price"])
    volume = device["volume"]
    request = DeviceRequest(
        manufacturer_id=manufacturer.organisation_id,
        created_by_id=manufacturer.id,
        created_at=created_at,
        trade_name=device["trade_name"],
        model=device["model"],
        intended_purpose=f"{device['intervention']} per {device['condition'].lower()}.",
        regulation=device["regulation"],
        risk_class=device["risk_class"],
        basic_udi_di=_basic_udi_di(n),
        udi_di=_gtin(n),
        emdn_code=device["emdn_code"],
        repertorio_number=str(1800000 + n),
        notified_body_number="0123" if n % 2 else "0476",
        ce_certificate_number=f"CE-{device['model']}-{2024 + n % 2}",
        ce_certificate_issued_on=catalogue.CE_ISSUED,
        ce_certificate_expires_on=catalogue.CE_EXPIRES,
        is_software=device.get("is_software", False),
        uses_ai=device.get("uses_ai", False),
        is_implantable=device.get("is_implantable", False),
        condition=device["condition"],
        severity=device["severity"],
        population=device["population"],
        eligible_patients_per_year=device["eligible"],
        intervention=device["intervention"],
        care_setting=device["setting"],
        outcomes=device["outcomes"],
        claimed_benefits="Esiti migliori e meno complicanze rispetto al comparatore.",
        unmet_need="Pazienti per i quali l'attuale standard di cura non è adatto.",
        list_price=price,
        acquisition_cost=price,
        running_costs_per_year=(price * Decimal("0.08")).quantize(Decimal("0.01")),
        budget_impact_3y=(price * volume * catalogue.DEFAULT_BUDGET_FACTOR).quantize(
            Decimal("0.01")
        ),
        expected_volume_per_year=volume,
        consent_to_publication=n % 5 != 0,
        confidential_fields=["list_price", "budget_impact_3y"] if n % 3 == 0 else [],
        coi_declared=True,
        coi_declaration="Nessun legame economico con i valutatori o con il personale degli IRCCS.",
    )
    request.comparators = [Comparator(position=1, description=device["comparator"])]
    request.evidence = [
        EvidenceItem(
            position=1,
            design="rct",
            patients=220 + n * 7,
            follow_up_months=12,
            reference=f"{device['trade_name']}, studio registrativo, 2023",
        ),
        EvidenceItem(
            position=2,
            design="registry",
            patients=900 + n * 31,
            follow_up_months=24,
            reference=f"{device['trade_name']}, registro europeo, 2024",
        ),
    ]
    db.session.add(request)
    db.session.flush()
    return request


# --- histories --------------------------------------------------------------------------------

# A step: (trigger, who acts, days after the previous step, reason, data).
# Who: "M" manufacturer, "A" agency, "R" assessor of the assigned body, "S" the system.
RECOMMENDATION = {
    "rationale": (
        "Beneficio clinico dimostrato in uno studio randomizzato; impatto sul budget accettabile."
    ),
    "conditions": "",
    "evidence_requirements": "",
}

SUBMITTED = [("submit", "M", 0, "", {})]
ADMITTED = [*SUBMITTED, ("admit", "A", 11, "", {})]
IN_PRIORITISATION = [*ADMITTED, ("start_prioritisation", "A", 25, "", {})]
IN_ASSIGNMENT = [
    *IN_PRIORITISATION,
    ("prioritise", "A", 70, "Bisogno insoddisfatto elevato ed evidenze solide.", {}),
]
IN_ASSESSMENT = [
    *IN_ASSIGNMENT,
    ("assign_body", "A", 4, "", {"regional_body": "BODY"}),
    ("accept_assignment", "R", 6, "", {}),
]
INFO_REQUESTED = [
    *IN_ASSESSMENT,
    (
        "request_information",
        "R",
        35,
        "",
        {
            "questions": [
                "Fornire i dati di follow-up a 24 mesi.",
                "Descrivere il piano di formazione.",
            ]
        },
    ),
]
IN_FACTUAL_CHECK = [
    *INFO_REQUESTED,
    (
        "answer_information",
        "M",
        21,
        "",
        {"answers": "In allegato i dati e il piano di formazione."},
    ),
    ("send_draft_report", "R", 40, "", {}),
]
IN_APPRAISAL = [
    *IN_FACTUAL_CHECK,
    ("return_factual_comments", "M", 9, "", {"comments": "Due correzioni numeriche."}),
    ("finalise_report", "R", 5, "", {}),
]

# Steps that only the demo takes, through the same services as the pages but not through
# `fire` (their stage content does it all): declared conflicts of interest and comments.
DEMO_ONLY_STEPS = frozenset({"declare_conflict", "override_conflict", "consultation_comments"})


# What each outcome requires besides the rationale (the workflow's recommendation guards).
# "REVIEW" stands for a review date three years after the step; "CENTRES" for the designated
# IRCCS (every other one, the demo IRCCS login's first among them).
OUTCOME_DETAILS = {
    "recommended_restricted": {
        "conditions": "Only in centres with cardiac surgery on site, for patients unfit for "
        "open surgery.",
        "designated_centres": "CENTRES",
        "designation_criteria": "IRCCS with cardiac surgery on site.",
    },
    "recommended_with_evidence_generation": {
        "evidence_requirements": "Follow-up a due anni nel registro di ogni paziente impiantato.",
        "review_date": "REVIEW",
        "designated_centres": "CENTRES",
        "designation_criteria": "IRCCS taking part in the national registry.",
    },
}


def _recommendation(outcome: str) -> dict:
    return {**RECOMMENDATION, **OUTCOME_DETAILS.get(outcome, {}), "outcome": outcome}


def _in_consultation(outcome: str) -> list:
    return [
        *IN_APPRAISAL,
        ("open_consultation", "A", 26, "", _recommendation(outcome)),
    ]


# A consultation still open: the comments of its first three weeks, one awaiting moderation.
CONSULTATION_OPEN = [
    *_in_consultation("recommended_restricted"),
    ("consultation_comments", "A", 21, "", {"still_open": True}),
]


def _published(outcome: str) -> list:
    return [
        *_in_consultation(outcome),
        ("publish", "A", 31, "", _recommendation(outcome)),
    ]


# Target state -> how to get there. Two requests per path, with different speeds.
SCENARIOS: list[tuple[str, list]] = [
    ("draft", []),
    ("intake_review", SUBMITTED),
    (
        "incomplete",
        [
            *SUBMITTED,
            (
                "mark_incomplete",
                "A",
                13,
                "Il fascicolo è incompleto.",
                {
                    "missing_items": [
                        "Dichiarazione di conformità",
                        "Sintesi della valutazione clinica",
                    ]
                },
            ),
        ],
    ),
    (
        "inadmissible",
        [
            *SUBMITTED,
            (
                "declare_inadmissible",
                "A",
                14,
                "Il dispositivo non è innovativo secondo le regole del programma.",
                {},
            ),
        ],
    ),
    (
        "inadmissible_lapsed",
        [
            *SUBMITTED,
            (
                "mark_incomplete",
                "A",
                12,
                "Missing IFU.",
                {"missing_items": ["Istruzioni per l'uso"]},
            ),
            ("lapse_incomplete", "S", 33, "", {}),
        ],
    ),
    ("awaiting_prioritisation", ADMITTED),
    ("prioritisation", IN_PRIORITISATION),
    (
        "not_prioritised",
        [
            *IN_PRIORITISATION,
            (
                "not_prioritise",
                "A",
                80,
                "Beneficio atteso modesto rispetto all'assistenza attuale.",
                {},
            ),
        ],
    ),
    (
        "routed",
        [
            *IN_PRIORITISATION,
            (
                "route",
                "A",
                60,
                "Rientra nella valutazione clinica congiunta europea.",
                {"route_to": "eu_joint_clinical_assessment"},
            ),
        ],
    ),
    ("assignment", [*IN_ASSIGNMENT, ("assign_body", "A", 3, "", {"regional_body": "BODY"})]),
    ("assessment", IN_ASSESSMENT),
    ("information_requested", INFO_REQUESTED),
    ("discontinued", [*INFO_REQUESTED, ("lapse_information", "S", 32, "", {})]),
    ("factual_accuracy_check", IN_FACTUAL_CHECK),
    ("appraisal", IN_APPRAISAL),
    ("consultation", CONSULTATION_OPEN),
    ("adoption_monitoring", _published("recommended")),
    ("adoption_monitoring_evidence", _published("recommended_with_evidence_generation")),
    ("not_recommended", _published("insufficient_evidence")),
    (
        "reassessment_due",
        [
            *_published("recommended_restricted"),
            ("review_due", "A", 120, "Nuovi dati di sicurezza dal registro.", {}),
        ],
    ),
    (
        "archived",
        [
            *_published("recommended"),
            ("review_due", "A", 100, "Revisione programmata.", {}),
            ("archive", "A", 20, "Superato da una generazione più recente del dispositivo.", {}),
        ],
    ),
    ("withdrawn", [*ADMITTED, ("withdraw", "M", 10, "La strategia dell'azienda è cambiata.", {})]),
    (
        "suspended",
        [
            *IN_ASSESSMENT,
            ("suspend", "A", 20, "CE certificate suspended by the notified body.", {}),
        ],
    ),
]

# The other ways through the process (issue 13), so that every transition fires at least once
# and every outcome is published: played once (SCENARIOS are played `copies` times).
ONCE_SCENARIOS: list[tuple[str, list]] = [
    (
        "resubmitted",
        [
            *SUBMITTED,
            (
                "mark_incomplete",
                "A",
                10,
                "Manca la sintesi della valutazione clinica aggiornata.",
                {"missing_items": ["Sintesi della valutazione clinica aggiornata"]},
            ),
            ("resubmit", "M", 18, "", {}),
            ("admit", "A", 9, "", {}),
        ],
    ),
    (
        "deferred",
        [
            *IN_PRIORITISATION,
            ("defer", "A", 30, "In attesa dei dati del registro europeo, attesi a giugno.", {}),
            ("start_prioritisation", "A", 95, "", {}),
            ("prioritise", "A", 20, "I dati del registro confermano il beneficio.", {}),
        ],
    ),
    (
        "assignment_declined",
        [
            *IN_ASSIGNMENT,
            ("assign_body", "A", 4, "", {"regional_body": "BODY"}),
            (
                "decline_assignment",
                "R",
                5,
                "Nessun valutatore esperto di questa tecnologia libero nei prossimi tre mesi.",
                {},
            ),
            ("assign_body", "A", 3, "", {"regional_body": "BODY2"}),
            ("accept_assignment", "R", 4, "", {}),
        ],
    ),
    (
        "conflict_overridden",
        [
            *IN_ASSIGNMENT,
            ("assign_body", "A", 4, "", {"regional_body": "BODY"}),
            ("declare_conflict", "R", 3, "", {}),
            ("override_conflict", "A", 4, "", {}),
            ("accept_assignment", "R", 2, "", {}),
        ],
    ),
    (
        "conflict_reassigned",
        [
            *IN_ASSIGNMENT,
            ("assign_body", "A", 4, "", {"regional_body": "BODY"}),
            ("declare_conflict", "R", 2, "", {}),
            ("assign_body", "A", 5, "", {"regional_body": "BODY2"}),
            ("accept_assignment", "R", 6, "", {}),
        ],
    ),
    (
        "resumed",
        [
            *IN_ASSESSMENT,
            (
                "suspend",
                "A",
                15,
                "Avviso di sicurezza del produttore sul lotto in commercio.",
                {"fsn_number": "FSN-2025-031", "authority_reference": "DGDMF 0041275"},
            ),
            ("resume", "A", 45, "Lotto sostituito; l'avviso di sicurezza è chiuso.", {}),
            ("send_draft_report", "R", 30, "", {}),
        ],
    ),
    (
        "reassessed",
        [
            *_published("recommended_with_evidence_generation"),
            ("review_due", "A", 300, "I dati del registro a due anni sono disponibili.", {}),
            ("reassess", "A", 15, "Il registro mostra più complicanze del previsto.", {}),
        ],
    ),
    ("adoption_monitoring_restricted", _published("recommended_restricted")),
    ("only_in_research", _published("only_in_research")),
    ("not_recommended_outcome", _published("not_recommended")),
]

# Days between the last step and today: published recommendations have had time for adoption.
IDLE_DAYS_AFTER = {
    "adoption_monitoring": (450, 800),
    "adoption_monitoring_evidence": (250, 450),
    "adoption_monitoring_restricted": (300, 600),
    "reassessment_due": (10, 60),
    "archived": (5, 30),
}


def _create_requests(cast: Cast, now: datetime, rng: random.Random, copies: int) -> int:
    """Play every scenario `copies` times, and the rarer ones once. Returns how many."""
    n = 0
    devices = catalogue.DEVICES
    for copy in range(copies):
        for target, steps in SCENARIOS + (ONCE_SCENARIOS if copy == 0 else []):
            manufacturer = cast.manufacturers[n % len(cast.manufacturers)]
            body = cast.bodies[n % len(cast.bodies)]
            speed = rng.uniform(0.6, 1.5) if copy else rng.uniform(0.8, 1.2)
            total_days = sum(_step_days(step[0], step[2], speed) for step in steps)
            idle_days = rng.uniform(*IDLE_DAYS_AFTER.get(target, (5, 40)))
            start = now - timedelta(days=total_days + idle_days)
            request = _dossier(devices[n % len(devices)], n + 1, manufacturer, start)
            _play(request, steps, cast, manufacturer, body, start, speed, now, rng)
            n += 1
    return n


# Steps that may come no sooner than a minimum period after the previous one (publication:
# the public consultation's minimum), in days; a faster history still waits that long.
MINIMUM_STEP_DAYS = {"publish": DEFAULT_MINIMUM_DAYS["consultation"]}


def _step_days(trigger: str, days: float, speed: float) -> float:
    return max(days * speed, MINIMUM_STEP_DAYS.get(trigger, 0) + 1)


def _next_moment(previous: datetime, trigger: str, days: float, speed: float, rng) -> datetime:
    """When the step comes, a few hours into its day. A step held to a minimum period comes
    no sooner than the first day it is allowed (the day the consultation's minimum ends,
    which is also its deadline's day): fast histories publish on time, slower ones later."""
    hours = timedelta(hours=rng.uniform(1, 8))
    moment = previous + timedelta(days=days * speed) + hours
    earliest = earliest_leaving(previous, MINIMUM_STEP_DAYS.get(trigger))
    return moment if earliest is None else max(moment, earliest + hours)


def _play(request, steps, cast, manufacturer, body, start, speed, now, rng) -> None:
    """Take the steps in turn; then the IRCCS's adoption histories, from the publication to
    today or to the step that ended adoption monitoring (a review, then perhaps an archive)."""
    moment, published_at, monitoring_ended_at = start, None, None
    actors = {"M": manufacturer, "A": cast.agency, "S": None}
    for step in steps:
        moment = _next_moment(moment, step[0], step[2], speed, rng)
        at = min(moment, now)
        if published_at is not None and monitoring_ended_at is None:
            monitoring_ended_at = at
        _take_step(request, step, cast, actors, body, at)
        if step[0] == "publish":
            published_at = at
    if published_at is not None:
        play_adoptions(request, cast, published_at, monitoring_ended_at or now, rng)
    if request.state == "adoption_monitoring":
        # After the records' histories: a centre designated later starts "not started".
        _play_designation_asks(request, cast, moment, now)


def _take_step(request, step, cast, actors, body, at: datetime) -> None:
    """One step: what its actor does first (STAGE_CONTENT), then the transition."""
    trigger, who, _days, reason, data = step
    # "R": an assessor of the body the request is assigned to now (after a reassignment,
    # the new body's).
    actor = cast.assessors[request.assigned_body_id or body.id] if who == "R" else actors[who]
    placeholders = {
        "BODY": body.id,
        "BODY2": _next_body(cast, body).id,
        "REVIEW": (at + timedelta(days=3 * 365)).date(),
        "CENTRES": sorted(cast.irccs_users)[::2],
    }
    values = {k: placeholders.get(v, v) if isinstance(v, str) else v for k, v in data.items()}
    stage_content = STAGE_CONTENT.get(trigger)
    if stage_content is not None:
        stage_content(request, actor, at, values)
    if trigger not in FIRED_BY_STAGE_CONTENT | DEMO_ONLY_STEPS:
        fire(request, trigger, actor, at, reason=reason, **values)


def _next_body(cast: Cast, body: Organisation) -> Organisation:
    """The body the agency turns to when `body` cannot assess (declined, conflicted)."""
    return cast.bodies[(cast.bodies.index(body) + 1) % len(cast.bodies)]


def _play_designation_asks(request, cast, published_at, now) -> None:
    """With designated centres, the first IRCCS left out asks to be added (its reason in the
    audit trail) and the agency designates it a week later; the second is refused; the
    third asked last week and waits for the agency."""
    designated = set(
        db.session.scalars(
            select(DesignatedCentre.irccs_id).where(DesignatedCentre.request_id == request.id)
        )
    )
    if not designated:
        return
    left_out = [irccs_id for irccs_id in sorted(cast.irccs_users) if irccs_id not in designated]
    decisions = (
        ("designate_centre", "", "Cardiac surgery unit opened this year."),
        ("refuse_designation", "No heart team on site yet.", "We treat many eligible patients."),
        (None, "", "Our new hybrid operating room opens next month."),
    )
    for irccs_id, (decision, decision_reason, ask_reason) in zip(left_out, decisions, strict=False):
        asked_at = published_at + timedelta(days=20) if decision else now - timedelta(days=6)
        decided_at = asked_at + timedelta(days=7)
        if decided_at >= now and decision:
            return
        fire(request, "ask_designation", cast.irccs_users[irccs_id], asked_at, reason=ask_reason)
        if decision:
            fire(request, decision, cast.agency, decided_at, reason=decision_reason, irccs=irccs_id)


# --- stage content: what people do before (or instead of) firing ------------------------------


@lru_cache(maxsize=32)
def _demo_pdf(title: str) -> bytes:
    """A real one-page PDF (uploads must parse as PDFs) showing the document's title; made
    once per title (the same bytes every time: `invariant`)."""
    buffer = io.BytesIO()
    page = canvas.Canvas(buffer, invariant=1)
    page.drawString(72, 720, title)
    page.showPage()
    page.save()
    return buffer.getvalue()


def _upload_mandatory_documents(request, actor, now, _data) -> None:
    for doc_type, title in (
        ("instructions_for_use", "Istruzioni per l'uso"),
        ("ce_certificate", "Certificato CE"),
        ("clinical_evaluation_summary", "Sintesi della valutazione clinica"),
    ):
        upload = BytesUpload(_demo_pdf(title), f"{doc_type}.pdf")
        upload_document(actor, request.id, upload, DocumentMeta(doc_type, title), now)


def _score_priorities(request, actor, now, _data) -> None:
    rng = random.Random(request.id)
    entries = {
        criterion: (
            rng.randint(1, 3),
            "Punteggio basato sulle evidenze del dossier e sul bisogno insoddisfatto.",
        )
        for criterion in CRITERIA
    }
    save_scores(actor, request, entries, now)


def _assess_every_domain(request, actor, now, _data) -> None:
    entries = {
        domain: {
            "status": "done",
            "findings": "Evidenze esaminate secondo l'HTA Core Model di EUnetHTA.",
            "conclusion": "Nessun rilievo che impedisca una raccomandazione.",
        }
        for domain in DOMAINS
    }
    summary = (
        "Bozza del rapporto di valutazione: benefici dimostrati, incertezza sui dati a lungo "
        "termine."
    )
    save_assessment(actor, request, entries, summary, now, coi_cleared=True)


def _answer_questions(request, actor, now, _data) -> None:
    information_round = open_round(request.id)
    for question in information_round.questions:
        save_answer(
            actor,
            request.id,
            information_round.number,
            question.number,
            "Vedere i dati allegati e il dossier aggiornato.",
            now,
        )
    send_answers(actor, request.id, information_round.number, now)


STAGE_CONTENT = {
    "submit": _upload_mandatory_documents,
    "prioritise": _score_priorities,
    "not_prioritise": _score_priorities,
    "accept_assignment": exchanges.declare_no_conflict,
    "decline_assignment": exchanges.declare_no_conflict,
    "declare_conflict": exchanges.declare_conflict,
    "override_conflict": exchanges.override_conflict,
    "send_draft_report": _assess_every_domain,
    "answer_information": _answer_questions,
    "resubmit": _answer_questions,  # the missing items are the round's questions
    "return_factual_comments": exchanges.return_comments,
    "finalise_report": exchanges.answer_comments,
    "consultation_comments": exchanges.consultation_comments,
    "publish": exchanges.consultation_comments,
}
# These steps are fired by the stage-content service itself.
FIRED_BY_STAGE_CONTENT = frozenset({"answer_information", "resubmit", "return_factual_comments"})
