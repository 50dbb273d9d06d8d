"""State names of the three workflows (from the table of state facts), and the vocabularies
transitions carry (decline reasons, recommendation outcomes).

Kept apart from the machine definitions so that the models (CHECK constraints) can import
them without importing the `transitions` machinery.
"""

from __future__ import annotations

from app.domain.procurement import PROCUREMENT_ROUTES as _PROCUREMENT_ROUTES
from app.workflow.facts import ADOPTION, REIMBURSEMENT, REQUEST, TARIFF_DEADLINE_KEY, states_where

REQUEST_STATES: tuple[str, ...] = states_where(workflow=REQUEST)
TERMINAL_REQUEST_STATES = frozenset(states_where(workflow=REQUEST, terminal=True))
# Time in these states is the manufacturer's, not the agency's ("clock stop").
CLOCK_STOP_STATES = frozenset(states_where(workflow=REQUEST, clock_stop=True))

ADOPTION_STATES: tuple[str, ...] = states_where(workflow=ADOPTION)

REIMBURSEMENT_STATES: tuple[str, ...] = states_where(workflow=REIMBURSEMENT)

# The keys a deadline setting (and a reminder setting) may have: the request states, and the
# regional tariff's one deadline.
DEADLINE_KEYS: tuple[str, ...] = (*REQUEST_STATES, TARIFF_DEADLINE_KEY)

# What a regional tariff is: a DRG of a hospital stay, or an outpatient tariff code.
TARIFF_KINDS: tuple[str, ...] = ("drg", "outpatient")

DECLINE_REASONS: tuple[str, ...] = (
    "no_eligible_patients",
    "no_budget",
    "no_infrastructure_or_training",
    "clinical_disagreement",
    "awaiting_regional_tariff",
)

# Adoption barriers (issue 13, item 4): what keeps an IRCCS from using a recommended device,
# who must remove it, and where it stands (`app.adoption.barriers`).
BARRIER_KINDS: tuple[str, ...] = (
    "no_budget",
    "awaiting_tariff",
    "infrastructure",
    "training",
    "clinical_consensus",
    "organisational",
    "other",
)
BARRIER_OWNERS: tuple[str, ...] = ("irccs", "region", "agency")
BARRIER_STATUSES: tuple[str, ...] = ("open", "escalated", "resolved")
# The barrier a decline reason points to, and who usually owns it: the record form offers
# them after a decline (the IRCCS still chooses the owner and the due date).
DECLINE_BARRIERS: dict[str, tuple[str, str]] = {
    "no_budget": ("no_budget", "irccs"),
    "no_infrastructure_or_training": ("infrastructure", "irccs"),
    "clinical_disagreement": ("clinical_consensus", "irccs"),
    "awaiting_regional_tariff": ("awaiting_tariff", "region"),
}

# How an IRCCS buys an approved device (`app.domain.procurement`).
PROCUREMENT_ROUTES = _PROCUREMENT_ROUTES

OUTCOMES: tuple[str, ...] = (
    "recommended",
    "recommended_restricted",
    "recommended_with_evidence_generation",
    "only_in_research",
    "not_recommended",
    "insufficient_evidence",
)

POSITIVE_OUTCOMES = frozenset(
    {"recommended", "recommended_restricted", "recommended_with_evidence_generation"}
)


def sql_in_list(values) -> str:
    """Render values as a SQL IN list for CHECK constraints (codes are plain identifiers)."""
    return ", ".join(f"'{v}'" for v in values)
