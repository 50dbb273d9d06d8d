"""The kinds of notification and their words.

A notification stores a kind and a few non-confidential parameters (`ALLOWED_PARAMS`: the
receipt number, state and outcome codes, dates, counts); its title is rendered here in the
language in force (the inbox: the reader's; an email: the recipient's, under
`force_locale`). Nothing a user typed (reasons, questions, answers, comments) and no dossier
field ever reaches a message: `clean_params` drops any other key before a row is written.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

from flask_babel import lazy_gettext as _l

from app.i18n import display_date
from app.workflow.action_labels import choice_label
from app.workflow.labels import adoption_state_label, state_label

# Parameters a notification may carry (codes, identifiers, dates and counts only).
ALLOWED_PARAMS = frozenset(
    {
        "ref",
        "state",
        "adoption_state",
        "outcome",
        "due",
        "days",
        "expiry",
        "year",
        "quarter",
        # Adoption barriers: the kind's code and the barrier's id (the link), nothing typed.
        "barrier_kind",
        "barrier",
    }
)


@dataclass(frozen=True)
class Kind:
    code: str
    label: object  # lazy string: the kind's name on the preferences page
    title: object  # lazy string with %(...)s placeholders
    urgent: bool = False  # urgent kinds are always emailed at once (cannot be turned off)


KINDS: dict[str, Kind] = {
    kind.code: kind
    for kind in (
        Kind(
            "queue_arrival",
            _l("A request arrives in my queue"),
            _l("%(ref)s is waiting for you: %(state)s"),
        ),
        Kind(
            "status_changed",
            _l("A request I follow changes state"),
            _l("%(ref)s is now: %(state)s"),
        ),
        Kind(
            "question_asked",
            _l("Questions to answer"),
            _l("%(ref)s: questions are waiting for your answers"),
        ),
        Kind(
            "question_answered",
            _l("Questions answered"),
            _l("%(ref)s: the manufacturer sent its answers"),
        ),
        Kind(
            "draft_report",
            _l("Draft report for factual accuracy check"),
            _l("%(ref)s: the draft report is ready for your factual accuracy check"),
        ),
        Kind(
            "factual_comments",
            _l("Factual accuracy comments returned"),
            _l("%(ref)s: the manufacturer returned its factual accuracy comments"),
        ),
        Kind(
            "recommendation_published",
            _l("Recommendation published"),
            _l("%(ref)s: recommendation published (%(outcome)s)"),
        ),
        Kind(
            "suspended",
            _l("Device suspended"),
            _l("URGENT: %(ref)s has been suspended by the agency"),
            urgent=True,
        ),
        Kind(
            "resumed",
            _l("Device resumed"),
            _l("URGENT: %(ref)s is no longer suspended (%(state)s)"),
            urgent=True,
        ),
        Kind(
            "safety_alert",
            _l("Safety alert"),
            _l("URGENT: %(ref)s: a safety alert asks whether to suspend the device"),
            urgent=True,
        ),
        Kind(
            "assignment_declined",
            _l("Assignment declined"),
            _l("%(ref)s: the regional HTA body declined the assessment"),
        ),
        Kind(
            "consultation_comment",
            _l("Consultation comment to moderate"),
            _l("%(ref)s: a consultation comment is waiting for moderation"),
        ),
        Kind(
            "coi_override",
            _l("Conflict of interest overridden"),
            _l("%(ref)s: the agency overrode your declared conflict of interest"),
        ),
        Kind(
            "stage_due_soon",
            _l("Reminder before a due date"),
            _l("%(ref)s: %(state)s is due on %(due)s (%(days)s working days left)"),
        ),
        Kind(
            "stage_due_today",
            _l("Reminder on the due date"),
            _l("%(ref)s: %(state)s is due today (%(due)s)"),
        ),
        Kind(
            "stage_overdue",
            _l("Reminder of an overdue stage"),
            _l("%(ref)s: %(state)s is overdue since %(due)s"),
        ),
        Kind(
            "ce_expiry",
            _l("CE certificate expiring"),
            _l("%(ref)s: the CE certificate expires on %(expiry)s"),
        ),
        Kind(
            "usage_report_due",
            _l("Quarterly usage report due"),
            _l("%(ref)s: the usage report for %(year)s Q%(quarter)s is due"),
        ),
        Kind(
            "barrier_recorded",
            _l("An adoption barrier to remove"),
            _l("%(ref)s: an adoption barrier is yours to remove (%(barrier_kind)s)"),
        ),
        Kind(
            "barrier_escalated",
            _l("An adoption barrier escalated to the agency"),
            _l("%(ref)s: an adoption barrier was escalated to the agency (%(barrier_kind)s)"),
        ),
        Kind(
            "barrier_overdue",
            _l("An adoption barrier is overdue"),
            _l("%(ref)s: an adoption barrier is overdue since %(due)s (%(barrier_kind)s)"),
        ),
        # The regional tariff (app.reimbursement).
        Kind(
            "tariff_requested",
            _l("Regional tariff requested"),
            _l("%(ref)s: an IRCCS of your region asks for the tariff of the device"),
        ),
        Kind(
            "tariff_decided",
            _l("Regional tariff decided"),
            _l("%(ref)s: the region decided on the tariff of the device"),
        ),
        # Account security (app/accounts): always emailed at once, never turned off.
        Kind(
            "password_reset",
            _l("Password reset"),
            _l("A link to set a new password was requested for your account"),
            urgent=True,
        ),
        Kind(
            "account_locked",
            _l("Account locked"),
            _l(
                "Your account was locked for a while after several failed login attempts: "
                "if they were not yours, change your password"
            ),
            urgent=True,
        ),
    )
}


def clean_params(params: dict) -> dict:
    """Only the allowed keys, as JSON-safe values (dates as ISO strings)."""
    cleaned = {}
    for key, value in params.items():
        if key not in ALLOWED_PARAMS or value is None:
            continue
        cleaned[key] = value.isoformat() if isinstance(value, date) else value
    return cleaned


def request_ref(receipt_number: str | None, request_id: int) -> str:
    """How messages name a request: its receipt number, or #id for a draft."""
    return receipt_number or f"#{request_id}"


def _words(params: dict, role: str | None) -> dict[str, str]:
    # Imported here: the register's package imports the consultation, which notifies.
    from app.public.register import outcome_label

    words = {key: str(value) for key, value in params.items()}
    if "state" in params:
        words["state"] = state_label(params["state"], role)
    if "adoption_state" in params:
        words["adoption_state"] = adoption_state_label(params["adoption_state"])
    if "outcome" in params:
        words["outcome"] = outcome_label(params["outcome"])
    if "barrier_kind" in params:
        words["barrier_kind"] = choice_label("barrier_kind", params["barrier_kind"])
    for key in ("due", "expiry"):
        if key in params:
            words[key] = display_date(date.fromisoformat(params[key]))
    return words


def title(kind: str, params: dict, role: str | None = None) -> str:
    """The notification's one-line text in the language in force."""
    known = KINDS.get(kind)
    if known is None:
        return kind
    words = _words(params, role)
    try:
        return str(known.title) % words
    except (KeyError, ValueError):
        return str(known.label)


def is_urgent(kind: str) -> bool:
    known = KINDS.get(kind)
    return bool(known and known.urgent)
