"""The timing report's section on reuse: the requests that built on an existing assessment
and the assessment days that saved (`app.domain.reuse.days_saved`). Pure: rows in, a report
section out."""

from __future__ import annotations

from flask_babel import gettext as _

from app.reports.model import DAYS, INTEGER, TEXT, Column, Note, Section, Table


def reuse_section(rows, assessment_days: int | None, source_labels) -> Section:
    """`rows`: app.assessment.reuse.SavingRow."""
    columns = [
        Column("request", _("Request"), TEXT, 30),
        Column("sources", _("Reused from"), TEXT, 30),
        Column("adopted", _("Domains adopted"), INTEGER, 10),
        Column("adapted", _("Domains adapted"), INTEGER, 10),
        Column("redone", _("Domains redone"), INTEGER, 10),
        Column("saved", _("Days saved"), DAYS, 10),
    ]
    table_rows = [
        [
            f"{row.request.receipt_number or '#' + str(row.request.id)} {row.request.title}",
            ", ".join(str(source_labels.get(s, s)) for s in row.sources),
            sum(1 for c in row.choices.values() if c == "adopted"),
            sum(1 for c in row.choices.values() if c == "adapted"),
            sum(1 for c in row.choices.values() if c == "redone"),
            row.days_saved,
        ]
        for row in rows
    ]
    total = sum(row.days_saved for row in rows)
    note = _(
        "Days saved: the assessment stage's %(days)s days times the share of the 9 Core Model "
        "domains adopted (whole) or adapted (half) from an existing assessment. In all: "
        "%(total)s days over %(count)s requests.",
        days=assessment_days or 0,
        total=f"{total:.1f}",
        count=len(rows),
    )
    table = Table(
        "reuse",
        _("Assessments reused"),
        columns,
        table_rows,
        empty_text=_("No existing assessment has been reused yet."),
    )
    return Section(_("Reuse of existing assessments"), [Note(note), table])
