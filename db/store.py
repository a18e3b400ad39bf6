"""The store: repositories over one session; only `Store.commit` ends the unit of work.

Repositories return plain dataclasses so the engine never holds ORM objects across awaits.
"""

from __future__ import annotations

import copy
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy import delete, func, or_, select, update
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.ext.asyncio import AsyncSession

from db.models import (
    ActivityEvent,
    Customer,
    CustomerRecord,
    DialogSession,
    InboxUpdate,
    OutboxMessage,
    User,
)


def utcnow() -> datetime:
    return datetime.now(UTC)


@dataclass(frozen=True)
class UserInfo:
    id: int
    telegram_id: int
    name: str
    language: str
    language_chosen: bool
    timezone: str


@dataclass
class DialogState:
    """A flow in progress. `slots` are the answers; `meta` holds the runner's bookkeeping."""

    id: int | None
    user_id: int
    chat_id: int
    flow: str
    step: str
    phase: str = "ask"
    status: str = "active"
    slots: dict[str, Any] = field(default_factory=dict)
    meta: dict[str, Any] = field(default_factory=dict)
    created_at: datetime | None = None
    updated_at: datetime | None = None


@dataclass(frozen=True)
class CustomerInfo:
    id: int
    owner_id: int
    name: str
    contact: str
    stage: str
    relationship: str
    value_tier: str
    attitude: str
    next_visit_at: datetime | None
    updated_at: datetime


@dataclass(frozen=True)
class RecordInfo:
    id: int
    customer_id: int
    kind: str
    data: dict[str, Any]
    created_at: datetime


@dataclass(frozen=True)
class OutboxItem:
    id: int
    chat_id: int
    payload: dict[str, Any]
    attempts: int


def _user(row: User) -> UserInfo:
    return UserInfo(row.id, row.telegram_id, row.name, row.language, row.language_chosen, row.timezone)


def _customer(row: Customer) -> CustomerInfo:
    return CustomerInfo(
        row.id, row.owner_id, row.name, row.contact, row.stage, row.relationship, row.value_tier,
        row.attitude, row.next_visit_at, row.updated_at,
    )


class Users:
    def __init__(self, session: AsyncSession, clock: Callable[[], datetime] = utcnow) -> None:
        self.session = session
        self.now = clock

    async def get_by_telegram(self, telegram_id: int) -> UserInfo | None:
        row = await self.session.scalar(select(User).where(User.telegram_id == telegram_id))
        return _user(row) if row else None

    async def ensure(self, telegram_id: int, name: str, language: str, timezone: str) -> UserInfo:
        """The user, created on first contact; name refreshed, last_seen bumped."""
        now = self.now()
        row = await self.session.scalar(select(User).where(User.telegram_id == telegram_id))
        if row is None:
            row = User(
                telegram_id=telegram_id, name=name[:128], language=language, language_chosen=False,
                timezone=timezone, created_at=now, last_seen_at=now,
            )
            self.session.add(row)
            await self.session.flush()
        else:
            if name and row.name != name[:128]:
                row.name = name[:128]
            row.last_seen_at = now
        return _user(row)

    async def set_language(self, user_id: int, language: str) -> None:
        await self.session.execute(
            update(User).where(User.id == user_id).values(language=language, language_chosen=True)
        )


class Dialogs:
    def __init__(self, session: AsyncSession, clock: Callable[[], datetime] = utcnow) -> None:
        self.session = session
        self.now = clock

    async def active(self, user_id: int) -> DialogState | None:
        row = await self.session.scalar(
            select(DialogSession)
            .where(DialogSession.user_id == user_id, DialogSession.status == "active")
            .order_by(DialogSession.id.desc())
            .limit(1)
        )
        if row is None:
            return None
        return DialogState(
            id=row.id, user_id=row.user_id, chat_id=row.chat_id, flow=row.flow, step=row.step,
            phase=row.phase, status=row.status, slots=copy.deepcopy(row.slots or {}),
            meta=copy.deepcopy(row.history or {}), created_at=row.created_at, updated_at=row.updated_at,
        )

    async def save(self, state: DialogState) -> DialogState:
        now = self.now()
        if state.id is None:
            row = DialogSession(
                user_id=state.user_id, chat_id=state.chat_id, flow=state.flow, step=state.step,
                phase=state.phase, status=state.status, slots=state.slots, history=state.meta,
                created_at=now, updated_at=now,
            )
            self.session.add(row)
            await self.session.flush()
            state.id = row.id
            state.created_at = now
        else:
            await self.session.execute(
                update(DialogSession)
                .where(DialogSession.id == state.id)
                .values(
                    step=state.step, phase=state.phase, status=state.status,
                    slots=copy.deepcopy(state.slots), history=copy.deepcopy(state.meta), updated_at=now,
                )
            )
        state.updated_at = now
        return state


class Customers:
    def __init__(self, session: AsyncSession, clock: Callable[[], datetime] = utcnow) -> None:
        self.session = session
        self.now = clock

    async def list_for(self, owner_id: int, limit: int = 50) -> list[CustomerInfo]:
        rows = await self.session.scalars(
            select(Customer).where(Customer.owner_id == owner_id).order_by(Customer.updated_at.desc()).limit(limit)
        )
        return [_customer(r) for r in rows]

    async def get(self, owner_id: int, customer_id: int) -> CustomerInfo | None:
        row = await self.session.scalar(
            select(Customer).where(Customer.owner_id == owner_id, Customer.id == customer_id)
        )
        return _customer(row) if row else None

    async def find_by_name(self, owner_id: int, name: str) -> CustomerInfo | None:
        row = await self.session.scalar(
            select(Customer).where(Customer.owner_id == owner_id, Customer.name == name)
        )
        return _customer(row) if row else None

    async def ensure(self, owner_id: int, name: str) -> CustomerInfo:
        found = await self.find_by_name(owner_id, name)
        if found:
            return found
        now = self.now()
        row = Customer(owner_id=owner_id, name=name[:200], created_at=now, updated_at=now)
        self.session.add(row)
        await self.session.flush()
        return _customer(row)

    async def update(self, owner_id: int, customer_id: int, **values: Any) -> None:
        allowed = {"contact", "stage", "relationship", "value_tier", "attitude", "next_visit_at"}
        clean = {k: v for k, v in values.items() if k in allowed and v is not None}
        clean["updated_at"] = self.now()
        await self.session.execute(
            update(Customer).where(Customer.owner_id == owner_id, Customer.id == customer_id).values(**clean)
        )


class Records:
    def __init__(self, session: AsyncSession, clock: Callable[[], datetime] = utcnow) -> None:
        self.session = session
        self.now = clock

    async def add(self, customer_id: int, user_id: int, kind: str, data: dict[str, Any]) -> int:
        row = CustomerRecord(customer_id=customer_id, user_id=user_id, kind=kind, data=data, created_at=self.now())
        self.session.add(row)
        await self.session.flush()
        return row.id

    async def latest(self, user_id: int, customer_id: int, kind: str) -> RecordInfo | None:
        row = await self.session.scalar(
            select(CustomerRecord)
            .where(
                CustomerRecord.user_id == user_id,
                CustomerRecord.customer_id == customer_id,
                CustomerRecord.kind == kind,
            )
            .order_by(CustomerRecord.id.desc())
            .limit(1)
        )
        if row is None:
            return None
        return RecordInfo(row.id, row.customer_id, row.kind, dict(row.data), row.created_at)

    async def count(self, user_id: int, kind: str) -> int:
        value = await self.session.scalar(
            select(func.count()).select_from(CustomerRecord).where(
                CustomerRecord.user_id == user_id, CustomerRecord.kind == kind
            )
        )
        return int(value or 0)


class Activity:
    def __init__(self, session: AsyncSession, clock: Callable[[], datetime] = utcnow) -> None:
        self.session = session
        self.now = clock

    async def add(
        self, user_id: int, kind: str, amount: int = 1, *, customer_id: int | None = None,
        source: str = "log", occurred_at: datetime | None = None,
    ) -> int:
        now = self.now()
        row = ActivityEvent(
            user_id=user_id, kind=kind, amount=amount, customer_id=customer_id, source=source,
            occurred_at=occurred_at or now, created_at=now,
        )
        self.session.add(row)
        await self.session.flush()
        return row.id

    async def totals(self, user_id: int, since: datetime, until: datetime) -> dict[str, int]:
        rows = await self.session.execute(
            select(ActivityEvent.kind, func.sum(ActivityEvent.amount))
            .where(
                ActivityEvent.user_id == user_id,
                ActivityEvent.occurred_at >= since,
                ActivityEvent.occurred_at < until,
            )
            .group_by(ActivityEvent.kind)
        )
        return {kind: int(total or 0) for kind, total in rows}


class Inbox:
    """The durable update inbox: insert before acknowledging, mark done inside the handler's transaction."""

    def __init__(self, session: AsyncSession, clock: Callable[[], datetime] = utcnow) -> None:
        self.session = session
        self.now = clock

    async def add_many(self, items: list[tuple[int, int, dict[str, Any]]]) -> int:
        """Insert (update_id, chat_id, payload) rows, ignoring ids already stored; returns rows inserted."""
        if not items:
            return 0
        now = self.now()
        values = [
            {"update_id": uid, "chat_id": chat, "payload": payload, "status": "pending", "attempts": 0,
             "received_at": now}
            for uid, chat, payload in items
        ]
        dialect = self.session.get_bind().dialect.name
        insert_fn = pg_insert if dialect == "postgresql" else sqlite_insert
        stmt = insert_fn(InboxUpdate).values(values).on_conflict_do_nothing(index_elements=["update_id"])
        result = await self.session.execute(stmt)
        return int(getattr(result, "rowcount", 0) or 0)

    async def claim(self, update_id: int) -> bool:
        """True when this update is ours to process now, in this transaction.

        It must still be pending and the oldest pending update of its chat (order per chat). On
        PostgreSQL the row stays locked until commit, and a row another worker holds is skipped, so
        several workers never process one update twice nor a chat's updates out of order.
        """
        stmt = select(InboxUpdate.status, InboxUpdate.chat_id).where(InboxUpdate.update_id == update_id)
        if self.session.get_bind().dialect.name == "postgresql":
            stmt = stmt.with_for_update(skip_locked=True)
        row = (await self.session.execute(stmt)).first()
        if row is None or row.status != "pending":
            return False
        earlier = await self.session.scalar(
            select(InboxUpdate.update_id)
            .where(
                InboxUpdate.chat_id == row.chat_id,
                InboxUpdate.status == "pending",
                InboxUpdate.update_id < update_id,
            )
            .limit(1)
        )
        return earlier is None

    async def is_pending(self, update_id: int) -> bool:
        status = await self.session.scalar(select(InboxUpdate.status).where(InboxUpdate.update_id == update_id))
        return status == "pending"

    async def is_known(self, update_id: int) -> bool:
        return (await self.session.scalar(
            select(InboxUpdate.update_id).where(InboxUpdate.update_id == update_id)
        )) is not None

    async def mark(self, update_id: int, status: str) -> None:
        await self.session.execute(
            update(InboxUpdate).where(InboxUpdate.update_id == update_id).values(
                status=status, processed_at=self.now()
            )
        )

    async def bump_attempts(self, update_id: int) -> int:
        await self.session.execute(
            update(InboxUpdate).where(InboxUpdate.update_id == update_id).values(attempts=InboxUpdate.attempts + 1)
        )
        value = await self.session.scalar(select(InboxUpdate.attempts).where(InboxUpdate.update_id == update_id))
        return int(value or 0)

    async def pending(self, limit: int = 500) -> list[tuple[int, int, dict[str, Any]]]:
        rows = await self.session.execute(
            select(InboxUpdate.update_id, InboxUpdate.chat_id, InboxUpdate.payload)
            .where(InboxUpdate.status == "pending")
            .order_by(InboxUpdate.update_id)
            .limit(limit)
        )
        return [(int(u), int(c), dict(p)) for u, c, p in rows]

    async def max_update_id(self) -> int | None:
        value = await self.session.scalar(select(func.max(InboxUpdate.update_id)))
        return int(value) if value is not None else None

    async def purge_done(self, before: datetime) -> None:
        await self.session.execute(
            delete(InboxUpdate).where(InboxUpdate.status != "pending", InboxUpdate.processed_at < before)
        )


class Outbox:
    def __init__(self, session: AsyncSession, clock: Callable[[], datetime] = utcnow) -> None:
        self.session = session
        self.now = clock

    async def add(self, chat_id: int, update_id: int | None, payload: dict[str, Any]) -> int:
        row = OutboxMessage(chat_id=chat_id, update_id=update_id, payload=payload, attempts=0, created_at=self.now())
        self.session.add(row)
        await self.session.flush()
        return row.id

    async def unsent(self, chat_id: int | None = None, limit: int = 200) -> list[OutboxItem]:
        stmt = select(OutboxMessage).where(OutboxMessage.sent_at.is_(None))
        if chat_id is not None:
            stmt = stmt.where(OutboxMessage.chat_id == chat_id)
        rows = await self.session.scalars(stmt.order_by(OutboxMessage.id).limit(limit))
        return [OutboxItem(r.id, r.chat_id, dict(r.payload), r.attempts) for r in rows]

    async def claim_chat(self, chat_id: int, token: str, lease_seconds: float = 15.0) -> list[OutboxItem]:
        """Take every unsent reply of a chat for one sender, unless another sender holds that chat.

        Replies of a chat go out in order from one worker at a time; a lease that runs out (a worker
        died mid-send) lets another worker take over.
        """
        now = self.now()
        if self.session.get_bind().dialect.name == "postgresql":
            # claims of one chat run one at a time across workers, so "held by another" is never stale
            await self.session.execute(select(func.pg_advisory_xact_lock(chat_id)))
        held = await self.session.scalar(
            select(OutboxMessage.id).where(
                OutboxMessage.chat_id == chat_id,
                OutboxMessage.sent_at.is_(None),
                OutboxMessage.claimed_until > now,
                OutboxMessage.claim_token != token,
            ).limit(1)
        )
        if held is not None:
            return []
        free = or_(OutboxMessage.claimed_until.is_(None), OutboxMessage.claimed_until <= now,
                   OutboxMessage.claim_token == token)
        await self.session.execute(
            update(OutboxMessage)
            .where(OutboxMessage.chat_id == chat_id, OutboxMessage.sent_at.is_(None), free)
            .values(claim_token=token, claimed_until=now + timedelta(seconds=lease_seconds))
        )
        rows = await self.session.scalars(
            select(OutboxMessage)
            .where(OutboxMessage.chat_id == chat_id, OutboxMessage.sent_at.is_(None),
                   OutboxMessage.claim_token == token)
            .order_by(OutboxMessage.id)
        )
        return [OutboxItem(r.id, r.chat_id, dict(r.payload), r.attempts) for r in rows]

    async def chats_with_unsent(self, limit: int = 1000) -> list[int]:
        rows = await self.session.scalars(
            select(OutboxMessage.chat_id).where(OutboxMessage.sent_at.is_(None)).distinct().limit(limit)
        )
        return [int(c) for c in rows]

    async def renew(self, chat_id: int, token: str, lease_seconds: float = 15.0) -> None:
        await self.session.execute(
            update(OutboxMessage)
            .where(OutboxMessage.chat_id == chat_id, OutboxMessage.claim_token == token,
                   OutboxMessage.sent_at.is_(None))
            .values(claimed_until=self.now() + timedelta(seconds=lease_seconds))
        )

    async def release_all(self) -> None:
        """Forget every sender's claim: only for a process that knows it is the only sender (polling)."""
        await self.session.execute(
            update(OutboxMessage).where(OutboxMessage.sent_at.is_(None)).values(claim_token=None, claimed_until=None)
        )

    async def release(self, chat_id: int, token: str) -> None:
        """Give back one chat's unsent replies (only that chat: other chats may be mid-send)."""
        await self.session.execute(
            update(OutboxMessage)
            .where(OutboxMessage.chat_id == chat_id, OutboxMessage.claim_token == token,
                   OutboxMessage.sent_at.is_(None))
            .values(claim_token=None, claimed_until=None)
        )

    async def mark_sent(self, ids: list[int]) -> None:
        if ids:
            await self.session.execute(
                update(OutboxMessage).where(OutboxMessage.id.in_(ids)).values(sent_at=self.now())
            )

    async def bump(self, item_id: int) -> None:
        await self.session.execute(
            update(OutboxMessage).where(OutboxMessage.id == item_id).values(attempts=OutboxMessage.attempts + 1)
        )


class Store:
    """All repositories over one session; the single commit of an update happens here."""

    def __init__(self, session: AsyncSession, clock: Callable[[], datetime] = utcnow) -> None:
        self.session = session
        self.clock = clock  # features build their own repositories with (session, clock)
        self.users = Users(session, clock)
        self.dialogs = Dialogs(session, clock)
        self.customers = Customers(session, clock)
        self.records = Records(session, clock)
        self.activity = Activity(session, clock)
        self.inbox = Inbox(session, clock)
        self.outbox = Outbox(session, clock)

    async def commit(self) -> None:
        await self.session.commit()

    async def rollback(self) -> None:
        await self.session.rollback()
