"""The adoption map's chart (inline SVG, `app.reports.web_charts`): one bar per region, the
IRCCS that treated a first patient and those designated that have not yet. Its text
alternative is the per-region table beside it on the page."""

from __future__ import annotations

from flask_babel import gettext as _
from markupsafe import Markup

from app.public.adoption_map import AdoptionMap
from app.reports import texts
from app.reports.web_charts import Bar, Segment, bar_chart


def region_chart(adoption: AdoptionMap) -> Markup | None:
    if not adoption.regions:
        return None
    bars = [
        Bar(
            texts.dimension_value("region", r.region),
            (Segment(r.using, "adoption"), Segment(r.designated - r.using, "closed")),
            _("%(using)d of %(designated)d IRCCS", using=r.using, designated=r.designated),
        )
        for r in adoption.regions
    ]
    return bar_chart(
        "adoption-regions-chart",
        _("IRCCS with a first patient, by region"),
        _(
            "For each region, the designated IRCCS that have treated a first patient and "
            "those that have not yet; the table below gives the same figures."
        ),
        bars,
        [("adoption", _("With a first patient")), ("closed", _("Not yet"))],
    )
