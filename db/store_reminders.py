"""Reminders repository: schedule idempotently, find what is due, claim each one exactly once.

Built as `Reminders(store.session, store.clock)`; like every repository it never commits: the
caller claims and queues the outbox message in one transaction, so a claimed reminder is always
either sent (after commit) or, on rollback, still pending for the next pass or process.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import select, update
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.ext.asyncio import AsyncSession

from db.models import Membership, Team, User
from db.models_flows import Reminder
from db.store import utcnow

PENDING, SENT, DROPPED, CANCELLED = "pending", "sent", "dropped", "cancelled"


@dataclass(frozen=True)
class ReminderInfo:
    id: int
    user_id: int
    chat_id: int
    kind: str
    customer_id: int | None
    due_at: datetime
    payload: dict[str, Any]
    status: str
    sent_at: datetime | None


@dataclass(frozen=True)
class ActiveUser:
    """A user seen recently, with the time zone their weekly deadline follows (team's, else their own)."""

    id: int
    telegram_id: int
    timezone: str


def _info(row: Reminder) -> ReminderInfo:
    return ReminderInfo(row.id, row.user_id, row.chat_id, row.kind, row.customer_id, row.due_at,
                        dict(row.payload or {}), row.status, row.sent_at)


class Reminders:
    def __init__(self, session: AsyncSession, clock: Callable[[], datetime] = utcnow) -> None:
        self.session = session
        self.now = clock

    async def schedule(
        self, *, user_id: int, chat_id: int, kind: str, due_at: datetime, key: str,
        payload: dict[str, Any] | None = None, customer_id: int | None = None,
    ) -> bool:
        """Create the reminder `key` (or refresh it while unsent); False when it was already sent."""
        values = {"user_id": user_id, "chat_id": chat_id, "kind": kind, "customer_id": customer_id,
                  "due_at": due_at, "payload": payload or {}, "dedupe_key": key[:160], "status": PENDING,
                  "created_at": self.now(), "sent_at": None}
        dialect = self.session.get_bind().dialect.name
        insert_fn = pg_insert if dialect == "postgresql" else sqlite_insert
        result = await self.session.execute(
            insert_fn(Reminder).values(values).on_conflict_do_nothing(index_elements=["dedupe_key"])
        )
        if int(getattr(result, "rowcount", 0) or 0) == 1:
            return True
        refreshed = await self.session.execute(
            update(Reminder)
            .where(Reminder.dedupe_key == key[:160], Reminder.sent_at.is_(None))
            .values(status=PENDING, due_at=due_at, payload=payload or {}, chat_id=chat_id)
        )
        return int(getattr(refreshed, "rowcount", 0) or 0) == 1

    async def due(self, now: datetime, *, limit: int = 100, chat_id: int | None = None) -> list[ReminderInfo]:
        """Pending reminders whose time has come, oldest first (late ones included)."""
        stmt = select(Reminder).where(Reminder.status == PENDING, Reminder.sent_at.is_(None), Reminder.due_at <= now)
        if chat_id is not None:
            stmt = stmt.where(Reminder.chat_id == chat_id)
        rows = await self.session.scalars(stmt.order_by(Reminder.due_at, Reminder.id).limit(limit))
        return [_info(r) for r in rows]

    async def claim(self, reminder_id: int, now: datetime) -> bool:
        """Mark one reminder sent if nobody did yet: True for exactly one caller across processes."""
        return await self._finish(reminder_id, SENT, now)

    async def drop(self, reminder_id: int, now: datetime) -> bool:
        """Give up on a reminder (far too late, or its rep is gone); False if another process took it."""
        return await self._finish(reminder_id, DROPPED, now)

    async def _finish(self, reminder_id: int, status: str, now: datetime) -> bool:
        result = await self.session.execute(
            update(Reminder)
            .where(Reminder.id == reminder_id, Reminder.sent_at.is_(None), Reminder.status == PENDING)
            .values(status=status, sent_at=now)
        )
        return int(getattr(result, "rowcount", 0) or 0) == 1

    async def cancel_customer_visits(self, user_id: int, customer_id: int, keep: set[str] | frozenset[str]) -> int:
        """Cancel the unsent visit reminders of a customer except `keep` keys (the visit was moved)."""
        stmt = update(Reminder).where(
            Reminder.user_id == user_id, Reminder.customer_id == customer_id, Reminder.sent_at.is_(None),
            Reminder.status == PENDING, Reminder.kind.in_(("visit_eve", "visit_day")),
        )
        if keep:
            stmt = stmt.where(Reminder.dedupe_key.not_in(sorted(keep)))
        result = await self.session.execute(stmt.values(status=CANCELLED))
        return int(getattr(result, "rowcount", 0) or 0)

    async def pending_for(self, user_id: int, customer_id: int | None = None) -> list[ReminderInfo]:
        stmt = select(Reminder).where(Reminder.user_id == user_id, Reminder.status == PENDING)
        if customer_id is not None:
            stmt = stmt.where(Reminder.customer_id == customer_id)
        rows = await self.session.scalars(stmt.order_by(Reminder.due_at, Reminder.id))
        return [_info(r) for r in rows]

    async def get(self, reminder_id: int) -> ReminderInfo | None:
        row = await self.session.get(Reminder, reminder_id)
        return _info(row) if row else None

    async def keys_since(self, kind: str, since: datetime) -> set[str]:
        """Dedupe keys of `kind` due after `since` (to schedule only what is missing)."""
        rows = await self.session.scalars(
            select(Reminder.dedupe_key).where(Reminder.kind == kind, Reminder.due_at > since)
        )
        return set(rows)

    async def active_users(self, since: datetime) -> list[ActiveUser]:
        """Users seen since `since`, each with their team's time zone when they belong to a team."""
        rows = await self.session.execute(
            select(User.id, User.telegram_id, User.timezone).where(User.last_seen_at >= since).order_by(User.id)
        )
        users = [(int(uid), int(tg), str(tz)) for uid, tg, tz in rows]
        if not users:
            return []
        team_tz: dict[int, str] = {}
        memberships = await self.session.execute(
            select(Membership.user_id, Team.timezone)
            .join(Team, Team.id == Membership.team_id)
            .where(Membership.user_id.in_([u[0] for u in users]))
            .order_by(Membership.id)
        )
        for uid, tz in memberships:
            team_tz.setdefault(int(uid), str(tz))
        return [ActiveUser(uid, tg, team_tz.get(uid, tz)) for uid, tg, tz in users]
