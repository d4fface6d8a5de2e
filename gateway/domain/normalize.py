"""The join keys' normal forms: how two spellings of one email or company compare equal."""

from __future__ import annotations


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
