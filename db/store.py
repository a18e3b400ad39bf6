"""The store: repositories over one session; only `Store.commit` ends the unit of work.

Repositories return plain dataclasses so the engine never holds ORM objects across awaits.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime, timedelta
from typing import Any, cast

from sqlalchemy import (
    JSON,
    BigInteger,
    Integer,
    String,
    Table,
    Text,
    any_,
    bindparam,
    delete,
    func,
    insert,
    literal,
    literal_column,
    or_,
    select,
    true,
    update,
)
from sqlalchemy import cast as cast_
from sqlalchemy.dialects.postgresql import ARRAY
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncSession

from db.models import (
    ActivityEvent,
    Customer,
    CustomerRecord,
    DialogSession,
    InboxUpdate,
    Membership,
    OutboxMessage,
    Team,
    User,
)
from db.models_roleplay import RoleplaySession
from db.session import BEGIN_ON_WRITE


def utcnow() -> datetime:
    return datetime.now(UTC)


SEEN_RESOLUTION = timedelta(minutes=1)
"""users.last_seen_at is rewritten at most this often: every update writing it cost a statement per event,
and its readers (reminders, the team list) look at days and minutes."""

# Statements of the per-event hot path, built once: Core statements over the tables skip building the
# expression, its cache key and the ORM's loading for every event (0.40 → 0.12 ms per statement on SQLite).
# Only reads of rows that repositories always write through at once (never left pending in the session),
# since Core statements do not autoflush.
_users = cast(Table, User.__table__)
_dialogs = cast(Table, DialogSession.__table__)
_customers = cast(Table, Customer.__table__)
_activity = cast(Table, ActivityEvent.__table__)

_USER_BY_TELEGRAM = select(
    _users.c.id, _users.c.telegram_id, _users.c.name, _users.c.language, _users.c.language_chosen,
    _users.c.timezone, _users.c.last_seen_at,
).where(_users.c.telegram_id == bindparam("telegram_id"))
_USER_SEEN = (update(_users).where(_users.c.id == bindparam("user_id"))
              .values(last_seen_at=bindparam("seen")))
_USER_LANGUAGE = (update(_users).where(_users.c.id == bindparam("user_id"))
                  .values(language=bindparam("lang"), language_chosen=True))
_open_dialog = _dialogs.alias("open_dialog")
_roleplays = cast(Table, RoleplaySession.__table__)
_DIALOG_COLUMNS = (_dialogs.c.id, _dialogs.c.user_id, _dialogs.c.chat_id, _dialogs.c.flow, _dialogs.c.step,
                   _dialogs.c.phase, _dialogs.c.status, _dialogs.c.slots, _dialogs.c.history,
                   _dialogs.c.created_at, _dialogs.c.updated_at)
# The user with what they have open, in one round trip at the start of every event: the user, their
# newest active dialog and whether a role-play is live (three statements before; each a round trip to
# PostgreSQL, bench_e2e.py). On PostgreSQL it is read together with taking the update (_TAKE_ARRIVING).
# The team the user is a rep of (Teams.rep_team): every /week and /log counts in its time zone.
_rep_team = cast(Table, Team.__table__).alias("rep_team")
_team_by_name = cast(Table, Team.__table__).alias("team_by_name")
_rep_membership = cast(Table, Membership.__table__).alias("rep_membership")
_ARRIVAL_COLUMNS = (
    _users.c.id, _users.c.telegram_id, _users.c.name, _users.c.language, _users.c.language_chosen,
    _users.c.timezone, _users.c.last_seen_at,
    *(column.label(f"dialog_{column.name}") for column in _DIALOG_COLUMNS),
    select(_roleplays.c.id).where(_roleplays.c.user_id == _users.c.id, _roleplays.c.status == "active")
    .exists().label("roleplay_open"),
    *(column.label(f"team_{column.name}") for column in
      (_rep_team.c.id, _rep_team.c.name, _rep_team.c.timezone, _rep_team.c.created_at)),
)
_OPEN_DIALOG_ID = (select(func.max(_open_dialog.c.id))
                   .where(_open_dialog.c.user_id == _users.c.id, _open_dialog.c.status == "active")
                   .correlate(_users).scalar_subquery())
_REP_TEAM_ID = (select(_team_by_name.c.id)
                .join(_rep_membership, _rep_membership.c.team_id == _team_by_name.c.id)
                .where(_rep_membership.c.user_id == _users.c.id, _rep_membership.c.role == "rep")
                .order_by(_team_by_name.c.name).limit(1)
                .correlate(_users).scalar_subquery())
_ARRIVAL = (
    select(*_ARRIVAL_COLUMNS)
    .select_from(_users.outerjoin(_dialogs, _dialogs.c.id == _OPEN_DIALOG_ID)
                 .outerjoin(_rep_team, _rep_team.c.id == _REP_TEAM_ID))
    .where(_users.c.telegram_id == bindparam("telegram_id"))
)
_ACTIVE_DIALOG = (
    select(*_DIALOG_COLUMNS)
    .where(_dialogs.c.user_id == bindparam("user_id"), _dialogs.c.status == "active")
    .order_by(_dialogs.c.id.desc())
    .limit(1)
)
_INSERT_DIALOG = insert(_dialogs)
_UPDATE_DIALOG = update(_dialogs).where(_dialogs.c.id == bindparam("dialog_id")).values(
    step=bindparam("step"), phase=bindparam("phase"), status=bindparam("status"), slots=bindparam("slots"),
    history=bindparam("history"), updated_at=bindparam("now"),
)
_CUSTOMER_COLUMNS = (
    _customers.c.id, _customers.c.owner_id, _customers.c.name, _customers.c.contact, _customers.c.stage,
    _customers.c.relationship, _customers.c.value_tier, _customers.c.attitude, _customers.c.next_visit_at,
    _customers.c.updated_at,
)
_CUSTOMERS_OF = (select(*_CUSTOMER_COLUMNS).where(_customers.c.owner_id == bindparam("owner_id"))
                 .order_by(_customers.c.updated_at.desc()).limit(bindparam("limit")))
_INSERT_ACTIVITY = insert(_activity)
# /log answers with the week's running total: the insert reads the total of the events before it along
# (one round trip instead of two). Its own row is left out because SQLite's RETURNING sees it and
# PostgreSQL's does not.
_logged_before = _activity.alias("logged_before")
_INSERT_ACTIVITY_COUNTING = insert(_activity).returning(
    _activity.c.id,
    select(func.coalesce(func.sum(_logged_before.c.amount), 0))
    .where(_logged_before.c.user_id == bindparam("of_user"), _logged_before.c.kind == bindparam("of_kind"),
           _logged_before.c.occurred_at >= bindparam("since"), _logged_before.c.occurred_at < bindparam("until"),
           _logged_before.c.id != literal_column(f"{_activity.name}.id"))  # the row being inserted
    .scalar_subquery().label("total_before"),
)


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


@dataclass
class Arrival:
    """A user as an event finds them: their flow in progress and whether a role-play is live."""

    user: UserInfo
    dialog: DialogState | None
    roleplay_open: bool


def _dialog(row: Any, prefix: str = "") -> DialogState:
    """From a row with the dialog's columns (named with `prefix` when joined to another table's)."""
    def get(name: str) -> Any:
        return getattr(row, prefix + name)

    return DialogState(
        id=get("id"), user_id=get("user_id"), chat_id=get("chat_id"), flow=get("flow"), step=get("step"),
        phase=get("phase"), status=get("status"), slots=get("slots") or {}, meta=get("history") or {},
        created_at=get("created_at"), updated_at=get("updated_at"),
    )


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


def _user(row: Any) -> UserInfo:
    """From a User or a row with its columns."""
    return UserInfo(row.id, row.telegram_id, row.name, row.language, row.language_chosen, row.timezone)


def _new_id(result: Any) -> int:
    """The id of the row a Core INSERT added (the cursor's lastrowid on SQLite, RETURNING on PostgreSQL)."""
    return int(result.inserted_primary_key[0])


def _customer(row: Any) -> CustomerInfo:
    """From a Customer or a row with its columns."""
    return CustomerInfo(
        row.id, row.owner_id, row.name, row.contact, row.stage, row.relationship, row.value_tier,
        row.attitude, row.next_visit_at, row.updated_at,
    )


class Users:
    def __init__(self, session: AsyncSession, clock: Callable[[], datetime] = utcnow,
                 prefetched: Prefetched | None = None) -> None:
        self.session = session
        self.now = clock
        self.prefetched = prefetched or Prefetched()

    async def get_by_telegram(self, telegram_id: int) -> UserInfo | None:
        row = (await self.session.execute(_USER_BY_TELEGRAM, {"telegram_id": telegram_id})).first()
        return _user(row) if row else None

    async def arrive(self, telegram_id: int, name: str, language: str, timezone: str) -> Arrival:
        """The user, created on first contact, with what they have open; name refreshed, last_seen
        bumped (at most once a minute unless the name changes)."""
        now = self.now()
        row = self.prefetched.arrivals.pop(telegram_id, None)  # read with the update's take (Inbox.take)
        if row is None:
            row = (await self.session.execute(_ARRIVAL, {"telegram_id": telegram_id})).first()
        if row is None or row.id is None:
            user = User(
                telegram_id=telegram_id, name=name[:128], language=language, language_chosen=False,
                timezone=timezone, created_at=now, last_seen_at=now,
            )
            self.session.add(user)
            await self.session.flush()
            self.prefetched.rep_teams[user.id] = None
            return Arrival(_user(user), None, False)
        info = _user(row)
        self.prefetched.rep_teams[info.id] = (
            (row.team_id, row.team_name, row.team_timezone, row.team_created_at) if row.team_id is not None else None)
        if name and row.name != name[:128]:
            info = replace(info, name=name[:128])
            await self.session.execute(
                update(_users).where(_users.c.id == row.id).values(name=info.name, last_seen_at=now)
            )
        elif not timedelta(0) <= now - row.last_seen_at < SEEN_RESOLUTION:
            await self.session.execute(_USER_SEEN, {"user_id": row.id, "seen": now})
        dialog = _dialog(row, "dialog_") if row.dialog_id is not None else None
        return Arrival(info, dialog, bool(row.roleplay_open))

    async def set_language(self, user_id: int, language: str) -> None:
        await self.session.execute(_USER_LANGUAGE, {"user_id": user_id, "lang": language})


class Dialogs:
    def __init__(self, session: AsyncSession, clock: Callable[[], datetime] = utcnow) -> None:
        self.session = session
        self.now = clock

    async def active(self, user_id: int) -> DialogState | None:
        """The rep's flow in progress; its slots and meta are fresh objects decoded from the row's JSON."""
        row = (await self.session.execute(_ACTIVE_DIALOG, {"user_id": user_id})).first()
        return _dialog(row) if row is not None else None

    async def save(self, state: DialogState) -> DialogState:
        """Insert or update the row at once (the slots are serialised as the statement runs, so the
        caller may go on changing them)."""
        now = self.now()
        if state.id is None:
            result = await self.session.execute(_INSERT_DIALOG, {
                "user_id": state.user_id, "chat_id": state.chat_id, "flow": state.flow, "step": state.step,
                "phase": state.phase, "status": state.status, "slots": state.slots, "history": state.meta,
                "created_at": now, "updated_at": now,
            })
            state.id = _new_id(result)
            state.created_at = now
        else:
            await self.session.execute(_UPDATE_DIALOG, {
                "dialog_id": state.id, "step": state.step, "phase": state.phase, "status": state.status,
                "slots": state.slots, "history": state.meta, "now": now,
            })
        state.updated_at = now
        return state


class Customers:
    def __init__(self, session: AsyncSession, clock: Callable[[], datetime] = utcnow) -> None:
        self.session = session
        self.now = clock

    async def list_for(self, owner_id: int, limit: int = 50) -> list[CustomerInfo]:
        rows = await self.session.execute(_CUSTOMERS_OF, {"owner_id": owner_id, "limit": limit})
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
        result = await self.session.execute(_INSERT_ACTIVITY, self._row(user_id, kind, amount, customer_id, source,
                                                                        occurred_at))
        return _new_id(result)

    def _row(self, user_id: int, kind: str, amount: int, customer_id: int | None, source: str,
             occurred_at: datetime | None) -> dict[str, Any]:
        now = self.now()
        return {"user_id": user_id, "kind": kind, "amount": amount, "customer_id": customer_id, "source": source,
                "occurred_at": occurred_at or now, "created_at": now}

    async def add_counting(
        self, user_id: int, kind: str, amount: int, *, since: datetime, until: datetime,
        customer_id: int | None = None, source: str = "log", occurred_at: datetime | None = None,
    ) -> int:
        """`add`, returning the user's total of `kind` over [since, until) with this event counted."""
        values = self._row(user_id, kind, amount, customer_id, source, occurred_at)
        row = (await self.session.execute(_INSERT_ACTIVITY_COUNTING, {
            **values, "since": since, "until": until, "of_user": user_id, "of_kind": kind})).one()
        return int(row.total_before) + (amount if since <= values["occurred_at"] < until else 0)

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


_inbox = cast(Table, InboxUpdate.__table__)
_outbox = cast(Table, OutboxMessage.__table__)
_earlier = _inbox.alias("earlier")  # the same chat's older updates
# Delivery statements run for every update: built once, executed on the session's connection.
_ITS_TURN = (  # the update is pending and the oldest pending one of its chat
    _inbox.c.update_id == bindparam("uid"),
    _inbox.c.status == "pending",
    ~select(_earlier.c.update_id).where(
        _earlier.c.chat_id == _inbox.c.chat_id,
        _earlier.c.status == "pending",
        _earlier.c.update_id < _inbox.c.update_id,
    ).exists(),
)
_TAKE_UPDATE = update(_inbox).where(*_ITS_TURN).values(status=bindparam("new_status"), processed_at=bindparam("at"))
_UNSENT_OF_CHAT = (
    select(_outbox.c.id, _outbox.c.payload, _outbox.c.attempts, _outbox.c.claim_token, _outbox.c.claimed_until)
    .where(_outbox.c.chat_id == bindparam("chat"), _outbox.c.sent_at.is_(None))
    .order_by(_outbox.c.id)
)
_INSERT_OUTBOX = insert(_outbox).returning(_outbox.c.id, sort_by_parameter_order=True)
_INSERT_REPLY = insert(_outbox).returning(_outbox.c.id)  # one row: no batching of VALUES to set up
_CLAIM_ROWS = (update(_outbox).where(_outbox.c.id.in_(bindparam("ids", expanding=True)))
               .values(claim_token=bindparam("token"), claimed_until=bindparam("until")))
_MARK_SENT = (update(_outbox).where(_outbox.c.id.in_(bindparam("ids", expanding=True)))
              .values(sent_at=bindparam("at")))
_CHATS_WAITING = (  # chats with replies that no sender holds (queued by others, or a lease run out)
    select(_outbox.c.chat_id)
    .where(_outbox.c.sent_at.is_(None), _outbox.c.chat_id.in_(bindparam("chats", expanding=True)),
           or_(_outbox.c.claimed_until.is_(None), _outbox.c.claimed_until <= bindparam("now")))
    .distinct()
)
# PostgreSQL: settling's marking and its look for waiting replies in one trip, with arrays for the ids and
# chats: one prepared statement for any batch, where IN lists would make one per pair of list lengths
_marked = (update(_outbox).where(_outbox.c.id == any_(bindparam("ids", type_=ARRAY(Integer))))
           .values(sent_at=bindparam("at")).returning(_outbox.c.id).cte("marked"))
_MARK_SENT_THEN_WAITING = (
    select(_outbox.c.chat_id)
    .where(_outbox.c.sent_at.is_(None), _outbox.c.chat_id == any_(bindparam("chats", type_=ARRAY(BigInteger))),
           or_(_outbox.c.claimed_until.is_(None), _outbox.c.claimed_until <= bindparam("now")),
           _outbox.c.id.not_in(select(_marked.c.id)))  # the snapshot predates the marking
    .distinct()
)
_ADD_UPDATES = {  # one statement for any batch size: a multi-row VALUES would be compiled anew each time
    "postgresql": pg_insert(_inbox).on_conflict_do_nothing(index_elements=["update_id"]),
    "sqlite": sqlite_insert(_inbox).on_conflict_do_nothing(index_elements=["update_id"]),
}
_CHAT_LOCK = select(func.pg_advisory_xact_lock(bindparam("chat")))
# Several chats' locks, in the order given (callers sort: two settlings never wait on each other in a cycle)
_locking = func.unnest(bindparam("chats", type_=ARRAY(BigInteger))).table_valued("chat").render_derived()
_CHATS_LOCK = select(func.pg_advisory_xact_lock(_locking.c.chat))
# PostgreSQL, Inbox.take (ignored updates, and the end of an update whose chat has replies held elsewhere):
# one statement takes the update, takes its chat's lock for outbox claims (Outbox._claim), reads the user's
# arrival (Users.arrive) and whether the chat has replies unsent. No row: not ours. The reads see the database as the
# statement began, which holds every reply of the chat's earlier updates (they are done, or the update is
# not ours); a reply written meanwhile by the reminder pass or claimed by another sender is left to the
# settling that follows every delivery.
_taken = _TAKE_UPDATE.returning(
    _inbox.c.chat_id, func.pg_advisory_xact_lock(_inbox.c.chat_id).label("locked")).cte("taken")


def _arriving(source: Any) -> Any:
    """The update's chat with the user's arrival and whether the chat has replies unsent."""
    return (
        select(
            source.c.chat_id.label("taken_chat"), *_ARRIVAL_COLUMNS,
            select(_outbox.c.id).where(_outbox.c.chat_id == source.c.chat_id, _outbox.c.sent_at.is_(None))
            .exists().label("chat_unsent"),
        )
        .select_from(source.outerjoin(_users, _users.c.telegram_id == bindparam("telegram_id"))
                     .outerjoin(_dialogs, _dialogs.c.id == _OPEN_DIALOG_ID)
                     .outerjoin(_rep_team, _rep_team.c.id == _REP_TEAM_ID))
    )


_TAKE_ARRIVING = _arriving(_taken)
# PostgreSQL, the usual way through an update (Store.begin_update and Store.end_update): a plain read first
# (whether it is the chat's turn, with the arrival), the engine's reads outside any transaction, and one
# statement at the end that takes the update and writes its replies, and commits by itself unless the
# engine wrote (then a transaction was opened at its first write, and it commits with the rest). A question
# costs two round trips where the take-first way needs four (BEGIN, take, replies, COMMIT); /week four
# instead of six. The take is conditional as before, so two workers with the same update process it once.
_LOOK_ARRIVING = _arriving(select(_inbox.c.chat_id).where(*_ITS_TURN).subquery("its_turn"))
# Whether the chat's unsent replies (if any) are all held by this sender: then the new replies are
# claimed with them, as Outbox._claim would; otherwise the end takes the longer way through _claim.
_clear_for_sender = select((~select(_outbox.c.id).where(
    _outbox.c.chat_id == bindparam("chat"), _outbox.c.sent_at.is_(None),
    or_(_outbox.c.claim_token.is_distinct_from(bindparam("token", type_=String)),
        _outbox.c.claimed_until.is_(None), _outbox.c.claimed_until <= bindparam("now")),
).exists()).label("clear")).cte("clear_for_sender")  # looked at once, used by the take and the answer
_taken_at_end = (update(_inbox).where(*_ITS_TURN, select(_clear_for_sender.c.clear).scalar_subquery())
                 .values(status="done", processed_at=bindparam("at"))
                 .returning(_inbox.c.chat_id, func.pg_advisory_xact_lock(_inbox.c.chat_id).label("locked"))
                 .cte("taken_at_end"))
_replies = (func.unnest(bindparam("payloads", type_=ARRAY(Text))).table_valued("payload", with_ordinality="n")
            .render_derived())
_queued = (
    insert(_outbox)
    .from_select(
        ["chat_id", "update_id", "payload", "attempts", "created_at", "claim_token", "claimed_until"],
        select(bindparam("chat", type_=BigInteger), bindparam("uid", type_=BigInteger), cast_(_replies.c.payload, JSON),
               literal(0), bindparam("at", type_=_outbox.c.created_at.type),
               bindparam("token", type_=String), bindparam("until", type_=_outbox.c.claimed_until.type))
        .select_from(_taken_at_end.join(_replies, true()))
        .order_by(_replies.c.n),
    )
    .returning(_outbox.c.id)
    .cte("queued")
)
_TAKE_QUEUING = select(
    select(_clear_for_sender.c.clear).scalar_subquery().label("clear"),
    select(func.count()).select_from(_taken_at_end).scalar_subquery().label("taken"),
    select(func.array_agg(_queued.c.id)).scalar_subquery().label("ids"),
)


@dataclass
class Prefetched:
    """What a transaction already learnt along with earlier statements, so the hot path skips
    statements (the locks and the arrival on PostgreSQL, the rep's team on both); forgotten when the
    transaction ends."""

    chats_locked: set[int] = field(default_factory=set)  # advisory locks for outbox claims held
    chats_clear: set[int] = field(default_factory=set)  # chats without unsent replies when the update was taken
    arrivals: dict[int, Any] = field(default_factory=dict)  # telegram id → row of _ARRIVAL_COLUMNS
    # user id → (id, name, timezone, created_at) of the team they are a rep of, or None: read on arrival,
    # forgotten when their memberships change (Teams)
    rep_teams: dict[int, tuple[Any, ...] | None] = field(default_factory=dict)

    def clear(self) -> None:
        self.chats_locked.clear()
        self.chats_clear.clear()
        self.arrivals.clear()
        self.rep_teams.clear()


async def _outside_transaction(session: AsyncSession, begin_on_write: bool = False) -> AsyncConnection:
    """On PostgreSQL, the session's connection with each statement committing by itself: one round trip
    instead of BEGIN, the statement and COMMIT; with `begin_on_write`, until the first write opens a
    transaction (db/session.py). Only as the first statement of the session's transaction (the option
    applies when the connection is taken); the pool resets it when the connection goes back.
    """
    if session.get_bind().dialect.name != "postgresql":
        return await session.connection()
    return await session.connection(
        execution_options={"isolation_level": "AUTOCOMMIT", BEGIN_ON_WRITE: begin_on_write})


class Inbox:
    """The durable update inbox: insert before acknowledging, mark done inside the handler's transaction."""

    def __init__(self, session: AsyncSession, clock: Callable[[], datetime] = utcnow,
                 prefetched: Prefetched | None = None) -> None:
        self.session = session
        self.now = clock
        self.prefetched = prefetched or Prefetched()

    async def add_many(self, items: list[tuple[int, int, dict[str, Any]]]) -> None:
        """Insert (update_id, chat_id, payload) rows, ignoring ids already stored (Telegram re-sends).

        On PostgreSQL the one statement commits by itself, outside any transaction: one round trip per
        getUpdates batch instead of three (BEGIN, INSERT, COMMIT). It must be the first statement of the
        session's transaction; commit after, as ever.
        """
        if not items:
            return
        now = self.now()
        connection = await _outside_transaction(self.session)
        await connection.execute(_ADD_UPDATES[connection.dialect.name], [
            {"update_id": uid, "chat_id": chat, "payload": payload, "status": "pending", "attempts": 0,
             "received_at": now}
            for uid, chat, payload in items
        ])

    async def take(self, update_id: int, status: str = "done", telegram_id: int | None = None) -> bool:
        """Claim and settle an update in one statement: True when it is ours, in this transaction.

        The row moves from pending to `status` only if it is still pending and the oldest pending
        update of its chat; the change lives and dies with the handler's transaction, so an error
        leaves it pending. On PostgreSQL a second worker taking the same update waits for the first
        one's commit and then finds it no longer pending: exactly once, in order per chat. There the
        same statement takes the chat's outbox lock and reads the arrival of the user `telegram_id`
        (`Prefetched`).
        """
        connection = await self.session.connection()
        params = {"uid": update_id, "new_status": status, "at": self.now()}
        if connection.dialect.name != "postgresql":
            result = await connection.execute(_TAKE_UPDATE, params)
            return int(getattr(result, "rowcount", 0) or 0) == 1
        row = (await connection.execute(_TAKE_ARRIVING, {**params, "telegram_id": telegram_id})).first()
        if row is None:
            return False
        chat_id = int(row.taken_chat)
        self.prefetched.chats_locked.add(chat_id)
        if not row.chat_unsent:
            self.prefetched.chats_clear.add(chat_id)
        if telegram_id is not None:
            self.prefetched.arrivals[telegram_id] = row
        return True

    async def look(self, update_id: int, telegram_id: int | None) -> bool:
        """PostgreSQL: whether the update is pending and its chat's turn, with the user's arrival read
        along (`Prefetched`), without taking it: a plain read that opens no transaction (Store.begin_update).
        """
        connection = await _outside_transaction(self.session, begin_on_write=True)
        row = (await connection.execute(_LOOK_ARRIVING, {"uid": update_id, "telegram_id": telegram_id})).first()
        if row is None:
            return False
        if telegram_id is not None:
            self.prefetched.arrivals[telegram_id] = row
        return True

    async def pending_ids(self, received_before: datetime | None = None,
                          limit: int = 500) -> list[tuple[int, int]]:
        """(update_id, chat_id) of pending updates, oldest first; without payloads (cheap to poll)."""
        stmt = select(InboxUpdate.update_id, InboxUpdate.chat_id).where(InboxUpdate.status == "pending")
        if received_before is not None:
            stmt = stmt.where(InboxUpdate.received_at < received_before)
        rows = await self.session.execute(stmt.order_by(InboxUpdate.update_id).limit(limit))
        return [(int(u), int(c)) for u, c in rows]

    async def pending_of_chat(self, chat_id: int, limit: int = 100) -> list[int]:
        rows = await self.session.scalars(
            select(InboxUpdate.update_id)
            .where(InboxUpdate.status == "pending", InboxUpdate.chat_id == chat_id)
            .order_by(InboxUpdate.update_id)
            .limit(limit)
        )
        return [int(u) for u in rows]

    async def payloads(self, update_ids: list[int]) -> dict[int, dict[str, Any]]:
        if not update_ids:
            return {}
        rows = await self.session.execute(
            select(InboxUpdate.update_id, InboxUpdate.payload).where(InboxUpdate.update_id.in_(update_ids))
        )
        return {int(u): dict(p) for u, p in rows}

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

    async def purge_done(self, before: datetime, limit: int = 5000) -> int:
        """Delete up to `limit` updates handled before `before` (Telegram re-sends an update for a day at
        most, so older ones are not needed to spot duplicates); returns how many went."""
        old = (select(InboxUpdate.update_id).where(InboxUpdate.status != "pending", InboxUpdate.processed_at < before)
               .limit(limit))
        result = await self.session.execute(delete(InboxUpdate).where(InboxUpdate.update_id.in_(old)))
        return int(getattr(result, "rowcount", 0) or 0)


LEASE_SECONDS = 15.0


class Outbox:
    """Replies waiting to be sent. Leases are real time whatever the store's clock: they coordinate
    senders (processes) with each other, while a test clock moves the bot's own idea of now."""

    def __init__(self, session: AsyncSession, clock: Callable[[], datetime] = utcnow,
                 prefetched: Prefetched | None = None) -> None:
        self.session = session
        self.now = clock
        self.wall = utcnow
        self.prefetched = prefetched or Prefetched()

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

    async def claim_chat(self, chat_id: int, token: str, lease_seconds: float = LEASE_SECONDS) -> list[OutboxItem]:
        """Take every unsent reply of a chat for one sender, unless another sender holds that chat.

        Replies of a chat go out in order from one worker at a time; a lease that runs out (a worker
        died mid-send) lets another worker take over.
        """
        return await self._claim(chat_id, token, lease_seconds) or []

    async def _claim(self, chat_id: int, token: str, lease_seconds: float) -> list[OutboxItem] | None:
        """Claim a chat's unsent replies that no live lease holds; None when another sender holds it.

        Rows this sender holds are left alone: they are in flight in this process (claimed by the
        transaction that wrote them, about to be sent by its handler), and whoever sends them holds
        the chat until they are recorded as sent. If that fails, the lease runs out and they are free.
        """
        if chat_id in self.prefetched.chats_clear:
            self.prefetched.chats_clear.discard(chat_id)  # nothing unsent, nothing held; the lock is ours
            return []
        now = self.wall()
        connection = await self.session.connection()
        if connection.dialect.name == "postgresql" and chat_id not in self.prefetched.chats_locked:
            # claims of one chat run one at a time across workers, so "held by another" is never stale
            await connection.execute(_CHAT_LOCK, {"chat": chat_id})
            self.prefetched.chats_locked.add(chat_id)
        rows = (await connection.execute(_UNSENT_OF_CHAT, {"chat": chat_id})).all()
        live = [r for r in rows if r.claim_token is not None and r.claimed_until is not None and r.claimed_until > now]
        if any(r.claim_token != token for r in live):
            return None  # that sender sends these too, after its own
        ours = {r.id for r in live}
        # replies queued after ours wait for ours: whoever sends ours looks for them next
        free = [r for r in rows if r.id not in ours and (not ours or r.id < min(ours))]
        if free:
            await connection.execute(_CLAIM_ROWS, {"ids": [r.id for r in free], "token": token,
                                                   "until": now + timedelta(seconds=lease_seconds)})
        return [OutboxItem(int(r.id), chat_id, dict(r.payload), int(r.attempts)) for r in free]

    async def chats_with_unsent(self, limit: int = 1000) -> list[int]:
        rows = await self.session.scalars(
            select(OutboxMessage.chat_id).where(OutboxMessage.sent_at.is_(None)).distinct().limit(limit)
        )
        return [int(c) for c in rows]

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

    async def queue(self, chat_id: int, update_id: int | None, payloads: list[dict[str, Any]],
                    token: str | None = None, lease_seconds: float = LEASE_SECONDS) -> list[OutboxItem]:
        """Write replies; with a sender's token, also claim the chat's unsent replies for it (these
        new ones included) and return them in order, unless another sender holds the chat.

        Claiming in the transaction that writes the replies saves the sender a transaction per update.
        """
        now = self.now()
        until = self.wall() + timedelta(seconds=lease_seconds)
        claimed: list[OutboxItem] = []
        claim = token is not None
        if token is not None:
            older = await self._claim(chat_id, token, lease_seconds)
            claim = older is not None
            claimed = older or []
        connection = await self.session.connection()
        if payloads:
            values = [
                {"chat_id": chat_id, "update_id": update_id, "payload": payload, "attempts": 0, "created_at": now,
                 "claim_token": token if claim else None, "claimed_until": until if claim else None}
                for payload in payloads
            ]
            if len(values) == 1:  # most updates have one reply
                ids = [(await connection.execute(_INSERT_REPLY, values[0])).scalar_one()]
            else:
                ids = list((await connection.execute(_INSERT_OUTBOX, values)).scalars().all())
            if claim:
                claimed += [OutboxItem(int(i), chat_id, p, 0) for i, p in zip(ids, payloads, strict=True)]
        return claimed if claim else []

    async def take_queuing(self, update_id: int, chat_id: int, payloads: list[dict[str, Any]],
                           token: str | None, lease_seconds: float = LEASE_SECONDS) -> list[OutboxItem] | bool:
        """PostgreSQL, after `Inbox.look`: take the update and write its replies in one statement (claimed
        for `token`, if given). The claimed replies when taken; False when the update is not ours after all
        (done by another worker meanwhile); True when the chat has replies that another sender holds or
        nobody does, and nothing was written: then take the update and `queue` the usual way.
        """
        connection = await self.session.connection()
        now, wall = self.now(), self.wall()
        row = (await connection.execute(_TAKE_QUEUING, {
            "uid": update_id, "chat": chat_id, "at": now, "token": token,
            "now": wall, "until": wall + timedelta(seconds=lease_seconds) if token is not None else None,
            "payloads": [json.dumps(payload) for payload in payloads],
        }, execution_options={BEGIN_ON_WRITE: False})).one()
        if not row.clear:
            return True
        if not row.taken:
            return False
        if token is None:
            return []
        return [OutboxItem(int(i), chat_id, p, 0) for i, p in zip(sorted(row.ids or []), payloads, strict=True)]

    async def settle(self, sent_ids: list[int], chats: list[int], token: str,
                     lease_seconds: float = LEASE_SECONDS) -> dict[int, list[OutboxItem]]:
        """Mark replies sent and claim whatever else is unsent for those chats (queued meanwhile by
        other workers or the reminder pass); one transaction for many chats' deliveries.

        On PostgreSQL the chats' locks come first. A worker queueing a reply to a chat this sender
        holds leaves it unclaimed, for this sender to find here, and this sender's next reply to the
        chat waits for the ones in flight; unless the look for waiting replies and those claims run one
        after the other, the look can miss the unclaimed reply while the claim still sees the reply in
        flight as unsent, and the next reply overtakes it (tests/db/test_store.py).
        """
        connection = await self.session.connection()
        if chats and connection.dialect.name == "postgresql":
            locking = sorted(set(chats) - self.prefetched.chats_locked)
            if locking:
                await connection.execute(_CHATS_LOCK, {"chats": locking})
                self.prefetched.chats_locked.update(locking)
        waiting = await self._mark_and_look(connection, sent_ids, chats)
        more: dict[int, list[OutboxItem]] = {}
        for chat_id in sorted(waiting):
            items = await self._claim(chat_id, token, lease_seconds)
            if items:
                more[chat_id] = items
        return more

    async def record_sent(self, sent_ids: list[int], chats: list[int]) -> list[int]:
        """For the only sender of the bot (long polling): mark replies sent and return which of `chats`
        have replies that no sender holds, for `settle` to claim (rarely any: a reminder, a reply given
        back after a failed send). With nobody else claiming, the look needs no chat lock, so on
        PostgreSQL this is one statement outside any transaction: one round trip where `settle` takes
        four (bench_e2e.py). It must be the first statement of the session's transaction; commit after.
        """
        return await self._mark_and_look(await _outside_transaction(self.session), sent_ids, chats)

    async def _mark_and_look(self, connection: AsyncConnection, sent_ids: list[int], chats: list[int]) -> list[int]:
        """Mark replies sent; which of `chats` have replies no sender holds (one statement on PostgreSQL)."""
        if connection.dialect.name == "postgresql":
            waiting = await connection.execute(_MARK_SENT_THEN_WAITING, {
                "ids": sent_ids, "at": self.now(), "chats": chats, "now": self.wall()})
            return [int(c) for c in waiting.scalars()]
        if sent_ids:
            await connection.execute(_MARK_SENT, {"ids": sent_ids, "at": self.now()})
        if not chats:
            return []
        return [int(c) for c in (await connection.execute(
            _CHATS_WAITING, {"chats": chats, "now": self.wall()})).scalars()]

    async def purge_sent(self, before: datetime, limit: int = 5000) -> int:
        """Delete up to `limit` replies sent before `before`; returns how many went."""
        old = select(OutboxMessage.id).where(OutboxMessage.sent_at < before).limit(limit)
        result = await self.session.execute(delete(OutboxMessage).where(OutboxMessage.id.in_(old)))
        return int(getattr(result, "rowcount", 0) or 0)

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
        self.clock = clock  # features build their own repositories with (session, clock[, prefetched])
        self.prefetched = Prefetched()  # shared by the repositories of this transaction
        self.users = Users(session, clock, self.prefetched)
        self.dialogs = Dialogs(session, clock)
        self.customers = Customers(session, clock)
        self.records = Records(session, clock)
        self.activity = Activity(session, clock)
        self.inbox = Inbox(session, clock, self.prefetched)
        self.outbox = Outbox(session, clock, self.prefetched)

    async def begin_update(self, update_id: int, telegram_id: int | None) -> bool:
        """Whether the update is ours to process now: pending and its chat's turn; the first statement
        of the session. SQLite takes it at once; PostgreSQL only looks, and `end_update` takes it."""
        if self.session.get_bind().dialect.name == "postgresql":
            return await self.inbox.look(update_id, telegram_id)
        return await self.inbox.take(update_id, telegram_id=telegram_id)

    async def end_update(self, update_id: int, chat_id: int, payloads: list[dict[str, Any]],
                         token: str | None) -> list[OutboxItem] | None:
        """Mark the update done and write its replies (claimed for `token`, if given, as `Outbox.queue`);
        None when it turned out not to be ours: roll back. Commit after."""
        if self.session.get_bind().dialect.name != "postgresql":
            return await self.outbox.queue(chat_id, update_id, payloads, token)
        taken = await self.outbox.take_queuing(update_id, chat_id, payloads, token)
        if taken is False:
            return None
        if taken is True:  # replies of the chat held elsewhere or by nobody: Outbox._claim sorts them out
            if not await self.inbox.take(update_id):
                return None
            return await self.outbox.queue(chat_id, update_id, payloads, token)
        return taken

    async def commit(self) -> None:
        await self.session.commit()
        self.prefetched.clear()

    async def rollback(self) -> None:
        await self.session.rollback()
        self.prefetched.clear()
