"""Procurement of an adopted device (pure): the routes, the tender reference and the price.

An IRCCS that approved a device buys it through one of the `PROCUREMENT_ROUTES`; the tender
carries a CIG (Codice Identificativo Gara, assigned by ANAC): 10 characters, upper-case
letters and digits. The awarded price is a confidential figure of that IRCCS (shown like its
usage spend: `app.domain.redaction.RequestView.sees_adoption_figures`).
"""

from __future__ import annotations

import re
from decimal import Decimal, InvalidOperation

PROCUREMENT_ROUTES: tuple[str, ...] = (
    "central_purchasing_body",
    "regional_aggregator",
    "direct",
    "pre_commercial",
)

CIG_LENGTH = 10
_CIG = re.compile(r"^[A-Z0-9]{10}$")
# Separators people paste with a CIG ("Z1A 2B3C4D5"): ignored.
_CIG_SEPARATORS = re.compile(r"[\s\-]")
# Awarded prices: positive, at most two decimals, below a billion euro.
MAX_AMOUNT = Decimal("999999999.99")


def normalise_cig(value: str) -> str:
    """What a person typed as a CIG, trimmed, without spaces or dashes, upper-cased."""
    return _CIG_SEPARATORS.sub("", value or "").upper()


def is_valid_cig(value: str) -> bool:
    """A normalised CIG: exactly 10 upper-case letters and digits."""
    return bool(_CIG.match(value or ""))


def parse_amount(value) -> Decimal | None:
    """An amount in euro as a Decimal with two decimals, or None when it is not one (text,
    negative or zero, more than two decimals, too large). Accepts "12500" and "12500.5";
    "12.500,50" is refused (ambiguous): the form asks for a dot as the decimal separator."""
    if isinstance(value, Decimal):
        amount = value
    else:
        text = str(value).strip().replace(" ", "")
        try:
            amount = Decimal(text)
        except (InvalidOperation, ValueError):
            return None
    if not amount.is_finite() or amount <= 0 or amount > MAX_AMOUNT:
        return None
    if amount.as_tuple().exponent < -2:
        return None
    return amount.quantize(Decimal("0.01"))
