"""The gateway's memory: who is who, and the provider records it has read lately.

The providers stay the systems of record; the store keeps only what the gateway
must remember between requests and processes:

    persons       an opaque, random id per person (UUIDv7), and which person a
                  merged one now lives in
    links         which provider record belongs to which person, whether a person
                  decided it (merge, unlink: never undone automatically), and
                  what the gateway last wrote there (Akita, Interakt cannot be read)
    identifiers   normalized emails and external ids, each owned by one person:
                  the unique key that makes two concurrent first sightings one person
    decisions     merges and unlinks, in order
    record_cache  provider records read lately ([cache] ttl)
    accounts      an opaque id per account key (company or external account id)

SQLAlchemy 2 (async Core) over SQLite (aiosqlite, the default: one file, nothing
to run) or PostgreSQL (asyncpg, for several processes or machines); Alembic
migrations in `migrations/`, applied by `contact-gateway migrate` and at `serve`.
"""

from gateway.store.engine import Store, StoreError, StoreUnavailable, open_store

__all__ = ["Store", "StoreError", "StoreUnavailable", "open_store"]
