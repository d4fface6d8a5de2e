"""The join keys' normal forms: how two spellings of one email or company compare equal,
and the one rule for what the gateway takes as an email address."""

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
