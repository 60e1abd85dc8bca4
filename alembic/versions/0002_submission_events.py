"""A rate limit shared by every process using the database: recent submission events, keyed by a salted hash.

Revision ID: 0002_submission_events
Revises: 0001_responses
Create Date: 2026-11-30
"""
from __future__ import annotations

import secrets
from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0002_submission_events"
down_revision: str | None = "0001_responses"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "submission_events",
        sa.Column("id", sa.Integer(), primary_key=True, autoincrement=True),
        sa.Column("client_hash", sa.String(64), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_submission_events"),
    )
    op.create_index("ix_submission_events_client_created", "submission_events", ["client_hash", "created_at"])
    op.create_index("ix_submission_events_created", "submission_events", ["created_at"])
    key = op.create_table(
        "rate_limit_key",
        sa.Column("id", sa.Integer(), autoincrement=False, nullable=False),
        sa.Column("key", sa.String(64), nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_rate_limit_key"),
        sa.CheckConstraint("id = 1", name="ck_rate_limit_key_single_row"),
    )
    # A random key made once for this database: client hashes cannot be compared with any other deployment's.
    op.bulk_insert(key, [{"id": 1, "key": secrets.token_hex(32)}])


def downgrade() -> None:
    op.drop_table("rate_limit_key")
    op.drop_index("ix_submission_events_created", table_name="submission_events")
    op.drop_index("ix_submission_events_client_created", table_name="submission_events")
    op.drop_table("submission_events")
