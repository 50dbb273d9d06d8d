"""The pieces shared by the request page's workflow panel and the adoption record page:
the actions an actor may take now (each with its form, or shown blocked with the reasons its
guards give), a failed action kept for re-display, and the audit trail in a readable shape.
"""

from __future__ import annotations

from collections import OrderedDict
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from functools import cache, lru_cache, partial
from typing import TYPE_CHECKING, Any

from flask import current_app, g, get_template_attribute
from flask_babel import get_locale, get_timezone
from flask_babel import lazy_gettext as _l
from flask_wtf.csrf import generate_csrf
from markupsafe import Markup, escape
from sqlalchemy import Select, bindparam, select

from app.core.guards import GuardFailure
from app.domain.redaction import RequestView, redact_audit_values
from app.extensions import db
from app.formatting import current_formats
from app.forms.actions import ActionForm, action_form_class, build_action_form
from app.forms.assessment import CRITERION_LABELS, DOMAIN_LABELS, DOMAIN_STATUS_LABELS
from app.forms.dossier import FIELD_LABELS as DOSSIER_FIELD_LABELS
from app.labels import REGION_NAMES, ROLE_LABELS, region_label
from app.models import AuditEntry, Organisation, User
from app.requests.page_reads import Read
from app.workflow.action_labels import (
    ACTION_HELP,
    CHOICE_LABELS,
    SYSTEM_ROLE_LABEL,
    action_label,
    field_label,
)
from app.workflow.action_labels import choice_label as _choice_label
from app.workflow.labels import adoption_state_label, reimbursement_state_label, state_label
from app.workflow.spec import TransitionSpec

if TYPE_CHECKING:
    from app.core.fire import ActionAvailability

# Actions that close or stop something: drawn as a red button.
DANGER_TRIGGERS = frozenset(
    {
        "declare_inadmissible",
        "not_prioritise",
        "withdraw",
        "suspend",
        "archive",
        "decline_assignment",
        "decline",
        "discontinue_use",
    }
)

FAILED_ACTION_KEY = "workflow_failed_action"
YES, NO = _l("yes"), _l("no")

# Audit data keys that hold an organisation id (shown as its name).
ORGANISATION_KEYS = frozenset({"regional_body", "declined_body", "irccs", "designated_centres"})


@dataclass
class FailedAction:
    """An action whose form (or guard) failed: re-shown open, with the typed input."""

    kind: str  # "request" or "adoption"
    object_id: int
    trigger: str
    form: ActionForm
    message: str = ""
    details: list[str] = field(default_factory=list)


def remember_failed_action(failure: FailedAction) -> None:
    """Keep the failure for this HTTP request, so the page re-rendered next shows it."""
    setattr(g, FAILED_ACTION_KEY, failure)


def failed_action_for(kind: str, object_id: int) -> FailedAction | None:
    failure = g.get(FAILED_ACTION_KEY)
    if failure is not None and failure.kind == kind and failure.object_id == object_id:
        return failure
    return None


# Actions done on a page of their own (e.g. answering questions one by one with files): the
# panel links there instead of drawing the generic form. Other areas register a function
# obj -> URL (or None to fall back to the form) with `register_action_page`.
_ACTION_PAGES: dict[tuple[str, str], Callable[[Any], str | None]] = {}


def register_action_page(kind: str, trigger: str, url_for_obj: Callable[[Any], str | None]):
    """Let the panel link `trigger` (of a "request" or "adoption") to a dedicated page."""
    _ACTION_PAGES[(kind, trigger)] = url_for_obj


def _action_page(kind: str, trigger: str, obj) -> str | None:
    url_for_obj = _ACTION_PAGES.get((kind, trigger))
    return url_for_obj(obj) if url_for_obj is not None and obj is not None else None


@dataclass
class ActionView:
    trigger: str
    label: str
    help: str
    form: ActionForm | ShownForm | None
    url: str
    danger: bool = False
    is_open: bool = False
    message: str = ""
    details: list[str] = field(default_factory=list)
    # Set when the action is done on a dedicated page: the panel links there.
    page_url: str | None = None
    # Why the action cannot be taken now (its guards' messages and missing items): the panel
    # shows it disabled with these reasons instead of a form.
    blocked_reasons: list[BlockedReason] = field(default_factory=list)
    # A checklist drawn in the form (the agency's intake checklist): lines with `label`,
    # `section` and `present`; the ticked labels join the action's list field.
    checklist: list = field(default_factory=list)
    checklist_ticked: frozenset[str] = frozenset()
    # A fresh form's fields as HTML (`fresh_fields_html`); None: the template draws them.
    fields_html: Markup | None = None

    @property
    def blocked(self) -> bool:
        return bool(self.blocked_reasons)


@dataclass(frozen=True)
class BlockedReason:
    code: str
    message: str
    items: list[str] = field(default_factory=list)


def guard_failure_text(failure: GuardFailure) -> tuple[str, list[str]]:
    """A guard's failure as the screens show it: its message and the missing items, dossier
    fields labelled as the dossier form labels them."""
    return failure.text, [_missing_item_label(item) for item in failure.missing]


def _missing_item_label(item) -> str:
    """A dossier `MissingItem` as its field's label; anything else is already readable."""
    name = getattr(item, "field", None)
    if name is None:
        return str(item)
    return str(DOSSIER_FIELD_LABELS.get(name) or field_label(name))


def blocked_reasons(failures) -> list[BlockedReason]:
    reasons = []
    for failure in failures:
        message, items = guard_failure_text(failure)
        reasons.append(BlockedReason(failure.code, message, items))
    return reasons


def regional_body_choices(rows=None) -> list[tuple[int, str]]:
    """Active regional HTA bodies as (id, "Name (Region)"), by name (`rows`: their read's
    rows, when the request page read them with its own)."""
    if rows is None:
        rows = db.session.execute(_organisations_statement("regional_body"))
    return [(row.id, f"{row.name} ({region_label(row.region)})") for row in rows]


@lru_cache(maxsize=2)
def _organisations_statement(kind: str) -> Select:
    """The active organisations of `kind` (id, name, region), by name, built once."""
    return (
        select(Organisation.id, Organisation.name, Organisation.region)
        .where(Organisation.kind == kind, Organisation.active.is_(True))
        .order_by(Organisation.name)
    )


def choices_reads(specs: Iterable[TransitionSpec]) -> list[Read]:
    """The reads of the choices the forms of these actions list (the regional bodies, the
    IRCCS), for the request page to run with its own (`action_views`' `choices`)."""
    specs = list(specs)
    reads = []
    if _needs_bodies(specs):
        reads.append(_choices_read("bodies", "regional_body"))
    if _needs_irccs(specs):
        reads.append(_choices_read("irccs", "irccs"))
    return reads


@lru_cache(maxsize=2)
def _choices_read(name: str, kind: str) -> Read:
    return Read(name, _organisations_statement(kind), ("name",))


def _needs_bodies(specs: Iterable[TransitionSpec]) -> bool:
    return any(f.kind == "regional_body" for spec in specs for f in spec.fields)


# Data-field kinds that name IRCCS (the designated centres, one IRCCS).
IRCCS_KINDS = ("irccs", "irccs_list")


def active_irccs_choices(rows=None) -> list[tuple[int, str]]:
    """Active IRCCS as (id, "Name (Region)"), by name (`rows`: their read's rows, when the
    request page read them with its own)."""
    if rows is None:
        rows = db.session.execute(_organisations_statement("irccs"))
    return [(row.id, f"{row.name} ({region_label(row.region)})") for row in rows]


def _needs_irccs(specs: Iterable[TransitionSpec]) -> bool:
    return any(f.kind in IRCCS_KINDS for spec in specs for f in spec.fields)


def action_views(
    actions: Sequence[ActionAvailability],
    *,
    version: int,
    url_for_trigger,
    failure: FailedAction | None,
    kind: str = "request",
    obj=None,
    keep_fields: bool = False,
    choices: dict | None = None,
) -> list[ActionView]:
    """One view per action `action_availability` lists: a blocked one with its reasons and no
    form; the one that just failed keeps its bound form and opens, with what refused it.

    `keep_fields`: draw each fresh form's fields through `fresh_fields_html` (kept per
    process). Only for a caller that changes no form afterwards (the request page): a page
    that fills a form in after this (the adoption record's suggested barrier) must not.
    `choices`: the rows of `choices_reads`, when the page read them with its own."""
    specs = [action.spec for action in actions]
    choices = choices or {}
    bodies = regional_body_choices(choices.get("bodies")) if _needs_bodies(specs) else []
    irccs = active_irccs_choices(choices.get("irccs")) if _needs_irccs(specs) else []
    views = []
    for action in actions:
        spec = action.spec
        failed = failure is not None and failure.trigger == spec.trigger
        page_url = _action_page(kind, spec.trigger, obj)
        if page_url:
            # The dedicated page is where what blocks the action gets done (e.g. answering
            # the questions): the link stays, with the reasons.
            reasons = blocked_reasons(action.blocked_by)
            views.append(_linked_action(spec, page_url, reasons))
            continue
        if action.blocked and not failed:
            views.append(_blocked_action(spec, blocked_reasons(action.blocked_by)))
            continue
        fields_html = None
        if failed:
            form = failure.form
        elif keep_fields and _drawn_without_form(spec):
            # The fields kept; the form itself only for its hidden tag, drawn without it.
            form = ShownForm(spec.trigger, version)
            fields_html = _kept_fields_html(spec, bodies, irccs)
        else:
            form = build_action_form(spec, version=version, regional_bodies=bodies, irccs=irccs)
            fields_html = fresh_fields_html(form, bodies, irccs) if keep_fields else None
        views.append(
            ActionView(
                trigger=spec.trigger,
                label=action_label(spec.trigger),
                help=str(ACTION_HELP.get(spec.trigger, "")),
                form=form,
                url=url_for_trigger(spec.trigger),
                danger=spec.trigger in DANGER_TRIGGERS,
                is_open=failed,
                message=failure.message if failed else "",
                details=failure.details if failed else [],
                fields_html=fields_html,
            )
        )
    return views


@dataclass(frozen=True)
class ShownForm:
    """A fresh action form as the request page reads it once its fields are kept
    (`fields_html`): no errors, and its hidden tag, `ActionForm.hidden_tag()`'s HTML (the
    expected version, then the CSRF token when CSRF is on) without building the form."""

    prefix: str
    version: int | None
    form_errors: tuple = ()

    def hidden_tag(self) -> Markup:
        version = "" if self.version is None else str(self.version)
        tags = [_hidden_input(f"{self.prefix}-expected_version", version)]
        config = current_app.config
        if config.get("WTF_CSRF_ENABLED", True):
            name = config.get("WTF_CSRF_FIELD_NAME", "csrf_token")
            tags.append(_hidden_input(f"{self.prefix}-{name}", generate_csrf(token_key=name)))
        return Markup("\n").join(tags)


def _hidden_input(name: str, value: str) -> Markup:
    name, value = escape(name), escape(value)  # as WTForms' html_params escapes them
    return Markup(f'<input id="{name}" name="{name}" type="hidden" value="{value}">')  # noqa: S704


def _drawn_without_form(spec: TransitionSpec) -> bool:
    """Whether `ShownForm` can stand for the form: its only hidden field is the version (a
    barrier field is hidden too: such forms are built)."""
    return not any(data_field.kind in HIDDEN_KINDS for data_field in spec.fields)


HIDDEN_KINDS = frozenset({"barrier"})  # data fields drawn as hidden inputs (app.forms.actions)


# The HTML of fresh action forms' fields: {(locale, form class, bodies, irccs): HTML}, the
# oldest dropped beyond _FIELDS_HTML_SIZE. Exact: a form built for display (no posted data)
# holds nothing but what its class declares (fields, labels, validators, no defaults) and the
# choices `build_action_form` gives it (the regional bodies and IRCCS, part of the key), and
# its labels are translated for the locale (in the key); what varies per view (the CSRF
# token and the version) is in its hidden tag, drawn by the template each time. A form that
# failed (posted data, errors) is never looked up here.
_FIELDS_HTML: OrderedDict[tuple, Markup] = OrderedDict()
_FIELDS_HTML_SIZE = 256


def fresh_fields_html(form: ActionForm, bodies: Sequence, irccs: Sequence) -> Markup:
    """The data fields and reason of `form` (fresh, unbound) as `action_list` draws them."""
    return _fields_html(type(form), bodies, irccs, lambda: form)


def _kept_fields_html(spec: TransitionSpec, bodies: Sequence, irccs: Sequence) -> Markup:
    """`fresh_fields_html` of `spec`'s fresh form, the form built only when not kept."""
    return _fields_html(
        action_form_class(spec),
        bodies,
        irccs,
        lambda: build_action_form(spec, regional_bodies=bodies, irccs=irccs),
    )


def _fields_html(form_class: type, bodies: Sequence, irccs: Sequence, build) -> Markup:
    key = (str(get_locale()), form_class, tuple(bodies), tuple(irccs))
    html = _FIELDS_HTML.get(key)
    if html is None:
        template = current_app.jinja_env.get_template("actions/_fields.html")
        # Our own template's output, escaped as it rendered.
        html = Markup(template.render(form=build()))  # noqa: S704
        _FIELDS_HTML[key] = html
        if len(_FIELDS_HTML) > _FIELDS_HTML_SIZE:
            _FIELDS_HTML.popitem(last=False)
    return html


def _blocked_action(spec: TransitionSpec, reasons: list[BlockedReason]) -> ActionView:
    return ActionView(
        trigger=spec.trigger,
        label=action_label(spec.trigger),
        help=str(ACTION_HELP.get(spec.trigger, "")),
        form=None,
        url="",
        danger=spec.trigger in DANGER_TRIGGERS,
        blocked_reasons=reasons,
    )


def _linked_action(
    spec: TransitionSpec, page_url: str, reasons: list[BlockedReason] | None = None
) -> ActionView:
    return ActionView(
        trigger=spec.trigger,
        label=action_label(spec.trigger),
        help=str(ACTION_HELP.get(spec.trigger, "")),
        form=None,
        url=page_url,
        danger=spec.trigger in DANGER_TRIGGERS,
        page_url=page_url,
        blocked_reasons=reasons or [],
    )


# --- The audit trail


@dataclass
class AuditRow:
    entry: AuditEntry
    when: str  # formatted in the display zone
    who: str
    role: str
    action: str
    from_state: str | None
    to_state: str | None
    reason: str
    data: list[tuple[str, str | list[str]]]
    changes: list[tuple[str, str, str]]


# Keys of audit data and changes written outside the workflow forms (conflict declarations,
# usage reports, the assessment summary), and the parts of "<criterion or domain>.<part>" keys.
AUDIT_KEY_LABELS = {
    "description": _l("Description"),
    "has_conflict": _l("Declares a conflict of interest"),
    "period": _l("Quarter"),
    "units": _l("Units used"),
    "procedures": _l("Procedures"),
    "spend": _l("Spend (EUR)"),
    "adverse_events": _l("Adverse events"),
    "summary": _l("Summary of the assessment"),
}
AUDIT_KEY_PART_LABELS = {
    "score": _l("score"),
    "justification": _l("justification"),
    "status": _l("status"),
    "findings": _l("findings"),
    "conclusion": _l("conclusion"),
}


def audit_key_label(key: str) -> str:
    """A data or change key as words: "safety.status" -> "Safety: status"."""
    whole, dot, part = key.partition(".")
    subject = CRITERION_LABELS.get(whole) or DOMAIN_LABELS.get(whole)
    if dot and subject is not None:
        return f"{subject}: {AUDIT_KEY_PART_LABELS.get(part, part)}"
    if subject is not None:  # a criterion or a domain alone (e.g. the weights used)
        return str(subject)
    label = AUDIT_KEY_LABELS.get(key)
    return str(label) if label is not None else field_label(key)


def _change_value_label(key: str, value: str) -> str:
    if key.endswith(".status"):
        return str(DOMAIN_STATUS_LABELS.get(value, value))
    return value


def role_label(role: str) -> str:
    if role == "system":
        return str(SYSTEM_ROLE_LABEL)
    return str(ROLE_LABELS.get(role, role))


def _user_names(entries: Sequence[AuditEntry]) -> dict[int, str]:
    ids = {e.actor_id for e in entries if e.actor_id is not None}
    if not ids:
        return {}
    # Three columns, not the whole user (`User.display_name`: the full name, else the email).
    rows = db.session.execute(select(User.id, User.full_name, User.email).where(User.id.in_(ids)))
    return {row.id: row.full_name or row.email for row in rows}


def _organisation_names(entries: Sequence[AuditEntry]) -> dict[int, str]:
    ids = {item for e in entries for item in _organisation_ids(e)}
    if not ids:
        return {}
    rows = db.session.execute(_organisation_names_statement(), {"ids": sorted(ids)})
    return dict(rows.all())


@cache
def _organisation_names_statement() -> Select:
    """`_organisation_names`' SELECT, built once (the ids bound at each execution)."""
    return select(Organisation.id, Organisation.name).where(
        Organisation.id.in_(bindparam("ids", expanding=True))
    )


def display_value(name: str, value: Any, organisations: dict[int, str]) -> str | list[str]:
    """One data value as a person reads it (a list stays a list: shown as bullet points)."""
    if value is None or value == "":
        return ""
    if isinstance(value, list | tuple):
        return [str(display_value(name, v, organisations)) for v in value]
    if isinstance(value, dict):  # e.g. the criteria weights a decision used
        return [f"{audit_key_label(key)}: {item}" for key, item in value.items()]
    if isinstance(value, bool):
        return str(YES) if value else str(NO)
    if name in ORGANISATION_KEYS and isinstance(value, int):
        return organisations.get(value, f"#{value}")
    if name == "region" and isinstance(value, str):
        return region_label(value)
    if isinstance(value, str):
        return _choice_label(name, value)
    return str(value)


def _readable(view: RequestView | None, values) -> dict:
    return redact_audit_values(view, values) if view is not None else dict(values or {})


# Labels of the audit trail by locale: {locale: {(function, *arguments): text}}. Exact to keep
# for the life of the process: every function memoised here turns codes (actions, roles,
# states, data keys, choices) into words through the message catalogue and tables fixed in the
# code, so its text depends on nothing but its arguments and the locale. A trail of a few
# hundred entries repeats a few dozen labels; each lazy string costs a catalogue look-up.
_LABELS: dict[str, dict[tuple, str]] = {}


def labels_memo() -> Callable[..., str]:
    """`label(function, *arguments)`: function(*arguments), once per process and locale."""
    memo = _LABELS.setdefault(str(get_locale()), {})

    def label(function, *arguments):
        key = (function, *arguments)
        text = memo.get(key)
        if text is None:
            text = memo[key] = function(*arguments)
        return text

    return label


def _memo_display_value(
    label, name: str, value: Any, organisations: dict[int, str]
) -> str | list[str]:
    """`display_value`, its words memoised by `label` (organisation names are data: not)."""
    if value is None or value == "":
        return ""
    if isinstance(value, list | tuple):
        return [str(_memo_display_value(label, name, v, organisations)) for v in value]
    if isinstance(value, dict):
        return [f"{label(audit_key_label, key)}: {item}" for key, item in value.items()]
    if isinstance(value, bool):
        return label(_yes_no, value)
    if name in ORGANISATION_KEYS and isinstance(value, int):
        return organisations.get(value, f"#{value}")
    if name == "region" and isinstance(value, str):
        # (Memoised for the known codes only: the memo holds words, never typed data.)
        return label(region_label, value) if value in REGION_NAMES else region_label(value)
    if isinstance(value, str):
        if value in CHOICE_LABELS.get(name, ()):
            return label(_choice_label, name, value)
        return _choice_label(name, value)  # free text: itself
    return str(value)


def _yes_no(value: bool) -> str:
    return str(YES) if value else str(NO)


def _state_text(label, entry: AuditEntry, role: str | None, state: str) -> str:
    if entry.entity_type == "adoption":
        return label(adoption_state_label, state)
    if entry.entity_type == "reimbursement":
        return label(reimbursement_state_label, state)
    return label(state_label, state, role)


def audit_rows(
    entries: Sequence[AuditEntry], *, role: str | None = None, view: RequestView | None = None
) -> list[AuditRow]:
    """The audit entries with names, labels and readable data (two extra queries at most).

    States are labelled for `role` (a manufacturer reads its own wording); with a `view`, the
    data and changes are redacted for that reader (`redact_audit_values`). The words are those
    of `display_value`, `audit_key_label` and the label functions, memoised per locale."""
    names = _user_names(entries)
    organisations = _organisation_names(entries)
    when = current_formats().datetime
    label = labels_memo()
    return [_audit_row(entry, names, organisations, when, label, role, view) for entry in entries]


def _who(entry, names: dict[int, str]) -> str:
    return names.get(entry.actor_id, entry.actor_name) if entry.actor_id else ""


def _audit_row(entry, names, organisations, when, label, role, view) -> AuditRow:
    data = [
        (label(audit_key_label, key), _memo_display_value(label, key, value, organisations))
        for key, value in _readable(view, entry.data).items()
    ]
    changes = [
        (label(audit_key_label, key), *_change_pair(key, value, label))
        for key, value in _readable(view, entry.changes).items()
    ]
    return AuditRow(
        entry=entry,
        when=when(entry.occurred_at),
        who=_who(entry, names),
        role=label(role_label, entry.actor_role),
        action=label(action_label, entry.action),
        from_state=_state_text(label, entry, role, entry.from_state) if entry.from_state else None,
        to_state=_state_text(label, entry, role, entry.to_state) if entry.to_state else None,
        reason=entry.reason,
        data=[(k, v) for k, v in data if v],
        changes=changes,
    )


# The audit trail's rows as HTML (`audit_row` of actions/_macros.html): {key: HTML}, the
# oldest dropped beyond _AUDIT_ROW_HTML_SIZE. Exact: the key holds everything a row reads:
# the locale and display zone, the reader's role (the states' wording) and redaction view,
# the entry's own columns as read (its data and changes by their repr: JSON values, so equal
# reprs are equal values), the actor's current name and the names of the organisations its
# data names. Audit entries are append-only, so a page's rows are mostly found here.
_AUDIT_ROW_HTML: OrderedDict[tuple, Markup] = OrderedDict()
_AUDIT_ROW_HTML_SIZE = 4096


def _organisation_ids(entry) -> tuple[int, ...]:
    return tuple(
        item
        for key, value in (entry.data or {}).items()
        if key in ORGANISATION_KEYS
        for item in (value if isinstance(value, list) else [value])
        if isinstance(item, int)
    )


def _audit_row_key(entry, who: str, organisations: dict[int, str]) -> tuple:
    return (
        entry.occurred_at,
        entry.actor_role,
        entry.entity_type,
        entry.action,
        entry.from_state,
        entry.to_state,
        entry.reason,
        repr(entry.data),
        repr(entry.changes),
        who,
        tuple((item, organisations.get(item)) for item in _organisation_ids(entry)),
    )


def audit_rows_html(
    entries: Sequence, names: dict[int, str], *, role: str, view: RequestView
) -> Markup:
    """`audit_row` of each entry (anything with AuditEntry's columns), joined: each row drawn
    once per key, then kept. `names`: {user id: current name} of the actors (as
    `_user_names`); the organisations their data names are read here (one statement)."""
    organisations = _organisation_names(entries)
    reader = (str(get_locale()), str(get_timezone()), role, view)
    draw = None
    parts = []
    for entry in entries:
        who = _who(entry, names)
        key = (reader, _audit_row_key(entry, who, organisations))
        html = _AUDIT_ROW_HTML.get(key)
        if html is None:
            if draw is None:
                draw = _row_drawer(organisations, role, view)
            html = _AUDIT_ROW_HTML[key] = draw(entry, names)
            if len(_AUDIT_ROW_HTML) > _AUDIT_ROW_HTML_SIZE:
                _AUDIT_ROW_HTML.popitem(last=False)
        parts.append(html)
    return Markup("").join(parts)


def _row_drawer(organisations: dict[int, str], role: str, view: RequestView):
    """draw(entry, names) -> the entry's row as `audit_table` draws it."""
    macro = get_template_attribute("actions/_macros.html", "audit_row")
    when = current_formats().datetime
    label = labels_memo()

    def draw(entry, names) -> Markup:
        row = _audit_row(entry, names, organisations, when, label, role, view)
        # Our own template's output, escaped as it rendered.
        return Markup(macro(row))  # noqa: S704

    return draw


def _change_pair(key: str, value: Any, label=None) -> tuple[str, str]:
    if isinstance(value, list | tuple) and len(value) == 2:
        words = _change_value_label
        if label is not None and key.endswith(".status"):  # a status code: memoised words
            words = partial(label, _change_value_label)
        old, new = ("" if v is None else words(key, str(v)) for v in value)
        return old, new
    return ("", str(value))
