"""The store's tables (SQLAlchemy Core). Migrations (`migrations/versions`) create them;
`tests/gateway/store` checks that the migrated schema and this metadata agree."""

from __future__ import annotations

from sqlalchemy import (
    JSON,
    Boolean,
    Column,
    DateTime,
    ForeignKey,
    Index,
    Integer,
    MetaData,
    String,
    Table,
    Text,
)

metadata = MetaData(
    naming_convention={
        "ix": "ix_%(table_name)s_%(column_0_name)s",
        "uq": "uq_%(table_name)s_%(column_0_name)s",
        "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
        "pk": "pk_%(table_name)s",
    }
)

ID = String(40)
PROVIDER = String(20)
REMOTE_ID = String(200)

persons = Table(
    "persons",
    metadata,
    Column("id", ID, primary_key=True),
    Column("created_at", DateTime(timezone=True), nullable=False),
    # Set when the person was merged into another: every id then resolves to that one.
    Column("merged_into", ID, ForeignKey("persons.id"), nullable=True),
)

links = Table(
    "links",
    metadata,
    Column("provider", PROVIDER, primary_key=True),
    Column("remote_id", REMOTE_ID, primary_key=True),
    Column("person_id", ID, ForeignKey("persons.id"), nullable=False),
    # Placed by a person (merge, unlink): automatic joining never moves it.
    Column("manual", Boolean, nullable=False, default=False),
    Column("first_seen_at", DateTime(timezone=True), nullable=False),
    Column("last_written_at", DateTime(timezone=True), nullable=True),
    # What the gateway last wrote to this record (its provider's payload, unified).
    Column("written", JSON, nullable=True),
    Index("ix_links_person_id", "person_id"),
)

identifiers = Table(
    "identifiers",
    metadata,
    Column("kind", String(10), primary_key=True),  # "email" or "eid"
    Column("value", String(320), primary_key=True),
    Column("person_id", ID, ForeignKey("persons.id"), nullable=False),
    Index("ix_identifiers_person_id", "person_id"),
)

decisions = Table(
    "decisions",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("at", DateTime(timezone=True), nullable=False),
    Column("kind", String(20), nullable=False),  # "merge", "unlink", "auto-merge"
    Column("person_id", ID, nullable=False),  # the survivor, or the one a record left
    Column("other", Text, nullable=False),  # the merged person, or "provider:remote id"
    Column("detail", JSON, nullable=True),
)

record_cache = Table(
    "record_cache",
    metadata,
    Column("provider", PROVIDER, primary_key=True),
    Column("key", String(330), primary_key=True),  # "email:<normalized>" or "id:<remote id>"
    Column("remote_id", REMOTE_ID, nullable=True),  # None: the provider has no such record
    Column("record", JSON, nullable=True),
    Column("fetched_at", DateTime(timezone=True), nullable=False),
    Index("ix_record_cache_fetched_at", "fetched_at"),
)

accounts = Table(
    "accounts",
    metadata,
    Column("id", ID, primary_key=True),
    Column("key", String(330), nullable=False, unique=True),  # AccountKey.token
)

# -- the write journal -----------------------------------------------------------------

operations = Table(
    "operations",
    metadata,
    Column("id", ID, primary_key=True),
    # The mutation: upsertContact, upsertContacts, startBulkUpsert, deleteContact, ...
    Column("kind", String(40), nullable=False),
    Column("created_at", DateTime(timezone=True), nullable=False),
    Column("started_at", DateTime(timezone=True), nullable=True),
    Column("finished_at", DateTime(timezone=True), nullable=True),
    # pending (a leg is open), done, partial (some legs failed), failed
    Column("status", String(10), nullable=False),
    Column("caller", String(100), nullable=True),
    # What to write and where, as the legs need it to be tried again.
    Column("request", JSON, nullable=False),
    Column("inputs", Integer, nullable=False),
    Index("ix_operations_status", "status", "created_at"),
    Index("ix_operations_created_at", "created_at"),
)

legs = Table(
    "legs",
    metadata,
    Column("operation_id", ID, ForeignKey("operations.id"), primary_key=True),
    Column("item", Integer, primary_key=True),  # which input (0 for a single write)
    Column("provider", PROVIDER, primary_key=True),
    # pending, running, created, updated, deleted, skipped, queued, failed
    Column("status", String(10), nullable=False),
    Column("attempts", Integer, nullable=False),
    Column("last_error", Text, nullable=True),
    Column("next_attempt_at", DateTime(timezone=True), nullable=True),
    # A process working on the leg holds it until then (another one may take it after).
    Column("lease_until", DateTime(timezone=True), nullable=True),
    Column("remote_id", REMOTE_ID, nullable=True),
    Column("result", JSON, nullable=True),  # message, dropped fields
    Column("updated_at", DateTime(timezone=True), nullable=False),
    Index("ix_legs_status", "status", "next_attempt_at"),
)

idempotency_keys = Table(
    "idempotency_keys",
    metadata,
    Column("key", String(300), primary_key=True),  # the caller's name and their key
    Column("request_hash", String(64), nullable=False),
    Column("created_at", DateTime(timezone=True), nullable=False),
    # The first answer, replayed for the same key and request; None while it runs.
    Column("response", Text, nullable=True),
    Index("ix_idempotency_keys_created_at", "created_at"),
)
