from __future__ import annotations

from datetime import UTC, datetime

from hypothesis import given
from hypothesis import strategies as st

from gateway.domain.federation import PRECEDENCE_FIELDS, Person, Precedence, joined, merge
from gateway.domain.keys import PersonKey
from gateway.domain.records import ContactRecord, PostalAddress, Provider, TagRef


def record(provider: Provider, remote_id: str, **fields: object) -> ContactRecord:
    return ContactRecord(provider=provider, remote_id=remote_id, **fields)  # type: ignore[arg-type]


def test_records_join_on_normalized_email_and_external_id() -> None:
    people = merge(
        [
            record(Provider.ADAPTIX, "1", email="Ada@Example.com "),
            record(Provider.TRUSTMARY, "t1", email="ada@example.com", external_id="u-7"),
            record(Provider.LUNARSEND, "l1", email="other@example.com", external_id="u-7"),
            record(Provider.LUNARSEND, "l2", email="bob@example.com"),
        ],
        Precedence(),
    )
    assert [sorted(r.provider.value for r in p.sources) for p in people] == [
        ["adaptix", "lunarsend", "trustmary"],
        ["lunarsend"],
    ]
    assert people[0].key == PersonKey.email("ada@example.com")


def test_each_field_follows_the_configured_precedence() -> None:
    sources = [
        record(Provider.ADAPTIX, "1", email="a@x.io", phones=["+1"], company=None),
        record(Provider.LUNARSEND, "2", email="a@x.io", phones=["+2"], company="Acme"),
    ]
    default = merge(sources, Precedence())[0]
    assert default.pick("phones") == ["+1"]
    assert default.pick("company") == "Acme"  # the first provider with a value wins
    phones_from_lunarsend = Precedence(fields={"phones": (Provider.LUNARSEND,)})
    assert merge(sources, phones_from_lunarsend)[0].pick("phones") == ["+2"]


def test_custom_fields_merge_key_by_key_in_precedence() -> None:
    sources = [
        record(Provider.LUNARSEND, "2", email="a@x.io", custom_fields={"plan": "free", "seats": 2}),
        record(Provider.ADAPTIX, "1", email="a@x.io", custom_fields={"plan": "pro", "region": ""}),
    ]
    default = merge(sources, Precedence())[0]
    # Adaptix comes first for `plan`; Lunar Send alone has `seats`; a blank is no value.
    assert default.custom_fields == {"plan": "pro", "seats": 2}
    lunar_first = Precedence(fields={"custom_fields": (Provider.LUNARSEND,)})
    assert merge(sources, lunar_first)[0].custom_fields == {"plan": "free", "seats": 2}


def test_an_address_is_taken_whole_from_one_provider() -> None:
    london = PostalAddress(city="London", country="United Kingdom")
    person = merge(
        [
            record(
                Provider.TRUSTMARY, "t", email="a@x.io", address=PostalAddress(line1="1 Main St")
            ),
            record(Provider.ADAPTIX, "1", email="a@x.io", address=london),
        ],
        Precedence(),
    )[0]
    assert person.pick("address") == london


def test_tags_and_emails_are_unique_per_provider() -> None:
    person = merge(
        [
            record(Provider.ADAPTIX, "1", email="a@x.io", tags=[TagRef("vip"), TagRef("vip")]),
            record(
                Provider.TRUSTMARY, "t", email="A@X.io", created_at=datetime(2020, 1, 1, tzinfo=UTC)
            ),
        ],
        Precedence(),
    )[0]
    assert [(p, t.name) for p, t in person.tags] == [(Provider.ADAPTIX, "vip")]
    assert person.emails == ["a@x.io"]
    assert person.created_at == datetime(2020, 1, 1, tzinfo=UTC)


def test_a_person_without_email_is_keyed_by_external_id_else_by_record() -> None:
    [by_eid, by_record] = merge(
        [
            record(Provider.TRUSTMARY, "t9", external_id="u-9"),
            record(Provider.ADAPTIX, "42"),
        ],
        Precedence(),
    )
    assert by_eid.key == PersonKey.external_id("u-9")
    assert by_record.key == PersonKey.record(Provider.ADAPTIX, "42")


def test_chosen_names_the_record_pick_takes_each_value_from() -> None:
    sources = [
        record(Provider.LUNARSEND, "l", email="a@x.io", phones=["+2"], job_title="CTO"),
        record(Provider.ADAPTIX, "1", email="A@x.io", phones=["+1"], points=0),
        record(Provider.TRUSTMARY, "t", email="a@X.io", company="Acme", external_id="u-1"),
    ]
    for precedence in (Precedence(), Precedence(fields={"phones": (Provider.LUNARSEND,)})):
        for person in (merge(sources, precedence)[0], merge(sources[:1], precedence)[0]):
            for name in PRECEDENCE_FIELDS:
                chosen = person.chosen(name)
                assert person.pick(name) == (getattr(chosen, name) if chosen else None), name
            assert person.by_precedence("phones")[0] is person.chosen("phones")


_EMAILS = st.sampled_from(["ada@example.com", " Ada@Example.COM", "ADA@example.com ", "bob@x.io"])
_RECORDS = st.lists(
    st.builds(
        record,
        st.sampled_from(list(Provider)),
        st.sampled_from(["1", "2", "3"]),
        email=st.one_of(st.none(), st.just(""), _EMAILS),
        emails=st.lists(_EMAILS, max_size=2),
        external_id=st.one_of(st.none(), st.sampled_from(["u-1", "u-2"])),
        phones=st.lists(st.sampled_from(["+1", "+2"]), max_size=1),
    ),
    min_size=2,
    max_size=5,
)


@given(_RECORDS)
def test_records_sharing_one_email_merge_as_the_general_join_merges_them(
    records: list[ContactRecord],
) -> None:
    # Lookups by one email take a shortcut (every record shares the primary email);
    # people, their keys, their records and their values are the general join's.
    def shown(people: list[Person]) -> list[tuple[object, ...]]:
        return [
            (p.key, [(r.provider, r.remote_id) for r in p.sources], p.pick("phones"), p.emails)
            for p in people
        ]

    assert shown(merge(records, Precedence())) == shown(joined(records, Precedence()))
