"""Translatable state labels: internal names, plus the manufacturer-facing and public names
where they differ. The words live in the table of state facts (`app.workflow.facts`); these
functions pick the one a reader should see.
"""

from __future__ import annotations

from flask_babel import lazy_gettext as _l

from app.workflow.facts import (
    ADOPTION_TABLE,
    REIMBURSEMENT_TABLE,
    REQUEST_TABLE,
    TARIFF_DEADLINE_KEY,
)

REQUEST_STATE_LABELS = {f.name: f.label for f in REQUEST_TABLE}

# What the manufacturer sees where the internal name would mislead or reveal internals.
MANUFACTURER_STATE_LABELS = {
    f.name: f.manufacturer_label for f in REQUEST_TABLE if f.manufacturer_label
}

ADOPTION_STATE_LABELS = {f.name: f.label for f in ADOPTION_TABLE}

REIMBURSEMENT_STATE_LABELS = {f.name: f.label for f in REIMBURSEMENT_TABLE}

# The configurable deadlines: the request states', and the regional tariff's.
DEADLINE_LABELS = {
    **REQUEST_STATE_LABELS,
    TARIFF_DEADLINE_KEY: _l("Regional tariff (from the request to the decision)"),
}

# What the public register shows: plain words for a reader outside the process, revealing no
# internal detail (who is waiting on whom is said neutrally; reasons are never shown).
PUBLIC_STATE_LABELS = {f.name: f.public_label for f in REQUEST_TABLE if f.public_label}


def state_label(state: str, role: str | None = None) -> str:
    if role == "manufacturer" and state in MANUFACTURER_STATE_LABELS:
        return str(MANUFACTURER_STATE_LABELS[state])
    return str(REQUEST_STATE_LABELS.get(state, state))


def adoption_state_label(state: str) -> str:
    return str(ADOPTION_STATE_LABELS.get(state, state))


def reimbursement_state_label(state: str) -> str:
    return str(REIMBURSEMENT_STATE_LABELS.get(state, state))


def public_state_label(state: str) -> str:
    # (Not `a or b`: the truth of a lazy string translates it, and str() again after.)
    label = PUBLIC_STATE_LABELS.get(state)
    return str(label if label is not None else REQUEST_STATE_LABELS.get(state, state))
