"""Quarterly usage reports of an IRCCS for a device it adopted, and their totals.

An IRCCS whose adoption record is in use (or was, before it was discontinued) reports per
calendar quarter the units used, the procedures, the spend in EUR and the adverse events. A row
is never updated: a correction inserts the next version for the same quarter, with the reason
in the audit trail (old and new figures). Totals always read the latest version of each
quarter. Never commits: the view owns the transaction.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import date, datetime
from decimal import Decimal
from functools import lru_cache

from sqlalchemy import Integer, and_, bindparam, distinct, func, select
from sqlalchemy.exc import IntegrityError

from app.core.audit import record_audit
from app.domain import permissions
from app.domain.deadlines import rome_date
from app.domain.errors import Conflict, PermissionDenied, ValidationFailed
from app.domain.redaction import RequestView, view_of
from app.extensions import db
from app.models import Adoption, DeviceRequest, UsageReport
from app.requests.page_reads import Read

USAGE_REPORTED = "usage_reported"
USAGE_CORRECTED = "usage_corrected"
FIGURES = ("units", "procedures", "spend", "adverse_events")
QUARTERS_PER_YEAR = 4


def quarter_start(year: int, quarter: int) -> date:
    return date(year, 3 * (quarter - 1) + 1, 1)


def history(adoption_id: int) -> list[UsageReport]:
    """Every version of every quarter, latest quarter first, latest version first."""
    return list(
        db.session.scalars(
            select(UsageReport)
            .where(UsageReport.adoption_id == adoption_id)
            .order_by(
                UsageReport.year.desc(), UsageReport.quarter.desc(), UsageReport.version.desc()
            )
        )
    )


@dataclass
class QuarterHistory:
    """One quarter: its latest version and the earlier ones (corrected)."""

    latest: UsageReport
    earlier: list[UsageReport] = field(default_factory=list)


def by_quarter(reports: list[UsageReport]) -> list[QuarterHistory]:
    """Group a `history()` list by quarter (its order is kept)."""
    grouped: dict[tuple[int, int], QuarterHistory] = {}
    for report in reports:
        key = (report.year, report.quarter)
        if key in grouped:
            grouped[key].earlier.append(report)
        else:
            grouped[key] = QuarterHistory(latest=report)
    return list(grouped.values())


def _check_figures(figures: Mapping, today: date) -> None:
    errors = {}
    year, quarter = figures.get("year"), figures.get("quarter")
    if not isinstance(year, int) or not 2000 <= year <= 2100:
        errors["year"] = "invalid"
    if quarter not in (1, 2, 3, 4):
        errors["quarter"] = "invalid"
    if not errors and quarter_start(year, quarter) > today:
        errors["quarter"] = "in_future"
    for name in FIGURES:
        value = figures.get(name)
        if value is None or Decimal(str(value)) < 0:
            errors[name] = "invalid"
    if errors:
        raise ValidationFailed("invalid usage figures", fields=errors)


def _latest(adoption_id: int, year: int, quarter: int) -> UsageReport | None:
    return db.session.scalars(
        select(UsageReport)
        .where(
            UsageReport.adoption_id == adoption_id,
            UsageReport.year == year,
            UsageReport.quarter == quarter,
        )
        .order_by(UsageReport.version.desc())
        .limit(1)
    ).first()


def report_usage(
    actor,
    adoption: Adoption,
    figures: Mapping,
    now: datetime,
    *,
    reason: str = "",
    ip: str | None = None,
) -> UsageReport:
    """Report a quarter (version 1) or correct it (the next version; a reason is required)."""
    if not permissions.can_report_usage(actor, adoption):
        raise PermissionDenied("this adoption record does not report usage")
    _check_figures(figures, rome_date(now))
    # Serialise reports on the same record: the next version is read under the lock.
    db.session.execute(select(Adoption.id).where(Adoption.id == adoption.id).with_for_update())
    year, quarter = figures["year"], figures["quarter"]
    previous = _latest(adoption.id, year, quarter)
    reason = (reason or "").strip()
    if previous is not None and not reason:
        raise ValidationFailed("a correction needs its reason", fields={"reason": "required"})
    report = UsageReport(
        adoption_id=adoption.id,
        year=year,
        quarter=quarter,
        units=int(figures["units"]),
        procedures=int(figures["procedures"]),
        spend=Decimal(str(figures["spend"])).quantize(Decimal("0.01")),
        adverse_events=int(figures["adverse_events"]),
        fsn_number=str(figures.get("fsn_number") or "").strip()[:100],
        authority_reference=str(figures.get("authority_reference") or "").strip()[:100],
        version=previous.version + 1 if previous else 1,
        reported_at=now,
        reported_by_id=actor.id,
    )
    try:
        with db.session.begin_nested():
            db.session.add(report)
    except IntegrityError as error:
        raise Conflict("someone else reported this quarter meanwhile; reload") from error
    _audit(actor, adoption, report, previous, reason, now, ip)
    # The safety loop: a rate over the device's threshold alerts the agency (same transaction).
    from app.safety.operations import check_usage

    check_usage(report, adoption, now)
    return report


def _audit(actor, adoption, report, previous, reason, now, ip) -> None:
    changes = {}
    if previous is not None:
        changes = {
            name: [str(getattr(previous, name)), str(getattr(report, name))]
            for name in FIGURES
            if getattr(previous, name) != getattr(report, name)
        }
    record_audit(
        actor,
        entity_type="adoption",
        entity_id=adoption.id,
        request_id=adoption.request_id,
        action=USAGE_CORRECTED if previous else USAGE_REPORTED,
        now=now,
        reason=reason,
        data={
            "period": f"{report.year}-Q{report.quarter}",
            "version": report.version,
            **{name: str(getattr(report, name)) for name in FIGURES},
        },
        changes=changes,
        ip=ip,
    )


# --- Totals against the dossier's expectations ------------------------------------------------


@dataclass(frozen=True)
class QuarterTotal:
    year: int
    quarter: int
    units: int
    procedures: int
    spend: Decimal
    adverse_events: int
    centres: int

    @property
    def label(self) -> str:
        return f"{self.year} Q{self.quarter}"


@dataclass
class UsageTotals:
    quarters: list[QuarterTotal]
    expected_per_quarter: Decimal | None
    budget_impact_3y: Decimal | None
    own_only: bool
    # The figures as the request page shows them (set by its panel builder: `formatted`).
    text: UsageText | None = None

    @property
    def units(self) -> int:
        return sum(q.units for q in self.quarters)

    @property
    def procedures(self) -> int:
        return sum(q.procedures for q in self.quarters)

    @property
    def spend(self) -> Decimal:
        return sum((q.spend for q in self.quarters), Decimal("0"))

    @property
    def adverse_events(self) -> int:
        return sum(q.adverse_events for q in self.quarters)

    @property
    def expected_total(self) -> Decimal | None:
        if self.expected_per_quarter is None:
            return None
        return self.expected_per_quarter * len(self.quarters)

    def formatted(self, formats) -> UsageText:
        """The table's figures as the request page shows them, formatted once by `formats`
        (app.formatting: what the `number` and `money` filters give)."""
        number, money = formats.number, formats.money
        expected = self.expected_per_quarter
        expected_text = number(expected) if expected is not None else "—"
        total_expected = self.expected_total
        return UsageText(
            rows=[
                (
                    quarter,
                    {
                        "units": number(quarter.units),
                        "procedures": number(quarter.procedures),
                        "expected": expected_text,
                        "spend": money(quarter.spend),
                        "adverse_events": number(quarter.adverse_events),
                        "centres": number(quarter.centres),
                    },
                )
                for quarter in self.quarters
            ],
            totals={
                "units": number(self.units),
                "procedures": number(self.procedures),
                "expected": number(total_expected) if total_expected is not None else "—",
                "spend": money(self.spend),
                "adverse_events": number(self.adverse_events),
            },
            budget_impact_3y=money(self.budget_impact_3y)
            if self.budget_impact_3y is not None
            else None,
        )


@dataclass(frozen=True)
class UsageText:
    """`UsageTotals.formatted`: (quarter, its cells) rows, the totals, the budget impact."""

    rows: list[tuple[QuarterTotal, dict[str, str]]]
    totals: dict[str, str]
    budget_impact_3y: str | None


def expected_per_quarter(request: DeviceRequest, view: RequestView) -> Decimal | None:
    """The dossier's expected yearly volume per quarter; None when not given or when the
    manufacturer marked it confidential and `view` is not a party's."""
    volume = request.expected_volume_per_year
    if volume is None or not view.shows("expected_volume_per_year"):
        return None
    return (Decimal(volume) / QUARTERS_PER_YEAR).quantize(Decimal("0.01"))


def usage_reads(actor, request) -> tuple[list, dict] | None:
    """`usage_totals`' statement as the request page's read "usage" (`page_reads.Read`) with
    its values; None when the actor sees no usage."""
    asked = _totals_values(view_of(actor, request), actor, request)
    if asked is None:
        return None
    own_only, values = asked
    return [Read("usage", _totals_statement(own_only), ("year", "quarter"))], values


def _totals_values(view: RequestView, actor, request) -> tuple[bool, dict] | None:
    """(whether the actor sees its own IRCCS's figures only, the statement's values), or
    None when the actor sees none."""
    own_only = not view.sees_every_adoption
    if own_only and not view.sees_adoption_figures(actor.organisation_id):
        return None
    values = {"request_id": request.id}
    if own_only:
        values["irccs_id"] = actor.organisation_id
    return own_only, values


@lru_cache(maxsize=2)
def _totals_statement(own_only: bool):
    """`usage_totals`' SELECT, built once per `own_only` (the request and the reader's IRCCS
    bound at each execution: building it each view cost as much as running it)."""
    request_id = bindparam("request_id", type_=Integer)
    latest = (
        select(
            UsageReport.adoption_id,
            UsageReport.year,
            UsageReport.quarter,
            func.max(UsageReport.version).label("version"),
        )
        # This request's records only: not the latest version of every report in the table
        # (a scan of all usage reports at scale, for a request with a high id).
        .where(
            UsageReport.adoption_id.in_(
                select(Adoption.id).where(Adoption.request_id == request_id)
            )
        )
        .group_by(UsageReport.adoption_id, UsageReport.year, UsageReport.quarter)
        .subquery()
    )
    query = (
        select(
            UsageReport.year,
            UsageReport.quarter,
            func.sum(UsageReport.units),
            func.sum(UsageReport.procedures),
            func.sum(UsageReport.spend),
            func.sum(UsageReport.adverse_events),
            func.count(distinct(UsageReport.adoption_id)),
        )
        .join(
            latest,
            and_(
                latest.c.adoption_id == UsageReport.adoption_id,
                latest.c.year == UsageReport.year,
                latest.c.quarter == UsageReport.quarter,
                latest.c.version == UsageReport.version,
            ),
        )
        .join(Adoption, Adoption.id == UsageReport.adoption_id)
        .where(Adoption.request_id == request_id)
        .group_by(UsageReport.year, UsageReport.quarter)
        .order_by(UsageReport.year, UsageReport.quarter)
    )
    if own_only:
        query = query.where(Adoption.irccs_id == bindparam("irccs_id"))
    return query


def usage_totals(actor, request: DeviceRequest, rows=None) -> UsageTotals | None:
    """The request's usage per quarter (latest versions, summed over the IRCCS the actor may
    see: the agency all, an IRCCS its own); None for anyone else. The dossier's figures beside
    them only when the actor may read them (`app.domain.redaction`). One statement, unless
    `rows` gives its rows (the request page read them with its own: `usage_reads`)."""
    view = view_of(actor, request)
    asked = _totals_values(view, actor, request)
    if asked is None:
        return None
    own_only, values = asked
    if rows is None:
        rows = db.session.execute(_totals_statement(own_only), values)
    quarters = [
        QuarterTotal(y, q, int(u or 0), int(p or 0), Decimal(str(s or 0)), int(a or 0), c)
        for y, q, u, p, s, a, c in rows
    ]
    return UsageTotals(
        quarters=quarters,
        expected_per_quarter=expected_per_quarter(request, view),
        budget_impact_3y=request.budget_impact_3y if view.shows("budget_impact_3y") else None,
        own_only=own_only,
    )
