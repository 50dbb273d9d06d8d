"""Organisation identifiers (pure): the Italian VAT number and the EUDAMED actor SRN.

Each validator takes what a person typed, returns the normalised value to store, and raises
`ValidationFailed` with a `reason` code ("format", "invalid", "country", "actor_type") that
the caller turns into a translated message.
"""

from __future__ import annotations

import re

from stdnum.exceptions import InvalidChecksum, InvalidComponent, ValidationError
from stdnum.it import iva

from app.domain.errors import ValidationFailed

VAT_COUNTRY_PREFIX = "IT"

# EUDAMED Single Registration Number: country, actor type, 9 digits ("IT-MF-000012345").
SRN_ACTOR_TYPES = ("MF", "AR", "IM", "PR", "SP")
SRN_PATTERN = re.compile(r"^(?P<country>[A-Z]{2})-(?P<actor>[A-Z]{2})-(?P<number>\d{9})$")

_VAT_SEPARATORS = re.compile(r"[\s.\-/]")
_LEADING_LETTERS = re.compile(r"^[A-Z]+")


def validate_vat_number(value: str) -> str:
    """An Italian VAT number (partita IVA), with or without "IT", as "IT" + 11 digits.

    Spaces, dots, dashes and slashes are ignored; a foreign country prefix is refused, the
    11 digits must carry a valid office code and check digit (python-stdnum `stdnum.it.iva`).
    """
    compact = _VAT_SEPARATORS.sub("", value or "").upper()
    letters = _LEADING_LETTERS.match(compact)
    if letters and letters.group() != VAT_COUNTRY_PREFIX:
        raise ValidationFailed("not an Italian VAT number", field="vat_number", reason="country")
    digits = compact.removeprefix(VAT_COUNTRY_PREFIX)
    try:
        iva.validate(digits)
    except (InvalidChecksum, InvalidComponent):
        raise ValidationFailed(
            "not a valid Italian VAT number", field="vat_number", reason="invalid"
        ) from None
    except ValidationError:
        raise ValidationFailed(
            "VAT number must be 11 digits", field="vat_number", reason="format"
        ) from None
    return VAT_COUNTRY_PREFIX + digits


def validate_eudamed_srn(value: str) -> str:
    """A EUDAMED actor SRN such as "IT-MF-000012345", returned upper-case and trimmed."""
    srn = (value or "").strip().upper()
    match = SRN_PATTERN.match(srn)
    if match is None:
        raise ValidationFailed(
            "SRN must look like IT-MF-000012345", field="eudamed_srn", reason="format"
        )
    if match.group("actor") not in SRN_ACTOR_TYPES:
        raise ValidationFailed(
            "unknown EUDAMED actor type", field="eudamed_srn", reason="actor_type"
        )
    return srn
