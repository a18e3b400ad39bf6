"""Repositories of the role-play feature: sessions with their state and turns, scorecards, drills.

Plain dataclasses out, no commits (the runtime commits once per update). Every rep-facing query filters
on the rep, so a rep only ever sees their own sessions; a drill's table goes only to its trainer.
"""

from __future__ import annotations

import copy
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import bindparam, func, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from db.models import User
from db.models_roleplay import RoleplayDrill, RoleplayScorecard, RoleplaySession, RoleplayTurn
from db.store import utcnow

CRITERIA_COLUMNS = ("opening", "questioning", "spin", "listening", "fab", "objections", "summary", "next_step")


@dataclass
class SessionInfo:
    id: int
    user_id: int
    chat_id: int
    persona: str
    lang: str
    status: str
    seed: int
    turns: int
    state: dict[str, Any]
    drill_id: int | None
    created_at: datetime
    updated_at: datetime


@dataclass(frozen=True)
class TurnRow:
    n: int
    rep: str
    customer: str
    lang: str
    data: dict[str, Any]


@dataclass(frozen=True)
class ScoreInfo:
    id: int
    session_id: int
    persona: str
    total: int
    criteria: dict[str, int]
    talk_share: float
    questions: int
    outcome: str
    created_at: datetime


@dataclass(frozen=True)
class DrillInfo:
    id: int
    code: str
    trainer_id: int
    chat_id: int
    persona: str
    status: str
    created_at: datetime
    closed_at: datetime | None


@dataclass(frozen=True)
class DrillRow:
    """One participant of a drill: their best finished score, or how far they are."""

    user_id: int
    name: str
    sessions: int
    finished: int
    best: int | None
    last: int | None
    criteria: dict[str, int]


def _session(row: RoleplaySession) -> SessionInfo:
    return SessionInfo(row.id, row.user_id, row.chat_id, row.persona, row.lang, row.status, int(row.seed),
                       row.turns, copy.deepcopy(row.state or {}), row.drill_id, row.created_at, row.updated_at)


_sessions = RoleplaySession.__table__
# Free text outside a flow asks for the rep's live role-play first: built once, as a Core statement (its
# rows are decoded afresh, so the state needs no copy; sessions are always written through at once).
_ACTIVE_SESSION = (
    select(_sessions.c.id, _sessions.c.user_id, _sessions.c.chat_id, _sessions.c.persona, _sessions.c.lang,
           _sessions.c.status, _sessions.c.seed, _sessions.c.turns, _sessions.c.state, _sessions.c.drill_id,
           _sessions.c.created_at, _sessions.c.updated_at)
    .where(_sessions.c.user_id == bindparam("user_id"), _sessions.c.status == "active")
    .order_by(_sessions.c.id.desc())
    .limit(1)
)


def _score(row: RoleplayScorecard) -> ScoreInfo:
    return ScoreInfo(row.id, row.session_id, row.persona, row.total,
                     {c: int(getattr(row, c)) for c in CRITERIA_COLUMNS}, float(row.talk_share), row.questions,
                     row.outcome, row.created_at)


def _drill(row: RoleplayDrill) -> DrillInfo:
    return DrillInfo(row.id, row.code, row.trainer_id, row.chat_id, row.persona, row.status, row.created_at,
                     row.closed_at)


class Roleplays:
    def __init__(self, session: AsyncSession, clock: Callable[[], datetime] = utcnow) -> None:
        self.session = session
        self.now = clock

    # ----- sessions ------------------------------------------------------------------------------
    async def active(self, user_id: int) -> SessionInfo | None:
        row = (await self.session.execute(_ACTIVE_SESSION, {"user_id": user_id})).first()
        if row is None:
            return None
        return SessionInfo(row.id, row.user_id, row.chat_id, row.persona, row.lang, row.status, int(row.seed),
                           row.turns, row.state or {}, row.drill_id, row.created_at, row.updated_at)

    async def get(self, user_id: int, session_id: int) -> SessionInfo | None:
        row = await self.session.scalar(
            select(RoleplaySession).where(RoleplaySession.user_id == user_id, RoleplaySession.id == session_id)
        )
        return _session(row) if row else None

    async def create(self, user_id: int, chat_id: int, persona: str, lang: str, seed: int,
                     state: dict[str, Any], drill_id: int | None = None) -> SessionInfo:
        now = self.now()
        row = RoleplaySession(user_id=user_id, chat_id=chat_id, persona=persona, lang=lang, status="active",
                              seed=seed, turns=0, state=copy.deepcopy(state), drill_id=drill_id,
                              created_at=now, updated_at=now)
        self.session.add(row)
        await self.session.flush()
        return _session(row)

    async def save(self, info: SessionInfo) -> None:
        now = self.now()
        ended = now if info.status != "active" else None
        await self.session.execute(
            update(RoleplaySession).where(RoleplaySession.id == info.id).values(
                status=info.status, turns=info.turns, lang=info.lang, state=copy.deepcopy(info.state),
                updated_at=now, ended_at=ended,
            )
        )
        info.updated_at = now

    async def add_turn(self, session_id: int, n: int, rep: str, customer: str, lang: str,
                       data: dict[str, Any]) -> None:
        self.session.add(RoleplayTurn(session_id=session_id, n=n, rep=rep, customer=customer, lang=lang,
                                      data=copy.deepcopy(data), created_at=self.now()))
        await self.session.flush()

    async def turns(self, session_id: int) -> list[TurnRow]:
        rows = await self.session.scalars(
            select(RoleplayTurn).where(RoleplayTurn.session_id == session_id).order_by(RoleplayTurn.n)
        )
        return [TurnRow(r.n, r.rep, r.customer, r.lang, dict(r.data or {})) for r in rows]

    async def stale(self, before: datetime) -> int:
        """Expire active sessions nobody touched since `before`; returns how many."""
        result = await self.session.execute(
            update(RoleplaySession)
            .where(RoleplaySession.status == "active", RoleplaySession.updated_at < before)
            .values(status="expired", ended_at=self.now())
        )
        return int(getattr(result, "rowcount", 0) or 0)

    # ----- scorecards ----------------------------------------------------------------------------
    async def add_scorecard(self, session: SessionInfo, total: int, criteria: dict[str, int], talk_share: float,
                            questions: int, outcome: str, details: dict[str, Any], drill_id: int | None = None) -> int:
        """Store a scorecard; `drill_id` only while the session's drill is still open (a closed table stays)."""
        row = RoleplayScorecard(
            session_id=session.id, user_id=session.user_id, persona=session.persona, drill_id=drill_id,
            total=total, talk_share=talk_share, questions=questions, outcome=outcome,
            details=copy.deepcopy(details), created_at=self.now(),
            **{c: int(criteria.get(c, 0)) for c in CRITERIA_COLUMNS},
        )
        self.session.add(row)
        await self.session.flush()
        return row.id

    async def history(self, user_id: int, limit: int = 10) -> list[ScoreInfo]:
        """The rep's latest scorecards, newest first."""
        rows = await self.session.scalars(
            select(RoleplayScorecard).where(RoleplayScorecard.user_id == user_id)
            .order_by(RoleplayScorecard.created_at.desc(), RoleplayScorecard.id.desc()).limit(limit)
        )
        return [_score(r) for r in rows]

    async def count(self, user_id: int) -> int:
        value = await self.session.scalar(
            select(func.count()).select_from(RoleplayScorecard).where(RoleplayScorecard.user_id == user_id)
        )
        return int(value or 0)

    # ----- drills --------------------------------------------------------------------------------
    async def create_drill(self, code: str, trainer_id: int, chat_id: int, persona: str) -> DrillInfo:
        row = RoleplayDrill(code=code, trainer_id=trainer_id, chat_id=chat_id, persona=persona, status="open",
                            created_at=self.now())
        self.session.add(row)
        await self.session.flush()
        return _drill(row)

    async def drill_by_code(self, code: str) -> DrillInfo | None:
        row = await self.session.scalar(select(RoleplayDrill).where(RoleplayDrill.code == code))
        return _drill(row) if row else None

    async def drill(self, drill_id: int) -> DrillInfo | None:
        row = await self.session.get(RoleplayDrill, drill_id)
        return _drill(row) if row else None

    async def open_drills(self, trainer_id: int) -> list[DrillInfo]:
        rows = await self.session.scalars(
            select(RoleplayDrill).where(RoleplayDrill.trainer_id == trainer_id, RoleplayDrill.status == "open")
            .order_by(RoleplayDrill.id.desc())
        )
        return [_drill(r) for r in rows]

    async def close_drill(self, drill_id: int) -> None:
        await self.session.execute(
            update(RoleplayDrill).where(RoleplayDrill.id == drill_id).values(status="closed", closed_at=self.now())
        )

    async def drill_rows(self, drill: DrillInfo) -> list[DrillRow]:
        """Everyone who joined the drill, with their best and latest score finished while it was open."""
        sessions = await self.session.execute(
            select(RoleplaySession.user_id, User.name, func.count(RoleplaySession.id))
            .join(User, User.id == RoleplaySession.user_id)
            .where(RoleplaySession.drill_id == drill.id)
            .group_by(RoleplaySession.user_id, User.name)
        )
        stmt = select(RoleplayScorecard).where(RoleplayScorecard.drill_id == drill.id)
        cards: dict[int, list[RoleplayScorecard]] = {}
        for card in await self.session.scalars(stmt.order_by(RoleplayScorecard.id)):
            cards.setdefault(card.user_id, []).append(card)
        rows = []
        for user_id, name, n in sessions:
            mine = cards.get(int(user_id), [])
            best = max(mine, key=lambda c: c.total, default=None)
            rows.append(DrillRow(int(user_id), name or "", int(n), len(mine), best.total if best else None,
                                 mine[-1].total if mine else None,
                                 {c: int(getattr(best, c)) for c in CRITERIA_COLUMNS} if best else {}))
        rows.sort(key=lambda r: (r.best is None, -(r.best or 0), r.name))
        return rows
