"""Turn the register's public rows into CSV records and Atom entries (labels in the current
language). Only public rows (`app.public.register.to_public`) ever come in."""

from __future__ import annotations

from collections.abc import Callable

from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l

from app.domain.deadlines import rome_date
from app.public.exports import FeedEntry
from app.public.register import preview

DEADLINE_LABELS = {
    "met": _l("Deadline met"),
    "missed": _l("Deadline missed"),
    "on_track": _l("On track"),
    "overdue": _l("Overdue"),
}


def deadline_label(status: str | None) -> str:
    return str(DEADLINE_LABELS.get(status or "", ""))


def csv_header() -> list[str]:
    return [
        _("Reference"),
        _("Device"),
        _("Model"),
        _("Manufacturer"),
        _("EMDN code"),
        _("Risk class"),
        _("Current stage"),
        _("Submitted on"),
        _("Days in the current stage"),
        _("Current stage deadline"),
        _("Stage deadlines met"),
        _("Stage deadlines missed"),
        _("Outcome"),
        _("Recommendation published on"),
        _("Recommendation"),
        _("Conditions"),
        _("Evidence requirements"),
        _("Page"),
    ]


def _published(row: dict) -> dict:
    recommendation = row.get("recommendation")
    return recommendation if recommendation and recommendation["status"] == "published" else {}


def csv_record(row: dict, page_url: str) -> list:
    recommendation = _published(row)
    published_at = recommendation.get("published_at")
    return [
        row.get("reference"),
        row.get("trade_name"),
        row.get("model"),
        row.get("manufacturer"),
        row.get("emdn_code"),
        row.get("risk_class"),
        row.get("stage_label"),
        rome_date(row["submitted_at"]) if row.get("submitted_at") else None,
        row.get("days_in_stage"),
        deadline_label(row.get("current_deadline")),
        row.get("deadlines_met"),
        row.get("deadlines_missed"),
        recommendation.get("outcome_label"),
        rome_date(published_at) if published_at else None,
        recommendation.get("rationale"),
        recommendation.get("conditions"),
        recommendation.get("evidence_requirements"),
        page_url,
    ]


def feed_entry(row: dict, page_url: str) -> FeedEntry:
    recommendation = _published(row)
    device = " ".join(p for p in (row.get("trade_name"), row.get("model")) if p)
    return FeedEntry(
        id=f"{page_url}#recommendation",
        title=_(
            "%(device)s (%(manufacturer)s): %(outcome)s",
            device=device,
            manufacturer=row.get("manufacturer", ""),
            outcome=recommendation.get("outcome_label", ""),
        ),
        link=page_url,
        published=recommendation["published_at"],
        updated=recommendation["published_at"],
        summary=preview(recommendation.get("rationale", ""), 1000),
        category=recommendation.get("outcome", ""),
    )


def page_url_for(url_for: Callable[..., str]) -> Callable[[dict], str]:
    """Each row's page, through `url_for` (the views pass `external_url`: absolute links
    from the configured BASE_URL)."""
    return lambda row: url_for("public.detail", request_id=row["id"])


# --- Audit anchors ----------------------------------------------------------------------------


def anchor_rows(anchors) -> list[dict]:
    """What the anchors page shows of each anchor (newest first)."""
    return [{"seq": a.seq, "hash": a.hash, "anchored_at": a.anchored_at} for a in anchors]


def anchor_feed_entry(anchor, page_url: str) -> FeedEntry:
    return FeedEntry(
        id=f"{page_url}#entry-{anchor.seq}",
        title=_("Audit trail anchored at entry %(seq)s", seq=anchor.seq),
        link=f"{page_url}#entry-{anchor.seq}",
        published=anchor.anchored_at,
        updated=anchor.anchored_at,
        summary=_("Entry %(seq)s has the hash %(hash)s.", seq=anchor.seq, hash=anchor.hash),
    )
