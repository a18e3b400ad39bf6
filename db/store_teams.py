"""Teams, memberships, invite codes, targets and the manager's current team (repositories, no commits).

Constructed as `Teams(store.session, store.clock, store.prefetched)`; returns plain dataclasses.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import bindparam, delete, func, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from db.models import Membership, Team, User
from db.models_teams import TeamFocus, TeamInvite, TeamTarget
from db.store import Prefetched, utcnow

ANON_BASE = -(10**15)
"""Telegram ids of the per-team anonymous placeholders that keep a forgotten rep's counts (never real ids:
Telegram ids are positive and console ids lie within -2**32)."""

ROLES = ("rep", "manager")
ANON_ROLE = "anonymous"


@dataclass(frozen=True)
class TeamInfo:
    id: int
    name: str
    timezone: str
    created_at: datetime


@dataclass(frozen=True)
class MemberInfo:
    user_id: int
    telegram_id: int
    name: str
    role: str
    joined_at: datetime
    last_seen_at: datetime

    @property
    def anonymous(self) -> bool:
        return self.role == ANON_ROLE


@dataclass(frozen=True)
class InviteInfo:
    id: int
    code: str
    team_id: int
    role: str
    created_at: datetime
    expires_at: datetime
    revoked_at: datetime | None
    max_uses: int | None
    uses: int

    def usable(self, now: datetime) -> bool:
        return self.revoked_at is None and now < self.expires_at and (
            self.max_uses is None or self.uses < self.max_uses
        )


def _team(row: Any) -> TeamInfo:
    """From a Team or a row with its columns."""
    return TeamInfo(row.id, row.name, row.timezone, row.created_at)


_teams = Team.__table__
_members = Membership.__table__
# Every /week and /log looks up the rep's team: built once, as Core statements over the tables (they do not
# autoflush, so this repository writes memberships through at once).
_MEMBERSHIPS = (
    select(_teams.c.id, _teams.c.name, _teams.c.timezone, _teams.c.created_at, _members.c.role)
    .join(_members, _members.c.team_id == _teams.c.id)
    .where(_members.c.user_id == bindparam("user_id"))
    .order_by(_teams.c.name)
)
_REP_TEAM = _MEMBERSHIPS.where(_members.c.role == "rep").limit(1)


def _invite(row: TeamInvite) -> InviteInfo:
    return InviteInfo(row.id, row.code, row.team_id, row.role, row.created_at, row.expires_at, row.revoked_at,
                      row.max_uses, row.uses)


class Teams:
    def __init__(self, session: AsyncSession, clock: Callable[[], datetime] = utcnow,
                 prefetched: Prefetched | None = None) -> None:
        self.session = session
        self.now = clock
        self.prefetched = prefetched or Prefetched()  # the rep's team, read when the update arrived

    # ----- teams ------------------------------------------------------------------------------
    async def create(self, name: str, timezone: str) -> TeamInfo:
        row = Team(name=name, timezone=timezone, created_at=self.now())
        self.session.add(row)
        await self.session.flush()
        return _team(row)

    async def get(self, team_id: int) -> TeamInfo | None:
        row = await self.session.get(Team, team_id)
        return _team(row) if row else None

    async def by_name(self, name: str) -> TeamInfo | None:
        row = await self.session.scalar(select(Team).where(func.lower(Team.name) == name.lower()).limit(1))
        return _team(row) if row else None

    async def all(self) -> list[TeamInfo]:
        return [_team(r) for r in await self.session.scalars(select(Team).order_by(Team.name))]

    # ----- memberships ------------------------------------------------------------------------
    async def memberships(self, user_id: int) -> list[tuple[TeamInfo, str]]:
        rows = await self.session.execute(_MEMBERSHIPS, {"user_id": user_id})
        return [(_team(row), str(row.role)) for row in rows]

    async def role_in(self, team_id: int, user_id: int) -> str | None:
        role = await self.session.scalar(
            select(Membership.role).where(Membership.team_id == team_id, Membership.user_id == user_id)
        )
        return str(role) if role is not None else None

    async def rep_team(self, user_id: int) -> TeamInfo | None:
        """The team this user is a rep of (a rep belongs to one team)."""
        if user_id in self.prefetched.rep_teams:
            known = self.prefetched.rep_teams[user_id]
            return TeamInfo(*known) if known is not None else None
        row = (await self.session.execute(_REP_TEAM, {"user_id": user_id})).first()
        return _team(row) if row else None

    async def add_member(self, team_id: int, user_id: int, role: str) -> None:
        self.prefetched.rep_teams.pop(user_id, None)
        existing = await self.session.scalar(
            select(Membership).where(Membership.team_id == team_id, Membership.user_id == user_id)
        )
        if existing is not None:
            existing.role = role
            await self.session.flush()
            return
        self.session.add(Membership(team_id=team_id, user_id=user_id, role=role, created_at=self.now()))
        await self.session.flush()

    async def remove_member(self, team_id: int, user_id: int) -> bool:
        self.prefetched.rep_teams.pop(user_id, None)
        result = await self.session.execute(
            delete(Membership).where(Membership.team_id == team_id, Membership.user_id == user_id)
        )
        return bool(getattr(result, "rowcount", 0))

    async def members(self, team_id: int, roles: tuple[str, ...] = ROLES) -> list[MemberInfo]:
        rows = await self.session.execute(
            select(User.id, User.telegram_id, User.name, Membership.role, Membership.created_at, User.last_seen_at)
            .join(Membership, Membership.user_id == User.id)
            .where(Membership.team_id == team_id, Membership.role.in_(roles))
            .order_by(Membership.role.desc(), User.name, User.id)
        )
        return [MemberInfo(int(uid), int(tid), str(name), str(role), joined, seen)
                for uid, tid, name, role, joined, seen in rows]

    async def anonymous_member(self, team_id: int) -> int:
        """The team's placeholder user that keeps forgotten reps' counts (created on first use)."""
        telegram_id = ANON_BASE - team_id
        user_id = await self.session.scalar(select(User.id).where(User.telegram_id == telegram_id))
        if user_id is None:
            now = self.now()
            row = User(telegram_id=telegram_id, name="", language="zh", language_chosen=False,
                       timezone="UTC", created_at=now, last_seen_at=now)
            self.session.add(row)
            await self.session.flush()
            user_id = row.id
        await self.add_member(team_id, int(user_id), ANON_ROLE)
        return int(user_id)

    # ----- invites ----------------------------------------------------------------------------
    async def create_invite(self, code: str, team_id: int, role: str, created_by: int, expires_at: datetime,
                            max_uses: int | None) -> InviteInfo:
        row = TeamInvite(code=code, team_id=team_id, role=role, created_by=created_by, created_at=self.now(),
                         expires_at=expires_at, max_uses=max_uses, uses=0)
        self.session.add(row)
        await self.session.flush()
        return _invite(row)

    async def invite(self, code: str) -> InviteInfo | None:
        row = await self.session.scalar(select(TeamInvite).where(TeamInvite.code == code))
        return _invite(row) if row else None

    async def invite_by_id(self, invite_id: int) -> InviteInfo | None:
        row = await self.session.get(TeamInvite, invite_id)
        return _invite(row) if row else None

    async def use_invite(self, invite_id: int) -> None:
        await self.session.execute(
            update(TeamInvite).where(TeamInvite.id == invite_id).values(uses=TeamInvite.uses + 1)
        )

    async def revoke_invite(self, invite_id: int) -> None:
        await self.session.execute(
            update(TeamInvite).where(TeamInvite.id == invite_id).values(revoked_at=self.now())
        )

    async def open_invites(self, team_id: int) -> list[InviteInfo]:
        rows = await self.session.scalars(
            select(TeamInvite).where(TeamInvite.team_id == team_id, TeamInvite.revoked_at.is_(None),
                                     TeamInvite.expires_at > self.now()).order_by(TeamInvite.id)
        )
        return [i for i in (_invite(r) for r in rows) if i.usable(self.now())]

    # ----- targets ----------------------------------------------------------------------------
    async def targets(self, team_id: int) -> dict[str, int]:
        rows = await self.session.execute(
            select(TeamTarget.metric, TeamTarget.weekly).where(TeamTarget.team_id == team_id)
        )
        return {str(metric): int(weekly) for metric, weekly in rows}

    async def set_target(self, team_id: int, metric: str, weekly: int | None, by: int) -> None:
        """Set a weekly target per rep; None (or 0) removes it."""
        await self.session.execute(
            delete(TeamTarget).where(TeamTarget.team_id == team_id, TeamTarget.metric == metric)
        )
        if weekly:
            self.session.add(TeamTarget(team_id=team_id, metric=metric, weekly=weekly, updated_by=by,
                                        updated_at=self.now()))
            await self.session.flush()

    # ----- the team a manager of several is working on ----------------------------------------
    async def focus(self, user_id: int) -> int | None:
        value = await self.session.scalar(select(TeamFocus.team_id).where(TeamFocus.user_id == user_id))
        return int(value) if value is not None else None

    async def set_focus(self, user_id: int, team_id: int) -> None:
        row = await self.session.get(TeamFocus, user_id)
        if row is None:
            self.session.add(TeamFocus(user_id=user_id, team_id=team_id, updated_at=self.now()))
            await self.session.flush()
        else:
            row.team_id = team_id
            row.updated_at = self.now()
            await self.session.flush()
