"""The responses table, as SQLAlchemy 2.x models. The Alembic migrations in alembic/versions/ create
and change it; the models are what the code reads and writes through, and a test checks the two agree.

One row per (place, browser session): the unique constraint is the one-response-per-session rule,
kept by the database itself so that two replicas or two processes cannot both insert it.
"""
from __future__ import annotations

from datetime import datetime

from sqlalchemy import (Boolean, CheckConstraint, DateTime, Index, Integer, MetaData, SmallInteger, String, Text,
                        UniqueConstraint, false)
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column

from .themes import MAX_TEXT_CHARS, SCALE, THEMES

# Named constraints, so migrations can refer to them on every database.
NAMING = {"ix": "ix_%(column_0_label)s", "uq": "uq_%(table_name)s_%(column_0_name)s",
          "ck": "ck_%(table_name)s_%(constraint_name)s", "pk": "pk_%(table_name)s"}


class Base(DeclarativeBase):
    metadata = MetaData(naming_convention=NAMING)


def _rating_checks() -> list[CheckConstraint]:
    return [CheckConstraint(f"{t} BETWEEN {SCALE[0]} AND {SCALE[1]}", name=f"{t}_range") for t in THEMES]


class Response(Base):
    """One resident's ratings for one place. No name, e-mail, IP address or other personal data."""

    __tablename__ = "responses"
    __table_args__ = (
        UniqueConstraint("areacd", "session_token", name="uq_responses_areacd_session"),
        Index("ix_responses_areacd_created", "areacd", "created_at"),
        CheckConstraint(f"free_text IS NULL OR length(free_text) <= {MAX_TEXT_CHARS}", name="free_text_length"),
        *_rating_checks(),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    areacd: Mapped[str] = mapped_column(String(9))
    # A random value made for one browser session; it links nothing to a person.
    session_token: Mapped[str] = mapped_column(String(64))
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    health: Mapped[int] = mapped_column(SmallInteger)
    education: Mapped[int] = mapped_column(SmallInteger)
    housing: Mapped[int] = mapped_column(SmallInteger)
    poverty: Mapped[int] = mapped_column(SmallInteger)
    crime_safety: Mapped[int] = mapped_column(SmallInteger)
    wellbeing: Mapped[int] = mapped_column(SmallInteger)
    jobs: Mapped[int] = mapped_column(SmallInteger)
    pay: Mapped[int] = mapped_column(SmallInteger)
    productivity: Mapped[int] = mapped_column(SmallInteger)
    environment: Mapped[int] = mapped_column(SmallInteger)
    free_text: Mapped[str | None] = mapped_column(Text, nullable=True)
    # Moderation hides a free-text answer from display and export; the ratings still count.
    text_hidden: Mapped[bool] = mapped_column(Boolean, default=False, server_default=false())


class SubmissionEvent(Base):
    """One accepted response's moment, for the rate limit every process sharing the database enforces.

    `client_hash` is a keyed hash (HMAC-SHA-256) of the client's address, never the address: it lets the
    limit count one client's responses and nothing more. Rows older than the longest window are deleted
    as responses arrive (ratelimit.SharedLimit)."""

    __tablename__ = "submission_events"
    __table_args__ = (
        Index("ix_submission_events_client_created", "client_hash", "created_at"),
        Index("ix_submission_events_created", "created_at"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    client_hash: Mapped[str] = mapped_column(String(64))
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))


class RateLimitKey(Base):
    """The random key the client hashes are made with: one row, written by the migration, shared by every
    replica (so one client hashes alike everywhere) and by no other deployment."""

    __tablename__ = "rate_limit_key"
    __table_args__ = (CheckConstraint("id = 1", name="single_row"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=False)
    key: Mapped[str] = mapped_column(String(64))
