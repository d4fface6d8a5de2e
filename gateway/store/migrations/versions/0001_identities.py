"""Persons, their links and identifiers, decisions, the record cache and account ids.

Revision ID: 0001
Revises:
Create Date: 2026-12-01
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0001"
down_revision = None
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "persons",
        sa.Column("id", sa.String(40), primary_key=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("merged_into", sa.String(40), sa.ForeignKey("persons.id"), nullable=True),
    )
    op.create_table(
        "links",
        sa.Column("provider", sa.String(20), primary_key=True),
        sa.Column("remote_id", sa.String(200), primary_key=True),
        sa.Column("person_id", sa.String(40), sa.ForeignKey("persons.id"), nullable=False),
        sa.Column("manual", sa.Boolean(), nullable=False),
        sa.Column("first_seen_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("last_written_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("written", sa.JSON(), nullable=True),
    )
    op.create_index("ix_links_person_id", "links", ["person_id"])
    op.create_table(
        "identifiers",
        sa.Column("kind", sa.String(10), primary_key=True),
        sa.Column("value", sa.String(320), primary_key=True),
        sa.Column("person_id", sa.String(40), sa.ForeignKey("persons.id"), nullable=False),
    )
    op.create_index("ix_identifiers_person_id", "identifiers", ["person_id"])
    op.create_table(
        "decisions",
        sa.Column("id", sa.Integer(), primary_key=True, autoincrement=True),
        sa.Column("at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("kind", sa.String(20), nullable=False),
        sa.Column("person_id", sa.String(40), nullable=False),
        sa.Column("other", sa.Text(), nullable=False),
        sa.Column("detail", sa.JSON(), nullable=True),
    )
    op.create_table(
        "record_cache",
        sa.Column("provider", sa.String(20), primary_key=True),
        sa.Column("key", sa.String(330), primary_key=True),
        sa.Column("remote_id", sa.String(200), nullable=True),
        sa.Column("record", sa.JSON(), nullable=True),
        sa.Column("fetched_at", sa.DateTime(timezone=True), nullable=False),
    )
    op.create_index("ix_record_cache_fetched_at", "record_cache", ["fetched_at"])
    op.create_table(
        "accounts",
        sa.Column("id", sa.String(40), primary_key=True),
        sa.Column("key", sa.String(330), nullable=False),
        sa.UniqueConstraint("key", name="uq_accounts_key"),
    )


def downgrade() -> None:
    for table in ("accounts", "record_cache", "decisions", "identifiers", "links", "persons"):
        op.drop_table(table)
