"""Residents' priorities: one row per (place, browser session), ten 0–10 ratings, optional text.

Revision ID: 0001_responses
Revises:
Create Date: 2026-11-30
"""
from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0001_responses"
down_revision: str | None = None
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

THEMES = ("health", "education", "housing", "poverty", "crime_safety", "wellbeing", "jobs", "pay",
          "productivity", "environment")  # frozen here: a migration never follows later code changes


def upgrade() -> None:
    op.create_table(
        "responses",
        sa.Column("id", sa.Integer(), primary_key=True, autoincrement=True),
        sa.Column("areacd", sa.String(9), nullable=False),
        sa.Column("session_token", sa.String(64), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        *[sa.Column(t, sa.SmallInteger(), nullable=False) for t in THEMES],
        sa.Column("free_text", sa.Text(), nullable=True),
        sa.Column("text_hidden", sa.Boolean(), nullable=False, server_default=sa.false()),
        sa.PrimaryKeyConstraint("id", name="pk_responses"),
        sa.UniqueConstraint("areacd", "session_token", name="uq_responses_areacd_session"),
        sa.CheckConstraint("free_text IS NULL OR length(free_text) <= 500", name="ck_responses_free_text_length"),
        *[sa.CheckConstraint(f"{t} BETWEEN 0 AND 10", name=f"ck_responses_{t}_range") for t in THEMES],
    )
    op.create_index("ix_responses_areacd_created", "responses", ["areacd", "created_at"])


def downgrade() -> None:
    op.drop_index("ix_responses_areacd_created", table_name="responses")
    op.drop_table("responses")
