"""The record of one request, to file and to read: a document in the reader's language, in
sections: the dossier (by its own sections), the timeline, the questions and answers, the HTA
Core Model assessment with the factual-accuracy comments and their responses, the public
consultation, the recommendation, and the audit trail in words (who, what, from which state
to which, why) with each entry's hash and the verification of the hash chain.

What the reader sees is the redaction's answer (`data.view`, `app.domain.redaction`): fields
hidden from them read "Confidential", in the dossier and in the values recorded by the audit
trail; the audit trail holds only the entries they may read (none for a reader who is not a
party to the request), and names people by their display name, never their email. Codes
(states, roles, actions, outcomes, document types) are always shown by their labels.
"""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal

from flask_babel import gettext as _

from app import labels
from app.documents.labels import round_kind_label
from app.domain.dossier_fields import VALUE_FIELDS, Kind
from app.forms.assessment import DOMAIN_LABELS, DOMAIN_STATUS_LABELS, FACTUAL_RESPONSE_LABELS
from app.reports import texts
from app.reports.model import (
    DATE,
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
EMPTY = texts.EMPTY_VALUE
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
        return report_format(value, DATE)
    return str(value)


def _evidence_text(request) -> str:
    return "\n".join(
        f"{labels.EVIDENCE_DESIGN_LABELS.get(e.design, e.design)}: {e.reference}"
        + (" (" + _("%(count)s people enrolled", count=e.patients) + ")" if e.patients else "")
        for e in request.evidence
    )


def _overview(data: RecordData, report_format) -> KeyFigures:
    request = data.request
    items = [
        (_("Receipt number"), request.receipt_number or "", TEXT),
        (_("State"), texts.stage_label(request.state), TEXT),
        (_("Manufacturer"), request.manufacturer.name, TEXT),
        (_("Submitted"), request.submitted_at, DATETIME),
        (_("Regional body"), request.assigned_body.name if request.assigned_body else "", TEXT),
    ]
    return KeyFigures(_("The request"), items)


def _dossier_blocks(data: RecordData, report_format) -> list:
    """The dossier's fields as label and value, one block per section of the dossier form."""
    by_section: dict[str, list] = {}
    for field, label, value in _dossier_rows(data, report_format):
        by_section.setdefault(field.section, []).append((label, value, TEXT))
    return [
        KeyFigures(str(labels.DOSSIER_SECTION_LABELS.get(section, section)), items)
        for section, items in by_section.items()
    ]


def _dossier_rows(data: RecordData, report_format) -> list[tuple]:
    request = data.request
    view = data.view
    rows = []
    for field in VALUE_FIELDS:
        name = field.name
        label = str(FIELD_LABELS[name])
        if not view.shows(name):
            rows.append((field, label, _("Confidential")))
            continue
        if name in view.marked_confidential:
            label = _("%(field)s (marked confidential)", field=label)
        if field.kind is Kind.ROWS and name == "comparators":
            value = "\n".join(c.description for c in request.comparators)
        elif field.kind is Kind.ROWS:
            value = _evidence_text(request)
        else:
            value = _value_text(name, getattr(request, name), report_format)
        rows.append((field, label, value))
    return rows


def _stage_text(state: str, clock_stopped: bool) -> str:
    """The stage, and whose time it was when the manufacturer's clock ran (a clock stop)."""
    label = texts.stage_label(state)
    if not clock_stopped:
        return label
    return _("%(stage)s (the manufacturer's time)", stage=label)


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
            _stage_text(s.state, s.clock_stopped),
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
        (_("Review date"), recommendation.review_date, DATE),
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


def _details_text(row, technical: frozenset[str]) -> str:
    """The reason, what the step recorded and what it changed, in words (technical values
    such as file digests and sizes are left to the audit trail on screen)."""
    parts = [row.reason] if row.reason else []
    for label, value in row.data:
        if label in technical:
            continue
        text = "; ".join(value) if isinstance(value, list) else str(value)
        parts.append(f"{label}: {text}")
    for label, old, new in row.changes:
        parts.append(f"{label}: {old or EMPTY} → {new or EMPTY}")
    text = "\n".join(parts)
    return text if len(text) <= MAX_CHANGE_TEXT else text[: MAX_CHANGE_TEXT - 1] + "…"


def _audit_table(data: RecordData) -> Table:
    columns = [
        Column("seq", _("No."), INTEGER, 5),
        Column("when", _("When"), DATETIME, 12),
        Column("who", _("Who"), TEXT, 16),
        Column("action", _("What was done"), TEXT, 16),
        Column("states", _("Stage"), TEXT, 18),
        Column("details", _("Details"), TEXT, 34),
        Column("check", _("Check"), TEXT, 7),
        Column("hash", _("SHA-256 hash"), TEXT, 30, mono=True),
    ]
    rows = []
    for row in data.audit_rows:
        entry = row.entry
        states = ""
        if row.from_state or row.to_state:
            states = f"{row.from_state or ''} → {row.to_state or ''}"
        rows.append(
            [
                entry.seq,
                entry.occurred_at,
                f"{row.who} ({row.role})" if row.who else row.role,
                row.action,
                states,
                _details_text(row, data.technical_labels),
                _("verified") if data.entry_checks.get(entry.seq) else _("FAILED"),
                entry.hash,
            ]
        )
    return Table("audit", _("Audit trail"), columns, rows, empty_text=_("No audit entry."))


def _questions_blocks(data: RecordData) -> list:
    """Each round of questions (the agency's missing items, the assessor's questions) with
    the answers the reader may see."""
    if not data.rounds:
        return [Note(_("No information was requested."))]
    columns = [
        Column("number", _("No."), INTEGER, 4),
        Column("question", _("Question"), TEXT, 30),
        Column("answer", _("Answer"), TEXT, 40),
        Column("answered", _("Answered"), DATETIME, 12),
    ]
    blocks = []
    for number, kind, opened_at, questions in data.rounds:
        title = _(
            "Round %(number)s: %(kind)s, opened on %(date)s",
            number=number,
            kind=round_kind_label(kind),
            date=texts.format_value(opened_at, DATE),
        )
        rows = [[n, text, answer, answered] for n, text, answer, answered in questions]
        blocks.append(Table(f"round_{number}", title, columns, rows))
    return blocks


def _assessment_blocks(data: RecordData) -> list:
    """The nine Core Model domains (status, findings, conclusion), the report's summary, and
    the manufacturer's factual-accuracy comments with the assessor's responses."""
    assessment = data.assessment
    if assessment is None:
        return [Note(_("The assessment is for the parties to it."))]
    blocks = []
    if assessment.summary:
        blocks.append(
            KeyFigures(_("Summary of the assessment"), [(_("Summary"), assessment.summary, TEXT)])
        )
    rows = [
        [
            str(DOMAIN_LABELS.get(row.domain, row.domain)),
            str(DOMAIN_STATUS_LABELS.get(row.status, row.status)),
            row.findings,
            row.conclusion,
        ]
        for row in assessment.domains
    ]
    columns = [
        Column("domain", _("Domain"), TEXT, 18),
        Column("status", _("Status"), TEXT, 10),
        Column("findings", _("Findings"), TEXT, 36),
        Column("conclusion", _("Conclusion"), TEXT, 30),
    ]
    blocks.append(Table("domains", _("HTA Core Model domains"), columns, rows))
    if assessment.factual_comments:
        comment_rows = [
            [
                str(DOMAIN_LABELS.get(c.domain, c.domain)) if c.domain else _("Report summary"),
                c.text,
                str(FACTUAL_RESPONSE_LABELS.get(c.response, ""))
                if c.response
                else _("No response"),
                c.reply or "",
            ]
            for c in assessment.factual_comments
        ]
        comment_columns = [
            Column("section", _("Section"), TEXT, 16),
            Column("comment", _("Manufacturer's comment"), TEXT, 34),
            Column("response", _("Response"), TEXT, 14),
            Column("reply", _("Assessor's reply"), TEXT, 34),
        ]
        blocks.append(
            Table("factual", _("Factual-accuracy comments"), comment_columns, comment_rows)
        )
    return blocks


def _response_label(response: str | None) -> str:
    if not response:
        return _("No response")
    return str(FACTUAL_RESPONSE_LABELS.get(response, response))


def _consultation_blocks(data: RecordData) -> list:
    if not data.comments:
        return [Note(_("No comment from the public consultation was published."))]
    columns = [
        Column("when", _("Sent"), DATETIME, 12),
        Column("author", _("Author"), TEXT, 14),
        Column("comment", _("Comment"), TEXT, 40),
        Column("answer", _("The agency's answer"), TEXT, 40),
    ]
    rows = [
        [c["created_at"], c["author_name"] or _("Anonymous"), c["text"], c["answer"] or ""]
        for c in data.comments
    ]
    return [Table("consultation", _("Published comments"), columns, rows)]


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
        format=texts.value_formatter(),
        landscape=True,
        show_filters=False,
    )
    report.sections = [
        Section(
            _("Dossier"), [_overview(data, report.format), *_dossier_blocks(data, report.format)]
        ),
        Section(_("Timeline"), [_timeline_table(data)]),
        Section(_("Questions and answers"), _questions_blocks(data)),
        Section(_("Assessment (HTA Core Model)"), _assessment_blocks(data)),
        Section(_("Public consultation"), _consultation_blocks(data)),
        Section(_("Declared needs"), [_needs_table(data)]),
        Section(_("Reuse of existing assessments"), _reuse_blocks(data)),
        Section(_("Recommendation"), [_recommendation_block(data, report.format)]),
        Section(_("Evidence milestones"), [_milestones_table(data)]),
        Section(_("Safety alerts"), _safety_blocks(data)),
        Section(_("Audit trail"), _audit_blocks(data)),
    ]
    return report
