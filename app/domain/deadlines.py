"""Deadlines and clock stops (pure). Everything takes `now`; nothing reads the wall clock."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class DeadlineRule:
    days: int | None
    working_days: bool = False


# Defaults from DOMAIN.md; the admin can change them (DeadlineSetting rows override these).
DEFAULT_DEADLINES: dict[str, DeadlineRule] = {
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
    "reassessment_due": DeadlineRule(30),
}
