"""State names of the two workflows, and their groupings.

Kept apart from the machine definitions so that the models (CHECK constraints) can import
them without importing the `transitions` machinery.
"""

from __future__ import annotations

REQUEST_STATES: tuple[str, ...] = (
    "draft",
    "intake_review",
    "incomplete",
    "awaiting_prioritisation",
    "prioritisation",
    "assignment",
    "assessment",
    "information_requested",
    "factual_accuracy_check",
    "appraisal",
    "consultation",
    "adoption_monitoring",
    "reassessment_due",
    "suspended",
    # terminal
    "inadmissible",
    "not_prioritised",
    "routed",
    "not_recommended",
    "discontinued",
    "withdrawn",
    "archived",
)

TERMINAL_REQUEST_STATES = frozenset(
    {
        "inadmissible",
        "not_prioritised",
        "routed",
        "not_recommended",
        "discontinued",
        "withdrawn",
        "archived",
    }
)

# Time in these states is the manufacturer's, not the agency's ("clock stop").
CLOCK_STOP_STATES = frozenset({"incomplete", "information_requested", "factual_accuracy_check"})

ADOPTION_STATES: tuple[str, ...] = (
    "not_started",
    "local_evaluation",
    "approved_for_use",
    "procurement",
    "in_use",
    "discontinued",
    "declined",
)

DECLINE_REASONS: tuple[str, ...] = (
    "no_eligible_patients",
    "no_budget",
    "no_infrastructure_or_training",
    "clinical_disagreement",
    "awaiting_regional_tariff",
)

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
