"""Queries over customer records for the coaching features (/spin recall, the weekly /plan).

No table of its own: SPIN plans, FAB phrasings and planned visits are customer records (kinds
"spin", "fab", "plan"); a planned visit's record carries its ISO week in `data["week"]`.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import delete, select
from sqlalchemy.ext.asyncio import AsyncSession

from db.models import Customer, CustomerRecord
from db.store import utcnow


@dataclass(frozen=True)
class CustomerRecordInfo:
    id: int
    customer_id: int
    customer: str
    kind: str
    data: dict[str, Any]
    created_at: datetime


class CoachingRecords:
    """Every query filters on the rep (`user_id`), so a rep only ever sees their own records."""

    def __init__(self, session: AsyncSession, clock: Callable[[], datetime] = utcnow) -> None:
        self.session = session
        self.now = clock

    def _select(self, user_id: int, kind: str) -> Any:
        return (
            select(CustomerRecord, Customer.name)
            .join(Customer, Customer.id == CustomerRecord.customer_id)
            .where(CustomerRecord.user_id == user_id, Customer.owner_id == user_id, CustomerRecord.kind == kind)
        )

    @staticmethod
    def _info(row: CustomerRecord, name: str) -> CustomerRecordInfo:
        return CustomerRecordInfo(row.id, row.customer_id, name, row.kind, dict(row.data or {}), row.created_at)

    async def get(self, user_id: int, record_id: int, kind: str) -> CustomerRecordInfo | None:
        result = await self.session.execute(self._select(user_id, kind).where(CustomerRecord.id == record_id))
        row = result.first()
        return self._info(row[0], row[1]) if row else None

    async def latest_per_customer(self, user_id: int, kind: str, limit: int = 8) -> list[CustomerRecordInfo]:
        """The newest record of `kind` for each customer, newest first."""
        result = await self.session.execute(self._select(user_id, kind).order_by(CustomerRecord.id.desc()))
        seen: set[int] = set()
        out: list[CustomerRecordInfo] = []
        for record, name in result:
            if record.customer_id in seen:
                continue
            seen.add(record.customer_id)
            out.append(self._info(record, name))
            if len(out) >= limit:
                break
        return out

    async def latest_for_customer(self, user_id: int, customer_id: int, kind: str) -> CustomerRecordInfo | None:
        result = await self.session.execute(
            self._select(user_id, kind).where(CustomerRecord.customer_id == customer_id)
            .order_by(CustomerRecord.id.desc()).limit(1)
        )
        row = result.first()
        return self._info(row[0], row[1]) if row else None

    async def for_week(self, user_id: int, kind: str, week: str) -> list[CustomerRecordInfo]:
        """Records whose data names this ISO week (e.g. '2026-W49'), oldest first."""
        result = await self.session.execute(self._select(user_id, kind).order_by(CustomerRecord.id))
        return [self._info(r, n) for r, n in result if (r.data or {}).get("week") == week]

    async def delete(self, user_id: int, ids: list[int]) -> None:
        if ids:
            await self.session.execute(
                delete(CustomerRecord).where(CustomerRecord.user_id == user_id, CustomerRecord.id.in_(ids))
            )
