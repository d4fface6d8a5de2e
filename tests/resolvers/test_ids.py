from __future__ import annotations

import pytest

from gateway.domain.keys import PersonKey
from resolvers.runtime.errors import BadUserInput
from resolvers.types.ids import decode_id, encode_id, person_key


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        (encode_id("Contact", "email:a@x.io"), ("Contact", "email:a@x.io")),
        ("not-base64!", None),
        (encode_id("Contact", "").rstrip(), None),
    ],
)
def test_global_ids_round_trip_and_garbage_is_refused(
    value: str, expected: tuple[str, str] | None
) -> None:
    assert decode_id(value) == expected


def test_a_contact_id_names_its_person_key() -> None:
    key = PersonKey.external_id("u-1906")
    assert person_key(encode_id("Contact", key.token)) == key
    with pytest.raises(BadUserInput):
        person_key(encode_id("Account", "company:acme"))
