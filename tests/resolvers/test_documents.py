"""The document cache: repeated documents skip parsing and validation, errors stay coded."""

from __future__ import annotations

import pytest

from resolvers.runtime import documents
from resolvers.runtime.context import Runtime
from tests.resolvers.conftest import execute


@pytest.fixture(autouse=True)
def _fresh() -> None:
    documents.clear()


QUERY = '{ contact(email: "ada.lovelace.0@stark.test") { email } }'


async def test_a_repeated_document_is_parsed_and_validated_once(gateway: Runtime) -> None:
    first = await execute(gateway, QUERY)
    entry = documents._ENTRIES[QUERY]
    assert entry.valid
    second = await execute(gateway, QUERY)
    assert first.data == second.data == {"contact": {"email": "ada.lovelace.0@stark.test"}}
    assert documents._ENTRIES[QUERY] is entry  # the same parsed tree served the second time


@pytest.mark.parametrize(
    ("query", "code"),
    [
        ("{ contact(email: ", "GRAPHQL_PARSE_FAILED"),
        ("{ nope }", "GRAPHQL_VALIDATION_FAILED"),
    ],
)
async def test_bad_documents_stay_coded_however_often_they_come(
    gateway: Runtime, query: str, code: str
) -> None:
    for _ in range(3):
        result = await execute(gateway, query)
        assert [e["extensions"]["code"] for e in result.errors] == [code]
    entry = documents._ENTRIES.get(query)
    assert entry is None or not entry.valid


async def test_the_cache_is_bounded_in_documents_and_in_text(
    gateway: Runtime, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(documents, "MAXSIZE", 3)
    for n in range(5):
        await execute(gateway, f"query Q{n} {{ providers {{ name }} }}")
    assert len(documents._ENTRIES) == 3
    huge = "query Huge { providers { name } }" + " " * documents.MAX_TEXT
    assert (await execute(gateway, huge)).errors == []
    assert huge not in documents._ENTRIES
