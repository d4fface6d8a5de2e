"""Normal forms: how two spellings of one email, company, name or phone compare equal
(the join keys, and what `provenance` calls the same value), and the one rule for what
the gateway takes as an email address."""

from __future__ import annotations

import re

from gateway.domain.phones import DEFAULT_REGION, PhoneError, normalize_phone

# Something, an @, a domain with a dot, no whitespace: what every email the gateway is
# given (an input, a filter, a lookup) must look like. Providers check further.
_EMAIL = re.compile(r"[^@\s]+@[^@\s]+\.[^@\s.]+")


def parse_email(text: str) -> str | None:
    """`text` trimmed when it is an email address, else None (case is kept)."""
    email = text.strip()
    return email if _EMAIL.fullmatch(email) else None


def normalize_email(email: str | None) -> str | None:
    """The join key for emails: trimmed and case-folded; None for blank."""
    if email is None:
        return None
    cleaned = email.strip().lower()
    return cleaned or None


def normalize_company(company: str | None) -> str | None:
    """The join key for company names: case-folded, inner whitespace collapsed."""
    if company is None:
        return None
    cleaned = " ".join(company.split()).lower()
    return cleaned or None


def normalize_text(text: str | None) -> str | None:
    """Names, titles and other free text: case-folded, whitespace trimmed and collapsed."""
    if text is None:
        return None
    cleaned = " ".join(text.split()).casefold()
    return cleaned or None


def phone_key(phone: str | None, region: str | None = DEFAULT_REGION) -> str | None:
    """How two spellings of one phone number compare equal: its E.164 form where it is
    a number (one without a leading "+" read in `region`, the input's default), else
    its digits ("+" or "00" as the international prefix); None without digits.
    "+1 555 010 0100" and "(555) 010-0100" are one number."""
    if phone is None:
        return None
    if phone.strip().startswith("00"):  # the international prefix, spelled out
        phone = "+" + phone.strip()[2:]
    try:
        return normalize_phone(phone, region)
    except PhoneError:
        pass
    digits = "".join(ch for ch in phone if ch in "0123456789")
    return digits or None


def normalize_url(url: str | None) -> str | None:
    """A URL trimmed, case-folded and without a trailing slash; None for blank."""
    if url is None:
        return None
    cleaned = url.strip().rstrip("/").casefold()
    return cleaned or None
