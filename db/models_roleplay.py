"""Models of the roleplay feature (tables are created by their Alembic migration in db/migrations/versions).

A session is one rep playing one persona; its `state` is the persona's state machine (patience, trust,
needs, objections), rewritten in every update's transaction, so a restart resumes the conversation.
Turns keep the transcript and how each rep line was read; the scorecard keeps the total and the points
of each criterion as columns (for managers' reports) and the checks and tips as JSON.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import JSON, BigInteger, Float, ForeignKey, Index, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from db.models import Base, UTCDateTime


class RoleplayDrill(Base):
    """A trainer's group drill: everyone who joins with the code plays the same persona."""

    __tablename__ = "roleplay_drills"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    code: Mapped[str] = mapped_column(String(16), unique=True)
    trainer_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    chat_id: Mapped[int] = mapped_column(BigInteger)
    persona: Mapped[str] = mapped_column(String(64))
    status: Mapped[str] = mapped_column(String(16), default="open")  # open | closed
    created_at: Mapped[datetime]
    closed_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), nullable=True)


class RoleplaySession(Base):
    __tablename__ = "roleplay_sessions"
    __table_args__ = (Index("ix_roleplay_sessions_user_status", "user_id", "status"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"))
    chat_id: Mapped[int] = mapped_column(BigInteger)
    persona: Mapped[str] = mapped_column(String(64))
    lang: Mapped[str] = mapped_column(String(8), default="zh")
    status: Mapped[str] = mapped_column(String(16), default="active")  # active | done | cancelled | expired
    seed: Mapped[int] = mapped_column(BigInteger, default=0)
    turns: Mapped[int] = mapped_column(Integer, default=0)
    state: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    drill_id: Mapped[int | None] = mapped_column(
        ForeignKey("roleplay_drills.id", ondelete="SET NULL"), nullable=True, index=True
    )
    created_at: Mapped[datetime]
    updated_at: Mapped[datetime]
    ended_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), nullable=True)


class RoleplayTurn(Base):
    __tablename__ = "roleplay_turns"
    __table_args__ = (UniqueConstraint("session_id", "n", name="uq_roleplay_turns_session_n"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    session_id: Mapped[int] = mapped_column(ForeignKey("roleplay_sessions.id", ondelete="CASCADE"))
    n: Mapped[int] = mapped_column(Integer)
    rep: Mapped[str] = mapped_column(Text)
    customer: Mapped[str] = mapped_column(Text)
    lang: Mapped[str] = mapped_column(String(8))
    data: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)  # classification, events, counters
    created_at: Mapped[datetime]


class RoleplayScorecard(Base):
    __tablename__ = "roleplay_scorecards"
    __table_args__ = (Index("ix_roleplay_scorecards_user_time", "user_id", "created_at"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    session_id: Mapped[int] = mapped_column(ForeignKey("roleplay_sessions.id", ondelete="CASCADE"), unique=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"))
    persona: Mapped[str] = mapped_column(String(64))
    drill_id: Mapped[int | None] = mapped_column(
        ForeignKey("roleplay_drills.id", ondelete="SET NULL"), nullable=True, index=True
    )
    total: Mapped[int] = mapped_column(Integer)
    opening: Mapped[int] = mapped_column(Integer)
    questioning: Mapped[int] = mapped_column(Integer)
    spin: Mapped[int] = mapped_column(Integer)
    listening: Mapped[int] = mapped_column(Integer)
    fab: Mapped[int] = mapped_column(Integer)
    objections: Mapped[int] = mapped_column(Integer)
    summary: Mapped[int] = mapped_column(Integer)
    next_step: Mapped[int] = mapped_column(Integer)
    talk_share: Mapped[float] = mapped_column(Float)
    questions: Mapped[int] = mapped_column(Integer)
    outcome: Mapped[str] = mapped_column(String(16))  # agreed | dismissed | ended
    details: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    created_at: Mapped[datetime]
