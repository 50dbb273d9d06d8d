"""The published rules (issue 13, item 6): what intake checks (the fields and documents a
submission needs), the prioritisation criteria with the weights in force, the deadline of
each stage and the consultation minimum as currently set.

Read from the very data the app applies: `app.domain.dossier_rules` (fields, and which risk
classes need a notified body), the configured mandatory documents, the stored weights
(`current_weights`), the deadline settings (`effective_deadlines`, `effective_minimums`).
Nothing is copied here, so the page follows every change of a weight or a deadline. Three
statements (weights, deadlines, minimums).
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal

from app.assessment.prioritisation import current_weights
from app.core.deadline_settings import CONFIGURABLE_STATES, effective_deadlines, effective_minimums
from app.documents.labels import DOC_TYPE_LABELS
from app.documents.operations import mandatory_types
from app.domain.dossier_rules import (
    CERTIFICATE_FIELDS,
    REQUIRED_FOR_SUBMISSION,
    notified_body_required,
)
from app.domain.prioritisation import CRITERIA, SCORE_MAX, WEIGHTED_CRITERIA
from app.domain.vocab import RISK_CLASSES_BY_REGULATION
from app.forms.assessment import CRITERION_LABELS
from app.labels import DOSSIER_FIELD_LABELS, DOSSIER_SECTION_LABELS
from app.reports.timing import deadline_text
from app.workflow.labels import DEADLINE_LABELS

CONSULTATION = "consultation"


@dataclass(frozen=True)
class Criterion:
    code: str
    label: str
    weight: Decimal
    share: float | None  # of the total weight (0-1)
    derived: bool  # filled from the data (declared needs), not scored by hand


@dataclass(frozen=True)
class Deadline:
    state: str
    label: str
    text: str  # "" when the stage has no deadline


@dataclass(frozen=True)
class PublishedRules:
    sections: list[tuple[str, list[str]]]
    certificate_fields: list[str]
    certificate_classes: list[str]
    documents: list[str]
    criteria: list[Criterion]
    score_max: int
    deadlines: list[Deadline]
    consultation_minimum_days: int


def _certificate_classes() -> list[str]:
    """The risk classes whose devices need a notified body (and so the certificate fields)."""
    classes = {c for group in RISK_CLASSES_BY_REGULATION.values() for c in group}
    order = [c for group in RISK_CLASSES_BY_REGULATION.values() for c in group]
    needed = {c for c in classes if notified_body_required(None, c)}
    return sorted(needed, key=order.index)


def _criteria() -> list[Criterion]:
    weights = current_weights()
    total = sum(weights.values())
    return [
        Criterion(
            code,
            str(CRITERION_LABELS.get(code, code)),
            weights[code],
            float(weights[code] / total) if total else None,
            code not in CRITERIA,
        )
        for code in WEIGHTED_CRITERIA
    ]


def _deadlines() -> list[Deadline]:
    rules = effective_deadlines()
    return [
        # The deadlines' own labels: the regional tariff's is not a request state's.
        Deadline(state, str(DEADLINE_LABELS.get(state, state)), deadline_text(rules.get(state)))
        for state in CONFIGURABLE_STATES
    ]


def published_rules() -> PublishedRules:
    """The rules in force, labelled in the current language."""
    return PublishedRules(
        sections=[
            (
                str(DOSSIER_SECTION_LABELS.get(section, section)),
                [str(DOSSIER_FIELD_LABELS.get(name, name)) for name in fields],
            )
            for section, fields in REQUIRED_FOR_SUBMISSION
        ],
        certificate_fields=[str(DOSSIER_FIELD_LABELS.get(n, n)) for n in CERTIFICATE_FIELDS],
        certificate_classes=_certificate_classes(),
        documents=[str(DOC_TYPE_LABELS.get(t, t)) for t in mandatory_types()],
        criteria=_criteria(),
        score_max=SCORE_MAX,
        deadlines=_deadlines(),
        consultation_minimum_days=effective_minimums().get(CONSULTATION, 0),
    )
