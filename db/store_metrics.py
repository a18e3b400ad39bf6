"""Aggregate queries over activity events and customers for the rep's and the manager's views.

Each view is answered by single aggregate queries (sums grouped by rep and metric, with week buckets
computed in SQL by a CASE over the week boundaries) that the indexes of migration 0004 serve: the
covering (user_id, occurred_at, kind, amount) index for sums, (customer_id, occurred_at) for coverage
and orphan customers. Constructed as `Metrics(store.session, store.clock)`.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import Select, and_, bindparam, case, delete, exists, func, select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.sql import ColumnElement

from db.models import ActivityEvent, Customer, CustomerRecord, Membership, User
from db.store import utcnow

TEAM_ROLES = ("rep", "anonymous")
"""Whose activity counts for a team: its reps, and the placeholder keeping forgotten reps' counts."""

_ev = ActivityEvent.__table__
_cu = Customer.__table__


def _health_stmt(owner_filter: ColumnElement[bool], start: Any, end: Any, cut: Any) -> Select[Any]:
    """Customers, covered in [start, end) and orphans (no contact since `cut`) per owner."""
    covered = exists().where(_ev.c.customer_id == _cu.c.id, _ev.c.occurred_at >= start, _ev.c.occurred_at < end)
    recent = exists().where(_ev.c.customer_id == _cu.c.id, _ev.c.occurred_at >= cut)
    return (select(_cu.c.owner_id, func.count(_cu.c.id),
                   func.sum(case((covered, 1), else_=0)),
                   func.sum(case((and_(_cu.c.created_at < cut, ~recent), 1), else_=0)))
            .where(owner_filter).group_by(_cu.c.owner_id))


def _in_range(start: str, end: str) -> ColumnElement[bool]:
    return and_(_ev.c.occurred_at >= bindparam(start), _ev.c.occurred_at < bindparam(end))


# The rep's own views (/week, /log) run these on every use: built once, as Core statements over the tables.
_USER_SUMS = (select(_ev.c.kind, func.sum(_ev.c.amount))
              .where(_ev.c.user_id == bindparam("user_id"), _in_range("start", "end"))
              .group_by(_ev.c.kind))
_USER_SUMS_PAIR = (
    select(_ev.c.kind,
           func.count(case((_in_range("start_a", "end_a"), 1))),
           func.sum(case((_in_range("start_a", "end_a"), _ev.c.amount), else_=0)),
           func.count(case((_in_range("start_b", "end_b"), 1))),
           func.sum(case((_in_range("start_b", "end_b"), _ev.c.amount), else_=0)))
    .where(_ev.c.user_id == bindparam("user_id"), _in_range("low", "high"))
    .group_by(_ev.c.kind)
)
_USER_HEALTH = _health_stmt(_cu.c.owner_id == bindparam("owner_id"), bindparam("start"), bindparam("end"),
                            bindparam("cut"))


@dataclass(frozen=True)
class CustomerHealth:
    total: int = 0
    covered: int = 0  # with at least one activity event in the period
    orphans: int = 0  # no contact for the orphan threshold or longer

    @property
    def coverage(self) -> float | None:
        return self.covered / self.total if self.total else None


@dataclass(frozen=True)
class CustomerRow:
    id: int
    owner_id: int
    owner_name: str
    name: str
    contact: str
    stage: str
    relationship: str
    value_tier: str
    attitude: str
    next_visit_at: datetime | None
    created_at: datetime
    last_contact: datetime | None


@dataclass(frozen=True)
class LogEntry:
    id: int
    kind: str
    amount: int
    customer_id: int | None
    occurred_at: datetime


@dataclass(frozen=True)
class ContactRow:
    occurred_at: datetime
    owner_name: str
    customer: str
    kind: str
    amount: int
    source: str


@dataclass(frozen=True)
class RecordRow:
    created_at: datetime
    owner_name: str
    customer: str
    kind: str
    data: dict[str, Any]


class Metrics:
    def __init__(self, session: AsyncSession, clock: Callable[[], datetime] = utcnow) -> None:
        self.session = session
        self.now = clock

    # ----- scopes -----------------------------------------------------------------------------
    @staticmethod
    def _team_users(team_id: int, roles: Sequence[str] = TEAM_ROLES) -> Any:
        return select(Membership.user_id).where(Membership.team_id == team_id, Membership.role.in_(roles))

    # ----- sums -------------------------------------------------------------------------------
    async def sums(self, user_filter: ColumnElement[bool], start: datetime, end: datetime,
                   kinds: Sequence[str] | None = None) -> dict[int, dict[str, int]]:
        ev = ActivityEvent
        stmt = (select(ev.user_id, ev.kind, func.sum(ev.amount))
                .where(user_filter, ev.occurred_at >= start, ev.occurred_at < end)
                .group_by(ev.user_id, ev.kind))
        if kinds is not None:
            stmt = stmt.where(ev.kind.in_(list(kinds)))
        out: dict[int, dict[str, int]] = {}
        for user_id, kind, total in await self.session.execute(stmt):
            out.setdefault(int(user_id), {})[str(kind)] = int(total or 0)
        return out

    async def team_sums(self, team_id: int, start: datetime, end: datetime,
                        kinds: Sequence[str] | None = None) -> dict[int, dict[str, int]]:
        """{rep user id: {metric: total}} for the team's reps (and its anonymous placeholder)."""
        return await self.sums(ActivityEvent.user_id.in_(self._team_users(team_id)), start, end, kinds)

    async def user_sums(self, user_id: int, start: datetime, end: datetime) -> dict[str, int]:
        rows = await self.session.execute(_USER_SUMS, {"user_id": user_id, "start": start, "end": end})
        return {str(kind): int(total or 0) for kind, total in rows}

    async def user_sums_pair(self, user_id: int, a: tuple[datetime, datetime],
                             b: tuple[datetime, datetime]) -> tuple[dict[str, int], dict[str, int]]:
        """`user_sums` of two ranges [start, end) (e.g. this week and last) in one query."""
        rows = await self.session.execute(_USER_SUMS_PAIR, {
            "user_id": user_id, "start_a": a[0], "end_a": a[1], "start_b": b[0], "end_b": b[1],
            "low": min(a[0], b[0]), "high": max(a[1], b[1]),
        })
        sums_a: dict[str, int] = {}
        sums_b: dict[str, int] = {}
        for kind, n_a, total_a, n_b, total_b in rows:
            if n_a:
                sums_a[str(kind)] = int(total_a or 0)
            if n_b:
                sums_b[str(kind)] = int(total_b or 0)
        return sums_a, sums_b

    async def weekly(self, user_filter: ColumnElement[bool], bounds: Sequence[datetime],
                     kind: str | None = None) -> dict[int, dict[str, list[int]]]:
        """{user id: {metric: [total per period]}} for consecutive periods split at `bounds`
        (len(bounds) - 1 periods), bucketed in SQL so one query serves any number of weeks."""
        ev = ActivityEvent
        slots = len(bounds) - 1
        bucket = case(*[(ev.occurred_at < bound, i) for i, bound in enumerate(bounds[1:])], else_=slots)
        inner = select(ev.user_id.label("u"), ev.kind.label("k"), ev.amount.label("a"), bucket.label("b")).where(
            user_filter, ev.occurred_at >= bounds[0], ev.occurred_at < bounds[-1]
        )
        if kind is not None:
            inner = inner.where(ev.kind == kind)
        sub = inner.subquery()
        stmt = select(sub.c.u, sub.c.k, sub.c.b, func.sum(sub.c.a)).group_by(sub.c.u, sub.c.k, sub.c.b)
        out: dict[int, dict[str, list[int]]] = {}
        for user_id, metric, index, total in await self.session.execute(stmt):
            if 0 <= int(index) < slots:
                row = out.setdefault(int(user_id), {}).setdefault(str(metric), [0] * slots)
                row[int(index)] += int(total or 0)
        return out

    async def team_weekly(self, team_id: int, bounds: Sequence[datetime],
                          kind: str | None = None) -> dict[int, dict[str, list[int]]]:
        return await self.weekly(ActivityEvent.user_id.in_(self._team_users(team_id)), bounds, kind)

    async def user_weekly(self, user_id: int, bounds: Sequence[datetime]) -> dict[str, list[int]]:
        return (await self.weekly(ActivityEvent.user_id == user_id, bounds)).get(user_id, {})

    # ----- customers: coverage and orphans ----------------------------------------------------
    async def health(self, owner_filter: ColumnElement[bool], start: datetime, end: datetime,
                     cut: datetime) -> dict[int, CustomerHealth]:
        """{owner id: customers, covered in [start, end), orphans (no contact since `cut`)}."""
        stmt = _health_stmt(owner_filter, start, end, cut)
        return {int(owner): CustomerHealth(int(n), int(c or 0), int(o or 0))
                for owner, n, c, o in await self.session.execute(stmt)}

    async def team_health(self, team_id: int, start: datetime, end: datetime,
                          cut: datetime) -> dict[int, CustomerHealth]:
        return await self.health(Customer.owner_id.in_(self._team_users(team_id, ("rep",))), start, end, cut)

    async def user_health(self, user_id: int, start: datetime, end: datetime, cut: datetime) -> CustomerHealth:
        row = (await self.session.execute(
            _USER_HEALTH, {"owner_id": user_id, "start": start, "end": end, "cut": cut}
        )).first()
        return CustomerHealth(int(row[1]), int(row[2] or 0), int(row[3] or 0)) if row else CustomerHealth()

    async def customers(self, owner_filter: ColumnElement[bool]) -> list[CustomerRow]:
        """Customers with their owner's name and last contact (latest activity event with them)."""
        ev = ActivityEvent
        mine = select(Customer.id).where(owner_filter)
        last = (select(ev.customer_id.label("cid"), func.max(ev.occurred_at).label("last"))
                .where(ev.customer_id.in_(mine)).group_by(ev.customer_id).subquery())
        stmt = (select(Customer, User.name, last.c.last)
                .join(User, User.id == Customer.owner_id)
                .outerjoin(last, last.c.cid == Customer.id)
                .where(owner_filter).order_by(User.name, Customer.name))
        rows = []
        for c, owner_name, last_contact in await self.session.execute(stmt):
            if isinstance(last_contact, str):  # SQLite returns max() of a datetime column as text
                last_contact = datetime.fromisoformat(last_contact)
            if last_contact is not None and last_contact.tzinfo is None:
                last_contact = last_contact.replace(tzinfo=UTC)
            rows.append(CustomerRow(c.id, c.owner_id, str(owner_name), c.name, c.contact, c.stage, c.relationship,
                                    c.value_tier, c.attitude, c.next_visit_at, c.created_at, last_contact))
        return rows

    async def orphans(self, owner_filter: ColumnElement[bool], cut: datetime) -> list[CustomerRow]:
        """Customers with no contact since `cut` (and known since before it), least recently contacted first."""
        rows = [r for r in await self.customers(owner_filter)
                if r.created_at < cut and (r.last_contact is None or r.last_contact < cut)]
        return sorted(rows, key=lambda r: (r.last_contact or r.created_at, r.name))

    def team_owners(self, team_id: int) -> ColumnElement[bool]:
        return Customer.owner_id.in_(self._team_users(team_id, ("rep",)))

    # ----- follow-ups and records for exports -------------------------------------------------
    async def contacts(self, owner_filter: ColumnElement[bool], start: datetime, end: datetime) -> list[ContactRow]:
        ev = ActivityEvent
        stmt = (select(ev.occurred_at, User.name, Customer.name, ev.kind, ev.amount, ev.source)
                .join(Customer, Customer.id == ev.customer_id).join(User, User.id == Customer.owner_id)
                .where(owner_filter, ev.occurred_at >= start, ev.occurred_at < end)
                .order_by(ev.occurred_at, ev.id))
        return [ContactRow(at, str(owner), str(customer), str(kind), int(amount), str(source))
                for at, owner, customer, kind, amount, source in await self.session.execute(stmt)]

    async def records(self, owner_filter: ColumnElement[bool], start: datetime, end: datetime) -> list[RecordRow]:
        stmt = (select(CustomerRecord.created_at, User.name, Customer.name, CustomerRecord.kind, CustomerRecord.data)
                .join(Customer, Customer.id == CustomerRecord.customer_id)
                .join(User, User.id == Customer.owner_id)
                .where(owner_filter, CustomerRecord.created_at >= start, CustomerRecord.created_at < end)
                .order_by(CustomerRecord.created_at, CustomerRecord.id))
        return [RecordRow(at, str(owner), str(customer), str(kind), dict(data or {}))
                for at, owner, customer, kind, data in await self.session.execute(stmt)]

    async def latest_records(self, customer_ids: Sequence[int], kind: str) -> dict[int, dict[str, Any]]:
        """The newest record of a kind per customer (e.g. the prep plan behind a planned visit)."""
        if not customer_ids:
            return {}
        newest = (select(func.max(CustomerRecord.id)).where(CustomerRecord.customer_id.in_(list(customer_ids)),
                                                            CustomerRecord.kind == kind)
                  .group_by(CustomerRecord.customer_id))
        rows = await self.session.execute(
            select(CustomerRecord.customer_id, CustomerRecord.data).where(CustomerRecord.id.in_(newest))
        )
        return {int(cid): dict(data or {}) for cid, data in rows}

    # ----- the rep's own /log entries ---------------------------------------------------------
    async def last_log(self, user_id: int) -> LogEntry | None:
        ev = ActivityEvent
        row = await self.session.execute(
            select(ev.id, ev.kind, ev.amount, ev.customer_id, ev.occurred_at)
            .where(ev.user_id == user_id, ev.source == "log").order_by(ev.id.desc()).limit(1)
        )
        found = row.first()
        if found is None:
            return None
        return LogEntry(int(found[0]), str(found[1]), int(found[2]), found[3], found[4])

    async def delete_event(self, user_id: int, event_id: int) -> bool:
        result = await self.session.execute(
            delete(ActivityEvent).where(ActivityEvent.id == event_id, ActivityEvent.user_id == user_id)
        )
        return bool(getattr(result, "rowcount", 0))
