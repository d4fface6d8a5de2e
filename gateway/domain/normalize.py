"""Normal forms: how two spellings of one email, company, name or phone compare equal
(the join keys, and what `provenance` calls the same value), and the one rule for what
the gateway takes as an email address."""

from __future__ import annotations

import re

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


def normalize_phone(phone: str | None) -> str | None:
    """A phone number by its digits: "+1 (555) 0100" and "0015550100" compare equal.

    No provider gives numbers in E.164 and the gateway knows no caller's country, so
    only the international prefix is understood ("+" or "00"); None without digits.
    """
    if phone is None:
        return None
    digits = "".join(ch for ch in phone if ch in "0123456789")
    if phone.strip().startswith("00"):
        digits = digits[2:]
    return digits or None


def normalize_url(url: str | None) -> str | None:
    """A URL trimmed, case-folded and without a trailing slash; None for blank."""
    if url is None:
        return None
    cleaned = url.strip().rstrip("/").casefold()
    return cleaned or None
