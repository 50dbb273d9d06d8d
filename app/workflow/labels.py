"""Translatable state labels: internal names, plus the manufacturer-facing name where it differs.

The workflow definitions hold the codes; this module gives them words (Flask-Babel lazy strings),
so the pure layer stays free of Flask while labels are extracted for translation.
"""

from __future__ import annotations

from flask_babel import lazy_gettext as _l
from flask_babel import lazy_pgettext

REQUEST_STATE_LABELS = {
    "draft": _l("Draft"),
    "intake_review": _l("Intake review"),
    "incomplete": _l("Incomplete: waiting for the manufacturer"),
    "awaiting_prioritisation": _l("Awaiting prioritisation"),
    "prioritisation": _l("Prioritisation"),
    "assignment": _l("Assignment to a regional body"),
    "assessment": _l("Assessment"),
    "information_requested": _l("Information requested"),
    "factual_accuracy_check": _l("Factual accuracy check"),
    "appraisal": _l("Appraisal"),
    "consultation": _l("Public consultation"),
    "adoption_monitoring": _l("Adoption monitoring"),
    "reassessment_due": _l("Reassessment due"),
    "suspended": _l("Suspended"),
    "inadmissible": _l("Inadmissible"),
    "not_prioritised": _l("Not prioritised"),
    "routed": _l("Routed to another programme"),
    "not_recommended": lazy_pgettext("request state", "Not recommended"),
    "discontinued": _l("Discontinued"),
    "withdrawn": _l("Withdrawn"),
    "archived": _l("Archived"),
}

# What the manufacturer sees where the internal name would mislead or reveal internals.
MANUFACTURER_STATE_LABELS = {
    "intake_review": _l("Submitted: admissibility check"),
    "incomplete": _l("Action needed: complete your file"),
    "awaiting_prioritisation": _l("Admitted: waiting for prioritisation"),
    "prioritisation": _l("Under prioritisation"),
    "assignment": _l("Being assigned for assessment"),
    "information_requested": _l("Action needed: answer the assessor's questions"),
    "factual_accuracy_check": _l("Action needed: check the draft report"),
    "appraisal": _l("Under appraisal"),
}

ADOPTION_STATE_LABELS = {
    "not_started": _l("Not started"),
    "local_evaluation": _l("Local evaluation"),
    "approved_for_use": _l("Approved for use"),
    "procurement": _l("Procurement"),
    "in_use": _l("In use"),
    "discontinued": _l("Discontinued"),
    "declined": _l("Declined"),
}


def state_label(state: str, role: str | None = None) -> str:
    if role == "manufacturer" and state in MANUFACTURER_STATE_LABELS:
        return str(MANUFACTURER_STATE_LABELS[state])
    return str(REQUEST_STATE_LABELS.get(state, state))


def adoption_state_label(state: str) -> str:
    return str(ADOPTION_STATE_LABELS.get(state, state))


# What the public register shows: plain words for a reader outside the process, revealing no
# internal detail (who is waiting on whom is said neutrally; reasons are never shown).
PUBLIC_STATE_LABELS = {
    "intake_review": _l("Admissibility check"),
    "incomplete": _l("File being completed by the manufacturer"),
    "awaiting_prioritisation": _l("Admitted: waiting for prioritisation"),
    "prioritisation": _l("Prioritisation"),
    "assignment": _l("Assignment to a regional HTA body"),
    "assessment": _l("Assessment"),
    "information_requested": _l("Questions to the manufacturer"),
    "factual_accuracy_check": _l("Factual accuracy check of the draft report"),
    "appraisal": _l("Appraisal by the committee"),
    "consultation": _l("Public consultation"),
    "adoption_monitoring": _l("Recommendation published: adoption monitoring"),
    "reassessment_due": _l("Reassessment due"),
    "suspended": _l("Suspended"),
    "not_prioritised": _l("Not prioritised"),
    "routed": _l("Routed to another programme"),
    "not_recommended": lazy_pgettext("request state", "Not recommended"),
    "discontinued": _l("Discontinued"),
    "withdrawn": _l("Withdrawn by the manufacturer"),
    "archived": _l("Archived"),
}


def public_state_label(state: str) -> str:
    return str(PUBLIC_STATE_LABELS.get(state) or REQUEST_STATE_LABELS.get(state, state))
