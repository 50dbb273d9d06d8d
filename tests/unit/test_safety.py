"""The safety loop's rules: the rate of adverse events per 100 procedures against the
device's threshold, and the dossier's default threshold."""

from __future__ import annotations

from decimal import Decimal

import pytest

from app.domain.safety import default_threshold, event_rate, is_valid_threshold, over_threshold


def test_the_rate_is_per_100_procedures():
    assert event_rate(1, 8) == Decimal("12.50")
    assert event_rate(0, 40) == Decimal("0.00")
    assert event_rate(3, 0) is None


@pytest.mark.parametrize(
    ("events", "procedures", "threshold", "over"),
    [
        (1, 50, Decimal("2"), False),  # exactly 2 per 100: not above
        (2, 50, Decimal("2"), True),
        (0, 0, Decimal("2"), False),
        (1, 0, Decimal("5"), True),  # an adverse event with no procedure counted
    ],
)
def test_only_a_rate_above_the_threshold_alerts(events, procedures, threshold, over):
    assert over_threshold(events, procedures, threshold) is over


def test_the_riskiest_devices_get_the_strictest_default():
    assert default_threshold("III", False) == Decimal("2")
    assert default_threshold("IIa", True) == Decimal("2")
    assert default_threshold("IIb", False) == Decimal("3")
    assert default_threshold("IIa", False) == Decimal("5")
    assert not is_valid_threshold(Decimal("0"))
    assert is_valid_threshold(Decimal("0.5"))
