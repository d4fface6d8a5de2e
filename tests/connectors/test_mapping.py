"""The value readers every provider's mapping uses (connectors/mapping.py) and Adaptix's
collections (`entries`)."""

from __future__ import annotations

from typing import Any

from hypothesis import given
from hypothesis import strategies as st

from connectors.adaptix.mapping import entries
from connectors.mapping import clean_text

JSON_LEAVES = st.none() | st.booleans() | st.integers() | st.floats() | st.text()


class Name(str):
    """A str subclass, as a decoder other than orjson could give."""


@given(JSON_LEAVES)
def test_clean_text_is_trimmed_text_or_none(value: Any) -> None:
    cleaned = clean_text(value)
    if value is None or isinstance(value, bool) or not str(value).strip():
        assert cleaned is None
    else:
        assert cleaned == str(value).strip()


def test_clean_text_of_a_str_subclass_is_its_text() -> None:
    assert clean_text(Name("  Ada ")) == "Ada"
    assert clean_text(Name("   ")) is None


@given(
    st.none()
    | st.just([])
    | st.just({})
    | st.integers()
    | st.text()
    | st.lists(st.dictionaries(st.text(max_size=3), st.integers(), max_size=2) | st.integers())
)
def test_entries_are_the_objects_of_a_list_or_of_an_object_keyed_by_id(value: Any) -> None:
    expected = [item for item in value if isinstance(item, dict)] if isinstance(value, list) else []
    assert entries(value) == expected
    keyed = {str(n): item for n, item in enumerate(expected)}
    assert entries(keyed) == expected
