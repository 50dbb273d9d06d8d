"""The public register's adoption figures: for each published recommendation in the register,
how many designated IRCCS use the device, by region, and how long it took from submission
(and from publication) to the first patient, by stage holder (issue 13, items 5 and 6).

Aggregates only, never a confidential value: no price, no usage figure, no IRCCS named.
Counts of designated IRCCS and of those that treated a first patient are shown as they are;
every median is over the IRCCS that reached their first patient and says over how many.
Time figures are not confidential (the register already publishes every request's stage
days, and the days to a first patient reveal no price nor usage), so a median is shown
whatever the number of IRCCS, even one IRCCS's own days: `REPORT_MIN_GROUP` keeps applying
to the usage aggregates it was made for, none of which is published here.

The paths are the reports' read model (`patient_paths`, kept by `app.adoption.path_store`
from `paths_of`): the same days as the request page's waterfall and the adoption report's
CSV. One statement whatever the number of recommendations and IRCCS; the whole map is kept
per data version (`app.reports_pages.queries.cached`).
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass
from datetime import datetime
from types import SimpleNamespace

from sqlalchemy import select

from app.core.paging import Page
from app.domain.redaction import public_view
from app.extensions import db
from app.models import Adoption, DeviceRequest, Organisation, PatientPathRow, Recommendation
from app.public.register import in_register_clause
from app.reports.stats import distribution
from app.reports.time_to_patient import HOLDERS
from app.reports_pages.queries import cached
from app.reports_pages.queries.common import aware
from app.reports_pages.queries.patient_paths import device_name
from app.workflow.states import POSITIVE_OUTCOMES


@dataclass(frozen=True)
class PublicMedian:
    """A median number of days over `irccs` IRCCS (one IRCCS's own days when `irccs` is 1);
    `days` is None when no IRCCS has treated a first patient yet."""

    days: float | None
    irccs: int


@dataclass(frozen=True)
class RegionAdoption:
    region: str | None
    designated: int
    using: int
    to_patient: PublicMedian


@dataclass(frozen=True)
class DeviceAdoption:
    request_id: int
    device: str
    outcome: str
    published_at: datetime
    designated: int
    using: int
    regions: tuple[RegionAdoption, ...]
    from_submission: PublicMedian
    from_publication: PublicMedian
    holders: tuple[tuple[str, PublicMedian], ...]

    def region(self, region: str | None) -> RegionAdoption | None:
        return next((r for r in self.regions if r.region == region), None)


@dataclass(frozen=True)
class AdoptionMap:
    devices: tuple[DeviceAdoption, ...]
    # Per region across the devices: IRCCS designated for at least one device, those that
    # treated a first patient with at least one, the median over those paths.
    regions: tuple[RegionAdoption, ...]

    @property
    def region_names(self) -> list[str | None]:
        return [r.region for r in self.regions]


@dataclass(frozen=True)
class _Path:
    """One IRCCS's path as the read model stores it (days only once it reached the first
    patient)."""

    irccs_id: int
    region: str | None
    reached: bool
    total: float | None  # submission to the first patient (None: not reached yet)
    from_publication: float | None  # the segments from the publication on
    by_holder: dict[str, float | None]


def _median(values: list[float], irccs: int) -> PublicMedian:
    return PublicMedian(distribution(values).median, irccs)


def _reached(paths: list[_Path]) -> list[_Path]:
    return [p for p in paths if p.reached]


def _region_figures(region: str | None, paths: list[_Path]) -> RegionAdoption:
    reached = _reached(paths)
    irccs_reached = len({p.irccs_id for p in reached})
    return RegionAdoption(
        region,
        designated=len({p.irccs_id for p in paths}),
        using=irccs_reached,
        to_patient=_median([p.total for p in reached], irccs_reached),
    )


def _by_region(paths: list[_Path]) -> tuple[RegionAdoption, ...]:
    groups: dict[str | None, list[_Path]] = defaultdict(list)
    for p in paths:
        groups[p.region].append(p)
    ordered = sorted(groups, key=lambda r: (r is None, r or ""))
    return tuple(_region_figures(r, groups[r]) for r in ordered)


def _device(head: dict, paths: list[_Path]) -> DeviceAdoption:
    reached = _reached(paths)
    n = len(reached)
    days = [p.by_holder for p in reached]
    return DeviceAdoption(
        **head,
        designated=len(paths),
        using=n,
        regions=_by_region(paths),
        from_submission=_median([p.total for p in reached], n),
        from_publication=_median([p.from_publication for p in reached], n),
        holders=tuple((h, _median([d[h] for d in days], n)) for h in HOLDERS),
    )


def _conditions(request_id: int | None) -> list:
    """Published positive recommendations in the register (or the one of `request_id`)."""
    conditions = [
        Recommendation.published_at.is_not(None),
        Recommendation.outcome.in_(POSITIVE_OUTCOMES),
        in_register_clause(),
    ]
    if request_id is not None:
        conditions.append(Recommendation.request_id == request_id)
    return conditions


def _records(request_id: int | None):
    """Their adoption records with the stored figures of their paths (`patient_paths`), newest
    recommendation first: one statement. An open path needs no days here (the map counts it
    as designated; every median is over reached paths)."""
    stored = PatientPathRow
    query = (
        select(
            Recommendation.request_id,
            DeviceRequest.trade_name,
            DeviceRequest.model,
            DeviceRequest.confidential_fields,
            Recommendation.outcome,
            Recommendation.published_at,
            Organisation.id,
            Organisation.region,
            stored.reached,
            stored.total_days,
            stored.from_publication_days,
            *[stored.days_column(holder) for holder in HOLDERS],
        )
        .join(DeviceRequest, DeviceRequest.id == Recommendation.request_id)
        .join(Adoption, Adoption.request_id == Recommendation.request_id)
        .join(Organisation, Organisation.id == Adoption.irccs_id)
        .outerjoin(stored, stored.adoption_id == Adoption.id)
    )
    query = query.where(*_conditions(request_id)).order_by(
        Recommendation.published_at.desc(), Recommendation.request_id, Adoption.id
    )
    return db.session.connection().execute(query).all()


def _public_device_name(trade_name, model, confidential_fields) -> str:
    """The device's name as the register shows it (never a field marked confidential)."""
    hidden = public_view(SimpleNamespace(confidential_fields=confidential_fields)).hidden_fields
    return device_name(
        None if "trade_name" in hidden else trade_name, None if "model" in hidden else model
    )


def adoption_map(now: datetime, request_id: int | None = None) -> AdoptionMap:
    """The figures of every published recommendation in the register (or of one): one
    statement over the read model of the paths; `now` is not needed (reached paths only)."""
    heads: dict[int, dict] = {}
    grouped: dict[int, list[_Path]] = defaultdict(list)
    every: list[_Path] = []
    for row in _records(request_id):
        rid, trade, model, confidential, outcome, published = row[:6]
        irccs_id, region, reached, total, after, *days = row[6:]
        if rid not in heads:
            heads[rid] = {
                "request_id": rid,
                "device": _public_device_name(trade, model, confidential),
                "outcome": outcome,
                "published_at": aware(published),
            }
        by_holder = dict(zip(HOLDERS, days, strict=True))
        item = _Path(irccs_id, region, bool(reached), total, after, by_holder)
        grouped[rid].append(item)
        every.append(item)
    devices = tuple(_device(heads[rid], grouped[rid]) for rid in heads)
    return AdoptionMap(devices, _by_region(every))


def cached_adoption_map(now: datetime, seconds: float) -> AdoptionMap:
    """The whole map, kept for `seconds` and dropped as soon as the data changes."""
    return cached("public-adoption-map", (), lambda: adoption_map(now), seconds)


def device_page(figures: AdoptionMap, page: int, per_page: int) -> Page:
    """Page `page` (from 1; out of range: the nearest page) of the map's devices, newest
    recommendation first: the page shows a page of rows, whatever the number of published
    recommendations; the CSV lists them all."""
    total = len(figures.devices)
    page = min(max(page, 1), max(1, -(-total // per_page)))
    start = (page - 1) * per_page
    return Page(list(figures.devices[start : start + per_page]), page, per_page, total)
