from __future__ import annotations

import pytest

from gateway.domain.keys import AccountKey, AccountKind, KeyKind, PersonKey
from gateway.domain.records import Provider


@pytest.mark.parametrize(
    ("key", "token"),
    [
        (PersonKey.email(" Ada@Example.COM "), "email:ada@example.com"),
        (PersonKey.external_id("u-7"), "eid:u-7"),
        (PersonKey.record(Provider.ADAPTIX, "181"), "adaptix:181"),
    ],
)
def test_person_keys_have_one_text_form_that_parses_back(key: PersonKey, token: str) -> None:
    assert key.token == token
    assert PersonKey.parse(token) == key


@pytest.mark.parametrize("token", ["", "email:", "email:  ", "nope:1", "adaptix", ":x"])
def test_text_that_names_no_person_parses_to_none(token: str) -> None:
    assert PersonKey.parse(token) is None


def test_an_email_key_is_normalized_whatever_its_spelling() -> None:
    assert PersonKey.parse("email:ADA@x.io") == PersonKey(KeyKind.EMAIL, "ada@x.io")
    with pytest.raises(ValueError, match="non-blank"):
        PersonKey.email("  ")


def test_account_keys_prefer_the_external_id_then_the_normalized_company() -> None:
    assert AccountKey.of("acct-1", "Acme") == AccountKey(AccountKind.EXTERNAL_ID, "acct-1")
    assert AccountKey.of(None, "  ACME   Oy ") == AccountKey(AccountKind.COMPANY, "acme oy")
    assert AccountKey.of(None, " ") is None
    assert AccountKey.parse("company:acme oy") == AccountKey.of(None, "Acme Oy")
    assert AccountKey.parse("other:x") is None
