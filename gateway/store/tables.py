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
