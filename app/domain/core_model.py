"""The assessment checklist: the 9 domains of the EUnetHTA HTA Core Model 3.0.

Each domain of a request's assessment has a status, findings and a conclusion. The first four
domains are the scope of the EU joint clinical assessment (HTA Regulation 2021/2282). A domain
with no row yet counts as "not_started". The draft report may go to the manufacturer only when
no domain is "not_started" (each is in progress, done, or explicitly not applicable).
Pure functions: no Flask, no database.
"""

from __future__ import annotations

from collections.abc import Mapping

from app.workflow.facts import REQUEST, states_where

DOMAINS: tuple[str, ...] = (
    "health_problem",
    "technical_characteristics",
    "safety",
    "clinical_effectiveness",
    "costs_economic_evaluation",
    "ethical",
    "organisational",
    "patient_social",
    "legal",
)

# The EU joint clinical assessment covers the clinical domains only.
EU_JCA_DOMAINS = frozenset(DOMAINS[:4])

STATUSES: tuple[str, ...] = ("not_started", "in_progress", "done", "not_applicable")

# The assessor's response to a factual-accuracy comment (with a reply, shown to the
# manufacturer), while the draft report is being checked.
FACTUAL_RESPONSES: tuple[str, ...] = ("accepted", "not_accepted")
FACTUAL_REPLY_STATES = frozenset({"factual_accuracy_check"})
MAX_REPLY = 5000
NOT_STARTED = "not_started"
FINISHED_STATUSES = frozenset({"done", "not_applicable"})

# States in which the assessor works on the checklist and the report (after the factual
# accuracy check too: the comments may lead to corrections before the report is final).
EDITABLE_STATES = frozenset(states_where(workflow=REQUEST, assessment_editable=True))


def status_of(statuses: Mapping[str, str], domain: str) -> str:
    return statuses.get(domain) or NOT_STARTED


def domains_not_started(statuses: Mapping[str, str]) -> list[str]:
    """The domains (in Core Model order) still "not_started"; a missing row counts as such."""
    return [d for d in DOMAINS if status_of(statuses, d) == NOT_STARTED]


def progress(statuses: Mapping[str, str]) -> tuple[int, int]:
    """(domains done or not applicable, all domains)."""
    finished = sum(1 for d in DOMAINS if status_of(statuses, d) in FINISHED_STATUSES)
    return finished, len(DOMAINS)
