"""Phone numbers in one form, E.164 (`+15550100100`), before any provider sees them.

Parsing and the numbering plans are `phonenumbers`' (Google's libphonenumber
metadata). A number is accepted when its country's plan allows its length, not
only when its range is assigned today: assignments change with every metadata
release, and the ranges kept for fiction and tests (`555-01xx`) are not assigned
at all. A number without a leading `+` is read in the configured default region.
A number that is only dialable locally (a US number without its area code) or
that has an extension is refused: E.164 could not hold it whole.
"""

from __future__ import annotations

import phonenumbers
from phonenumbers import NumberParseException, PhoneNumberFormat, ValidationResult

DEFAULT_REGION = "US"
REGIONS = frozenset(phonenumbers.SUPPORTED_REGIONS)

_REASONS = {
    ValidationResult.INVALID_COUNTRY_CODE: "its country code is unknown",
    ValidationResult.TOO_SHORT: "it is too short",
    ValidationResult.TOO_LONG: "it is too long",
    ValidationResult.IS_POSSIBLE_LOCAL_ONLY: "it lacks its area code",
    ValidationResult.INVALID_LENGTH: "no number of its country has that length",
}
_PARSE_REASONS = {
    NumberParseException.INVALID_COUNTRY_CODE: "its country code is unknown",
    NumberParseException.TOO_SHORT_AFTER_IDD: "it is too short",
    NumberParseException.TOO_SHORT_NSN: "it is too short",
    NumberParseException.TOO_LONG: "it is too long",
}


class PhoneError(ValueError):
    """Not a phone number; `str()` says why (`it is too short`)."""


def normalize_phone(text: str, region: str | None = DEFAULT_REGION) -> str:
    """`text` as an E.164 number.

    Args:
        text: a number as people write it: `+358 40 1234567`, `(555) 010-0100`.
        region: the ISO 3166 region (`US`, `FI`) of a number without a leading `+`;
            None: such a number is refused.

    Raises:
        PhoneError: `text` is not a number any provider could dial.
    """
    try:
        number = phonenumbers.parse(text, region)
    except NumberParseException as exc:
        raise PhoneError(_PARSE_REASONS.get(exc.error_type, "it is not a number")) from None
    if number.extension:
        # E.164 has no extension: dropping it would store a different line.
        raise PhoneError("it has an extension, which E.164 cannot hold")
    reason = phonenumbers.is_possible_number_with_reason(number)
    if reason != ValidationResult.IS_POSSIBLE:
        raise PhoneError(_REASONS.get(reason, "it is not a number"))
    return phonenumbers.format_number(number, PhoneNumberFormat.E164)
