"""Models of the flows feature (tables are created by their Alembic migration in db/migrations/versions)."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import JSON, BigInteger, ForeignKey, Index, Integer, String
from sqlalchemy.orm import Mapped, mapped_column

from db.models import Base, UTCDateTime


class Reminder(Base):
    """A message due at a given time (next visit, weekly plan), sent once by whichever process claims it.

    `sent_at` is set by the claim (a conditional UPDATE … WHERE sent_at IS NULL) in the same
    transaction that queues the message in the outbox, so two bot processes never both send it.
    `status` tells what became of it: pending → sent | dropped (far too late) | cancelled (superseded).
    `dedupe_key` makes scheduling idempotent: the same visit or week is never reminded twice.
    """

    __tablename__ = "reminders"
    __table_args__ = (Index("ix_reminders_status_due", "status", "due_at"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    chat_id: Mapped[int] = mapped_column(BigInteger)
    kind: Mapped[str] = mapped_column(String(32))  # visit_eve | visit_day | weekly_plan
    customer_id: Mapped[int | None] = mapped_column(
        ForeignKey("customers.id", ondelete="CASCADE"), nullable=True, index=True
    )
    due_at: Mapped[datetime] = mapped_column(UTCDateTime())
    payload: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    dedupe_key: Mapped[str] = mapped_column(String(160), unique=True)
    status: Mapped[str] = mapped_column(String(16), default="pending")
    created_at: Mapped[datetime]
    sent_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), nullable=True)
