from __future__ import annotations

import json
from datetime import UTC, datetime

from gateway.domain.records import (
    ActivityKind,
    ActivityRecord,
    ContactRecord,
    ContactStatus,
    ContactType,
    DoNotContactEntry,
    DoNotContactReason,
    Lifecycle,
    OwnerRef,
    PostalAddress,
    Provider,
    TagRef,
    UtmTag,
)
from gateway.store.codec import decode, encode

AT = datetime(2026, 3, 1, 12, 30, tzinfo=UTC)


def test_a_record_with_every_field_reads_back_equal_through_json() -> None:
    record = ContactRecord(
        provider=Provider.ADAPTIX,
        remote_id="42",
        email="ada@x.test",
        title="Dr",
        address=PostalAddress(line1="12 Square", city="London", postal_code="SW1Y"),
        website="https://ada.test",
        owner=OwnerRef("2", "Laura Hill"),
        type=ContactType.EMPLOYEE,
        status=ContactStatus.UNSUBSCRIBED,
        lifecycle=Lifecycle.MEMBER,
        tags=[TagRef("vip", "tag", "3")],
        custom_fields={"plan": "pro", "seats": 3},
        do_not_contact=["email"],
        do_not_contact_entries=[
            DoNotContactEntry("email", DoNotContactReason.BOUNCED, "7", AT, "Hard bounce.", "1")
        ],
        utm_tags=[UtmTag("9", AT, campaign="spring", query={"ref": "banner"})],
        created_at=AT,
        updated_at=AT,
        last_active_at=AT,
        inline_activity=[
            ActivityRecord(Provider.ADAPTIX, "42", "n1", ActivityKind.NOTE, "general", None, AT)
        ],
        raw={"id": 42},
    )
    again = decode(json.loads(json.dumps(encode(record))))
    assert again == record
    assert type(again.lifecycle) is Lifecycle


def test_data_cached_before_a_field_existed_reads_with_its_default() -> None:
    cached = {"provider": "trustmary", "remote_id": "gkggiGLXH", "type": "partner"}
    record = decode(cached)
    assert (record.type, record.status) == (ContactType.OTHER, None)
    assert (record.address, record.owner, record.last_active_at) == (None, None, None)
    assert record.lifecycle is None
    assert (record.do_not_contact_entries, record.utm_tags) == ([], [])
