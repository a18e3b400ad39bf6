"""Role-play scores by rep, read from whatever scorecard table the role-play feature defines.

The role-play feature owns its tables; this reads them without depending on their module: any table
in the metadata whose name mentions scorecards or role-play, with a `user_id`, a numeric total (`total`,
`score`, `total_score`) and a time column. When no such table exists yet, there are no scores and the
managers' /roleplays shows session counts from activity events only.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import Table, func, select
from sqlalchemy.ext.asyncio import AsyncSession

from db.all_models import Base

TOTAL_COLUMNS = ("total", "score", "total_score")
TIME_COLUMNS = ("finished_at", "ended_at", "created_at", "started_at")


@dataclass(frozen=True)
class ScoreSummary:
    sessions: int
    average: float
    best: float
    last: float | None = None


def scorecard_table() -> tuple[Table, str, str] | None:
    """(table, total column, time column) of the role-play scorecards, if the feature defines one."""
    candidates = []
    for table in Base.metadata.sorted_tables:
        name = table.name.lower()
        if not ("score" in name or "roleplay" in name or "role_play" in name):
            continue
        columns = {c.name for c in table.columns}
        total = next((c for c in TOTAL_COLUMNS if c in columns), None)
        when = next((c for c in TIME_COLUMNS if c in columns), None)
        if "user_id" in columns and total and when:
            candidates.append((0 if "score" in name else 1, table.name, (table, total, when)))
    return min(candidates)[2] if candidates else None


async def scores_by_user(session: AsyncSession, user_ids: Sequence[int], start: datetime,
                         end: datetime) -> dict[int, ScoreSummary]:
    found = scorecard_table()
    if found is None or not user_ids:
        return {}
    table, total_name, time_name = found
    total, when, user = table.c[total_name], table.c[time_name], table.c["user_id"]
    stmt = (select(user, func.count(), func.avg(total), func.max(total))
            .where(user.in_(list(user_ids)), when >= start, when < end, total.is_not(None))
            .group_by(user))
    return {int(uid): ScoreSummary(int(n), float(avg or 0), float(best or 0))
            for uid, n, avg, best in await session.execute(stmt)}
