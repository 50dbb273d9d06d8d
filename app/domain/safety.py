"""The safety loop: adverse events reported per quarter against a threshold set for the device.

The rate is adverse events per 100 procedures in one IRCCS's quarterly usage report. The
threshold is the agency's for the device, or by default one from the dossier: a stricter one
for the riskiest devices (class III or implantable: 2 per 100 procedures; class IIb or IVDR
class D: 3; any other: 5). A report above it raises an alert to the agency. Pure functions.
"""

from __future__ import annotations

from decimal import ROUND_HALF_UP, Decimal

ALERT_KINDS: tuple[str, ...] = ("adverse_event_rate", "ce_certificate")
ALERT_STATUSES: tuple[str, ...] = ("open", "suspended", "dismissed")
MAX_THRESHOLD = Decimal("100")


def default_threshold(risk_class: str | None, implantable: bool) -> Decimal:
    """Adverse events per 100 procedures above which the agency is alerted, from the dossier."""
    if implantable or risk_class == "III":
        return Decimal("2")
    if risk_class in ("IIb", "D"):
        return Decimal("3")
    return Decimal("5")


def event_rate(adverse_events: int, procedures: int) -> Decimal | None:
    """Adverse events per 100 procedures (two decimals); None with no procedure."""
    if procedures <= 0:
        return None
    rate = Decimal(100) * Decimal(adverse_events) / Decimal(procedures)
    return rate.quantize(Decimal("0.01"), rounding=ROUND_HALF_UP)


def over_threshold(adverse_events: int, procedures: int, threshold: Decimal) -> bool:
    """Above the threshold (with no procedure, any adverse event is)."""
    rate = event_rate(adverse_events, procedures)
    if rate is None:
        return adverse_events > 0
    return rate > threshold


def is_valid_threshold(value: Decimal) -> bool:
    return Decimal(0) < value <= MAX_THRESHOLD
