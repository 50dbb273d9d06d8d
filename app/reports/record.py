"""The record of one request, suitable to file: dossier summary, timeline with stage durations
and deadlines, the recommendation, and the audit trail with each entry's hash and the
verification of the hash chain.

What the reader sees is the redaction's answer (`data.view`, `app.domain.redaction`): fields
hidden from them read "Confidential", in the dossier and in the values recorded by the audit
trail; the audit trail holds only the entries they may read (none for a reader who is not a
party to the request), and names people by their display name, never their email.
"""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal

from flask_babel import gettext as _

from app import labels
from app.domain.dossier_fields import VALUE_FIELDS, Kind
from app.domain.redaction import redact_audit_values
from app.reports import texts
from app.reports.model import (
    DATETIME,
    DAYS,
    INTEGER,
    MONEY,
    TEXT,
    Column,
    KeyFigures,
    Note,
    Report,
    Section,
    Table,
)
from app.reports.timing import ReportContext
from app.reports_pages.queries import RequestRecordData

CHOICE_LABELS = labels.DOSSIER_CHOICE_LABELS
FIELD_LABELS = labels.DOSSIER_FIELD_LABELS
MAX_CHANGE_TEXT = 400
RecordData = RequestRecordData


def _value_text(name: str, value, report_format) -> str:
    if value is None or value == "" or value == []:
        return ""
    if name in CHOICE_LABELS:
        return str(CHOICE_LABELS[name].get(value, value))
    if isinstance(value, bool):
        return _("Yes") if value else _("No")
    if isinstance(value, Decimal):
        return report_format(float(value), MONEY)
    if isinstance(value, date | datetime):
        return value.isoformat()[:10]
    return str(value)


def _evidence_text(request) -> str:
    return "\n".join(
        f"{labels.EVIDENCE_DESIGN_LABELS.get(e.design, e.design)}: {e.reference}"
        + (f" ({e.patients} {_('patients')})" if e.patients else "")
        for e in request.evidence
    )


def _dossier_rows(data: RecordData, report_format) -> list[list[str]]:
    request = data.request
    view = data.view
    rows = [
        [_("Receipt number"), request.receipt_number or ""],
        [_("State"), texts.stage_label(request.state)],
        [_("Manufacturer"), request.manufacturer.name],
        [
            _("Submitted"),
            report_format(request.submitted_at, DATETIME) if request.submitted_at else "",
        ],
        [_("Regional body"), request.assigned_body.name if request.assigned_body else ""],
    ]
    for field in VALUE_FIELDS:
        name = field.name
        label = str(FIELD_LABELS[name])
        if not view.shows(name):
            rows.append([label, _("Confidential")])
            continue
        if name in view.marked_confidential:
            label = _("%(field)s (marked confidential)", field=label)
        if field.kind is Kind.ROWS and name == "comparators":
            value = "\n".join(c.description for c in request.comparators)
        elif field.kind is Kind.ROWS:
            value = _evidence_text(request)
        else:
            value = _value_text(name, getattr(request, name), report_format)
        rows.append([label, value])
    return rows


def _timeline_table(data: RecordData) -> Table:
    columns = [
        Column("stage", _("Stage"), TEXT, 24),
        Column("entered", _("Entered"), DATETIME, 15),
        Column("left", _("Left"), DATETIME, 15),
        Column("gross", _("Gross days"), DAYS, 9),
        Column("net", _("Net days"), DAYS, 9),
        Column("due", _("Due"), DATETIME, 15),
        Column("late", _("Late"), TEXT, 7),
        Column("days_late", _("Days late"), DAYS, 9),
    ]
    rows = [
        [
            texts.stage_label(s.state) + (f" ({_('clock stopped')})" if s.clock_stopped else ""),
            s.entered_at,
            s.left_at,
            s.gross_days,
            s.net_days,
            s.due_at,
            (_("Yes") if s.late else _("No")) if s.due_at else "",
            s.days_late if s.late else None,
        ]
        for s in data.stages
    ]
    return Table("timeline", _("Timeline"), columns, rows, empty_text=_("Not submitted yet."))


def _recommendation_block(data: RecordData, report_format):
    recommendation = data.recommendation
    if recommendation is None:
        return Note(_("No recommendation yet."))
    items = [
        (_("Outcome"), texts.outcome_label(recommendation.outcome), TEXT),
        (_("Published"), recommendation.published_at, DATETIME),
        (_("Rationale"), recommendation.rationale, TEXT),
        (_("Conditions"), recommendation.conditions, TEXT),
        (_("Evidence requirements"), recommendation.evidence_requirements, TEXT),
        (
            _("Review date"),
            recommendation.review_date.isoformat() if recommendation.review_date else "",
            TEXT,
        ),
    ]
    return KeyFigures(_("Recommendation"), items)


def _needs_table(data: RecordData) -> Table:
    """The IRCCS needs the request is linked to (needs are read by every process role: no
    confidential field)."""
    columns = [
        Column("need", _("Need"), TEXT, 30),
        Column("posted_by", _("Posted by"), TEXT, 24),
        Column("patients", _("Patients per year"), INTEGER, 12),
        Column("endorsements", _("Endorsements"), INTEGER, 12),
    ]
    rows = [
        [need.title, need.organisation.name, need.patients_per_year, endorsed]
        for need, endorsed in data.needs or ()
    ]
    return Table(
        "needs",
        _("Declared needs"),
        columns,
        rows,
        empty_text=_("No declared need is linked to this request."),
    )


def _reuse_blocks(data: RecordData) -> list:
    """The existing assessments recorded and the domains reused (parties only: the redaction
    decided what `data` holds)."""
    if not data.view.sees_reuse:
        return [Note(_("The reuse of existing assessments is for the parties to the request."))]
    from app.forms.assessment import DOMAIN_LABELS
    from app.forms.reuse import CHOICE_LABELS, SOURCE_LABELS

    priors = Table(
        "prior_assessments",
        _("Existing assessments"),
        [
            Column("source", _("Source"), TEXT, 24),
            Column("reference", _("Reference"), TEXT, 36),
            Column("date", _("Date"), TEXT, 11),
            Column("link", _("Link"), TEXT, 30),
        ],
        [
            [str(SOURCE_LABELS[p.source]), p.reference, p.issued_on.isoformat(), p.url]
            for p in data.priors or ()
        ],
        empty_text=_("No existing assessment is recorded."),
    )
    choices = Table(
        "reuse_choices",
        _("Core Model domains reused"),
        [
            Column("domain", _("Domain"), TEXT, 30),
            Column("choice", _("Choice"), TEXT, 12),
            Column("note", _("Note"), TEXT, 40),
        ],
        [
            [str(DOMAIN_LABELS[d]), str(CHOICE_LABELS[row.choice]), row.note]
            for d, row in sorted((data.reuse_choices or {}).items())
        ],
        empty_text=_("No domain reused."),
    )
    return [priors, choices]


def _milestones_table(data: RecordData) -> Table:
    from app.forms.milestones import ID_KIND_LABELS, STATUS_LABELS

    columns = [
        Column("evidence", _("Evidence"), TEXT, 34),
        Column("study", _("Study or registry"), TEXT, 26),
        Column("irccs", _("IRCCS"), TEXT, 20),
        Column("due", _("Due"), TEXT, 11),
        Column("status", _("Status"), TEXT, 12),
    ]
    rows = [
        [
            m.evidence,
            f"{ID_KIND_LABELS[m.id_kind]}: {m.study_id}",
            m.irccs.name,
            m.due_on.isoformat(),
            str(STATUS_LABELS[m.status]),
        ]
        for m in data.milestones or ()
    ]
    return Table(
        "milestones", _("Evidence milestones"), columns, rows, empty_text=_("No milestone.")
    )


def _safety_blocks(data: RecordData) -> list:
    if not data.view.sees_safety_alerts:
        return [Note(_("The safety alerts are for the agency."))]
    status = {"open": _("Open"), "suspended": _("suspended"), "dismissed": _("dismissed")}
    rows = [
        [
            a.raised_at,
            a.summary,
            "" if a.rate is None else f"{a.rate:.2f}",
            "" if a.threshold is None else f"{a.threshold:.2f}",
            str(status[a.status]),
        ]
        for a in data.safety_alerts or ()
    ]
    columns = [
        Column("raised", _("Raised"), DATETIME, 15),
        Column("summary", _("Alert"), TEXT, 40),
        Column("rate", _("Adverse events per 100 procedures"), TEXT, 12),
        Column("threshold", _("Threshold"), TEXT, 10),
        Column("status", _("Status"), TEXT, 12),
    ]
    return [Table("safety", _("Safety alerts"), columns, rows, empty_text=_("No safety alert."))]


def _field_label(name: str) -> str:
    return str(FIELD_LABELS.get(name, name))


def _changes_text(entry, view) -> str:
    parts = []
    hidden = _("Confidential")
    for name, change in redact_audit_values(view, entry.changes, hidden).items():
        if isinstance(change, list) and len(change) == 2:
            parts.append(f"{_field_label(name)}: {change[0]} -> {change[1]}")
        else:
            parts.append(f"{_field_label(name)}: {change}")
    for name, value in redact_audit_values(view, entry.data, hidden).items():
        parts.append(f"{_field_label(name)}: {value}")
    text = "; ".join(parts)
    return text if len(text) <= MAX_CHANGE_TEXT else text[: MAX_CHANGE_TEXT - 1] + "…"


def _audit_table(data: RecordData) -> Table:
    columns = [
        Column("seq", _("No."), INTEGER, 6),
        Column("when", _("When"), DATETIME, 15),
        Column("who", _("Who"), TEXT, 20),
        Column("action", _("Action"), TEXT, 16),
        Column("states", _("From -> to"), TEXT, 22),
        Column("details", _("Reason and changes"), TEXT, 30),
        Column("check", _("Check"), TEXT, 7),
        Column("hash", _("SHA-256 hash"), TEXT, 44, mono=True),
    ]
    rows = []
    for entry in data.entries:
        states = ""
        if entry.from_state or entry.to_state:
            before = texts.stage_label(entry.from_state) if entry.from_state else ""
            after = texts.stage_label(entry.to_state) if entry.to_state else ""
            states = f"{before} -> {after}"
        details = " ".join(p for p in (entry.reason, _changes_text(entry, data.view)) if p)
        who = data.actor_names.get(entry.actor_id, "") if entry.actor_id else entry.actor_name
        rows.append(
            [
                entry.seq,
                entry.occurred_at,
                f"{who} ({entry.actor_role})",
                entry.action,
                states,
                details,
                _("OK") if data.entry_checks.get(entry.seq) else _("FAILED"),
                entry.hash,
            ]
        )
    return Table("audit", _("Audit trail"), columns, rows, empty_text=_("No audit entry."))


def _chain_note(data: RecordData) -> Note:
    chain = data.chain
    own_ok = all(data.entry_checks.values())
    if chain.ok and own_ok:
        return Note(
            _(
                "Hash chain verified: all %(count)s entries of the audit trail are intact, "
                "including the %(own)s entries of this request.",
                count=chain.checked,
                own=len(data.entries),
            )
        )
    if not own_ok:
        failed = ", ".join(str(seq) for seq, ok in data.entry_checks.items() if not ok)
        return Note(
            _(
                "Hash chain BROKEN: entries %(entries)s of this request fail their check.",
                entries=failed,
            )
        )
    return Note(
        _(
            "Hash chain BROKEN at entry %(seq)s (%(problem)s); %(count)s entries verified "
            "before it.",
            seq=chain.broken_seq,
            problem=chain.problem,
            count=chain.checked,
        )
    )


def _audit_blocks(data: RecordData) -> list:
    if not data.view.sees_audit_trail:
        return [Note(_("The audit trail is for the parties to the request."))]
    return [_chain_note(data), _audit_table(data)]


def request_record_report(data: RecordData, context: ReportContext) -> Report:
    request = data.request
    report = Report(
        key="record",
        title=_("Request record %(receipt)s", receipt=request.receipt_number or f"#{request.id}"),
        subtitle=request.title,
        generated_at=context.generated_at,
        generated_by=context.generated_by,
        texts=texts.fixed_texts(),
        format=texts.format_value,
        landscape=True,
        show_filters=False,
    )
    dossier = Table(
        "dossier",
        _("Dossier summary"),
        [Column("field", _("Field"), TEXT, 18), Column("value", _("Value"), TEXT, 60)],
        _dossier_rows(data, report.format),
    )
    report.sections = [
        Section(_("Dossier summary"), [dossier]),
        Section(_("Timeline"), [_timeline_table(data)]),
        Section(_("Declared needs"), [_needs_table(data)]),
        Section(_("Reuse of existing assessments"), _reuse_blocks(data)),
        Section(_("Recommendation"), [_recommendation_block(data, report.format)]),
        Section(_("Evidence milestones"), [_milestones_table(data)]),
        Section(_("Safety alerts"), _safety_blocks(data)),
        Section(_("Audit trail"), _audit_blocks(data)),
    ]
    return report
