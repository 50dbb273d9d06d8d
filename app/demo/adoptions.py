"""Demo adoption histories: what each IRCCS did with a published recommendation, through
`fire` like the IRCCS pages (evaluation, decision, procurement by every route with its award,
first patient, discontinuation), then its quarterly usage reports with figures consistent with
the dossier: the IRCCS together treat a share of the expected national volume, at the list
price or, after a tender, at the awarded unit price.
"""

from __future__ import annotations

from datetime import date, datetime, time, timedelta
from decimal import Decimal

from sqlalchemy import func, select

from app.adoption.usage import quarter_start, report_usage
from app.core.fire import fire
from app.domain.deadlines import ROME
from app.extensions import db
from app.models import Adoption
from app.safety.operations import threshold_for

# Part of the dossier's expected national volume the IRCCS treat together (the rest: other
# hospitals), and how a new device's use builds up over its first quarters.
IRCCS_SHARE = Decimal("0.4")
RAMP_UP = (Decimal("0.4"), Decimal("0.7"))
# Discount on the list price won by each procurement route (a tender, or none).
ROUTE_DISCOUNT = {
    "central_purchasing_body": Decimal("0.14"),
    "regional_aggregator": Decimal("0.10"),
    "direct": Decimal("0.03"),
    "pre_commercial": Decimal("0"),
}
SUPPLIERS = {
    "regional_aggregator": "Medisan Forniture Ospedaliere S.p.A.",
    "direct": "Distributore esclusivo del produttore",
    "pre_commercial": "Consorzio di ricerca e sviluppo aggiudicatario della fase 3",
}
# Days from a quarter's end to its report.
REPORTED_AFTER_DAYS = 15

# Adoption histories, one per IRCCS in turn (the first record of a request starts at a
# different path each time, so restricted recommendations reach patients too). A step:
# (trigger, days after the previous one, reason, data); "CALL" and "AWARD" stand for the
# tender's call and award, worked out for the IRCCS (`_tender_data`).
ADOPTION_PATHS = [
    [],
    [("start_evaluation", 20, "", {})],
    [("start_evaluation", 15, "", {}), ("approve_for_use", 60, "", {})],
    [
        ("start_evaluation", 10, "", {}),
        ("approve_for_use", 45, "", {}),
        (
            "start_procurement",
            20,
            "",
            {"procurement_route": "central_purchasing_body", "call": "CALL"},
        ),
    ],
    [
        ("start_evaluation", 12, "", {}),
        ("approve_for_use", 40, "", {}),
        ("start_procurement", 15, "", {"procurement_route": "regional_aggregator"}),
        ("record_award", 50, "", {"award": "AWARD"}),
        ("start_use", 20, "", {}),
    ],
    [
        ("start_evaluation", 30, "", {}),
        ("decline", 50, "Nessun budget quest'anno.", {"decline_reason": "no_budget"}),
    ],
    [
        ("start_evaluation", 8, "", {}),
        ("approve_for_use", 30, "", {}),
        ("start_procurement", 10, "", {"procurement_route": "pre_commercial", "call": "CALL"}),
        ("record_award", 45, "", {"award": "AWARD"}),
        ("start_use", 25, "", {}),
        ("discontinue_use", 120, "Sostituito da un'alternativa meno costosa.", {}),
    ],
    [
        ("start_evaluation", 25, "", {}),
        ("approve_for_use", 90, "", {}),
        ("start_procurement", 7, "", {"procurement_route": "direct", "call": "CALL"}),
        ("record_award", 20, "", {"award": "AWARD"}),
        ("start_use", 60, "", {}),
    ],
]


def play_adoptions(request, cast, published_at: datetime, until: datetime, rng) -> None:
    """Every adoption record of the request follows its path from the publication, up to
    `until` (today, or the end of adoption monitoring); usage is reported until then."""
    adoptions = db.session.scalars(
        select(Adoption).where(Adoption.request_id == request.id).order_by(Adoption.irccs_id)
    ).all()
    for position, adoption in enumerate(adoptions):
        user = cast.irccs_users[adoption.irccs_id]
        path = ADOPTION_PATHS[(position + request.id) % len(ADOPTION_PATHS)]
        moment, route = published_at, None
        for trigger, days, reason, data in path:
            moment += timedelta(days=days, hours=rng.uniform(1, 8))
            if moment >= until:
                break
            route = data.get("procurement_route", route)
            values = _tender_data(adoption, data, route, moment, len(adoptions))
            fire(adoption, trigger, user, moment, reason=reason, **values)
        if adoption.first_use_at is not None:
            _report_quarters(adoption, user, until, rng, len(adoptions))


# --- procurement -------------------------------------------------------------------------------


def _tender_data(adoption, data: dict, route: str | None, moment: datetime, centres: int):
    """The step's data with the tender's call (CIG and date) or award (CIG, price for a year's
    expected units at the route's discount, supplier) in place of "CALL" and "AWARD"."""
    values = {k: v for k, v in data.items() if k not in ("call", "award")}
    if "call" in data:
        values |= {"tender_cig": _cig(adoption), "call_date": _rome_day(moment)}
    if "award" in data:
        yearly_units = max(1, round(_units_per_quarter(adoption.request, centres) * 4))
        values |= {
            "tender_cig": _cig(adoption),
            "award_date": _rome_day(moment),
            "awarded_price": _unit_price(adoption.request, route) * yearly_units,
            "supplier": SUPPLIERS.get(route, "Fornitore aggiudicatario"),
        }
    return values


def _cig(adoption) -> str:
    """A well-formed CIG (10 upper-case letters and digits), the same on every run."""
    return f"9A{adoption.request_id:04d}{adoption.irccs_id:04d}"


def _rome_day(moment: datetime) -> date:
    return moment.astimezone(ROME).date()


def _unit_price(request, route: str | None) -> Decimal:
    """The list price, less the route's discount when the device was bought by tender."""
    discount = ROUTE_DISCOUNT.get(route, Decimal(0))
    return ((request.list_price or Decimal(0)) * (1 - discount)).quantize(Decimal("0.01"))


# --- usage -------------------------------------------------------------------------------------


def _units_per_quarter(request, centres: int) -> Decimal:
    """This IRCCS's expected units a quarter: its part of the IRCCS' share of the dossier's
    expected yearly volume."""
    volume = Decimal(request.expected_volume_per_year or 0)
    return volume * IRCCS_SHARE / 4 / max(centres, 1)


def _report_quarters(adoption, user, now: datetime, rng, centres: int) -> None:
    """Quarterly usage from the quarter of first use to the last finished quarter, each
    reported a fortnight after the quarter ended."""
    year, quarter = adoption.first_use_at.year, (adoption.first_use_at.month - 1) // 3 + 1
    last = (now.year, (now.month - 1) // 3 + 1)
    expected = _units_per_quarter(adoption.request, centres)
    price = _unit_price(adoption.request, _route_of(adoption))
    n = 0
    while (year, quarter) < last:
        ramp = RAMP_UP[n] if n < len(RAMP_UP) else Decimal(1)
        units = max(1, round(expected * ramp * Decimal(str(rng.uniform(0.8, 1.2)))))
        figures = {
            "year": year,
            "quarter": quarter,
            "units": units,
            "procedures": units,  # one device per procedure
            "spend": price * units,
            # An adverse event now and then, where enough procedures make it a plausible rate.
            "adverse_events": 1 if units >= 30 and rng.random() < 0.15 else 0,
        }
        if (year, quarter) == _previous_quarter(last) and _is_safety_signal(adoption):
            # The demo's safety signal: this device's latest quarter is just over its
            # threshold, so the agency finds an alert to act on (app.safety).
            figures["adverse_events"] = _just_over_threshold(adoption.request, units)
        report_usage(user, adoption, figures, min(_reported_at(year, quarter), now))
        year, quarter = (year + 1, 1) if quarter == 4 else (year, quarter + 1)
        n += 1


def _route_of(adoption) -> str | None:
    return adoption.procurement.route if adoption.procurement is not None else None


def _reported_at(year: int, quarter: int) -> datetime:
    next_quarter = (year + 1, 1) if quarter == 4 else (year, quarter + 1)
    day = quarter_start(*next_quarter) + timedelta(days=REPORTED_AFTER_DAYS)
    return datetime.combine(day, time(10), tzinfo=ROME)


def _just_over_threshold(request, procedures: int) -> int:
    """The fewest adverse events over the device's threshold (per 100 procedures)."""
    threshold, _source = threshold_for(request)
    return int(threshold * procedures / 100) + 1


def _previous_quarter(current: tuple[int, int]) -> tuple[int, int]:
    year, quarter = current
    return (year - 1, 4) if quarter == 1 else (year, quarter - 1)


def _is_safety_signal(adoption) -> bool:
    """The first IRCCS to use the first device in use carries the demo's safety signal."""
    first = db.session.scalar(
        select(func.min(Adoption.id)).where(Adoption.first_use_at.is_not(None))
    )
    return adoption.id == first
