"""The register's adoption figures as CSV (labels in the current language): one row per
recommended device (all regions), then one per device and region. Each row's medians are
over the IRCCS counted in its "IRCCS that have treated a first patient" (over one IRCCS, that
IRCCS's own days); an empty cell when there is none yet."""

from __future__ import annotations

from collections.abc import Iterator

from flask_babel import gettext as _

from app.domain.deadlines import rome_date
from app.public.adoption_map import AdoptionMap, DeviceAdoption, PublicMedian
from app.reports import texts
from app.reports.time_to_patient import HOLDERS, holder_label


def csv_header() -> list[str]:
    return [
        _("Request"),
        _("Device"),
        _("Outcome"),
        _("Recommendation published on"),
        _("Region"),
        _("Designated IRCCS"),
        _("IRCCS that have treated a first patient"),
        _("Median days from submission to the first patient"),
        _("Median days from publication to the first patient"),
        *[_("Median days: %(holder)s", holder=holder_label(h)) for h in HOLDERS],
    ]


def _days(median: PublicMedian) -> float | None:
    return None if median.days is None else round(median.days, 1)


def _device_rows(d: DeviceAdoption) -> Iterator[list]:
    head = [d.request_id, d.device, texts.outcome_label(d.outcome), rome_date(d.published_at)]
    yield [
        *head,
        _("All regions"),
        d.designated,
        d.using,
        _days(d.from_submission),
        _days(d.from_publication),
        *[_days(m) for _h, m in d.holders],
    ]
    for r in d.regions:
        yield [
            *head,
            texts.dimension_value("region", r.region),
            r.designated,
            r.using,
            _days(r.to_patient),
            None,
            *[None for _h in HOLDERS],
        ]


def csv_rows(adoption: AdoptionMap) -> Iterator[list]:
    for device in adoption.devices:
        yield from _device_rows(device)
