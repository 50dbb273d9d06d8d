"""Report filters: one dataclass, parsed the same way from a page's query string and the CLI.

`parse_filters(values)` takes a mapping of strings (request.args, or the CLI options) and
returns the filters plus a per-field error message for anything it could not read; the raw
values are kept by the caller so the form shows what the user typed.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import asdict, dataclass, fields
from datetime import date

from flask_babel import lazy_gettext as _l

from app.domain.vocab import REGIONS, RISK_CLASSES
from app.workflow.states import OUTCOMES

NO_OUTCOME = "none"  # requests without a published recommendation yet
OUTCOME_CHOICES = (*OUTCOMES, NO_OUTCOME)
EMDN_LETTERS = tuple("ABCDFGHJKLMNPQRSTUVWXYZ")
DIMENSIONS: tuple[str, ...] = ("year", "region", "body", "risk_class", "emdn", "outcome")


@dataclass(frozen=True)
class ReportFilters:
    submitted_from: date | None = None
    submitted_to: date | None = None
    region: str | None = None
    body_id: int | None = None
    risk_class: str | None = None
    emdn: str | None = None
    outcome: str | None = None
    request_id: int | None = None  # the adoption report of one recommendation

    def query_args(self) -> dict[str, str]:
        """The filters as query-string arguments (for export links that keep them)."""
        args = {}
        for name, value in asdict(self).items():
            if value is not None:
                args[name] = value.isoformat() if isinstance(value, date) else str(value)
        return args

    @property
    def is_empty(self) -> bool:
        return not self.query_args()


FILTER_NAMES = tuple(f.name for f in fields(ReportFilters))


def _date(raw: str):
    try:
        return date.fromisoformat(raw), None
    except ValueError:
        return None, _l("Enter a date as YYYY-MM-DD.")


def _positive_int(raw: str):
    if raw.isdigit() and int(raw) > 0:
        return int(raw), None
    return None, _l("Choose a value from the list.")


def _choice(choices):
    def parse(raw: str):
        if raw in choices:
            return raw, None
        return None, _l("Choose a value from the list.")

    return parse


PARSERS = {
    "submitted_from": _date,
    "submitted_to": _date,
    "region": _choice(REGIONS),
    "body_id": _positive_int,
    "risk_class": _choice(RISK_CLASSES),
    "emdn": _choice(EMDN_LETTERS),
    "outcome": _choice(OUTCOME_CHOICES),
    "request_id": _positive_int,
}


def parse_filters(values: Mapping[str, str | None]) -> tuple[ReportFilters, dict[str, str]]:
    """Filters from raw strings; blank means "any". Invalid fields are left out and reported."""
    parsed: dict = {}
    errors: dict = {}
    for name, parser in PARSERS.items():
        raw = (values.get(name) or "").strip()
        if not raw:
            continue
        if name == "emdn":
            raw = raw.upper()
        value, error = parser(raw)
        if error is not None:
            errors[name] = error
        else:
            parsed[name] = value
    start, end = parsed.get("submitted_from"), parsed.get("submitted_to")
    if start and end and start > end:
        errors["submitted_to"] = _l("The end date must not be before the start date.")
        parsed.pop("submitted_to")
    return ReportFilters(**parsed), errors
