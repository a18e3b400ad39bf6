"""Models of the teams feature (tables are created by their Alembic migration in db/migrations/versions).

Teams and memberships live in db.models; here are what the managers' side adds: invite codes behind
the deep links, weekly targets per team and metric, and which team a manager of several is working on.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import ForeignKey, Index, Integer, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from db.models import ActivityEvent, Base, Membership, UTCDateTime


class TeamInvite(Base):
    """A join code for `https://t.me/<bot>?start=<code>`: one team, one role, an expiry, revocable.

    Rep codes can be shared with the whole team (any number of uses until they expire); manager codes
    work once (`max_uses` = 1), because they hand out access to everyone's numbers.
    """

    __tablename__ = "team_invites"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    code: Mapped[str] = mapped_column(String(64), unique=True)
    team_id: Mapped[int] = mapped_column(ForeignKey("teams.id", ondelete="CASCADE"), index=True)
    role: Mapped[str] = mapped_column(String(16))  # rep | manager
    created_by: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"), nullable=True)
    created_at: Mapped[datetime]
    expires_at: Mapped[datetime]
    revoked_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), nullable=True)
    max_uses: Mapped[int | None] = mapped_column(Integer, nullable=True)
    uses: Mapped[int] = mapped_column(Integer, default=0)


class TeamTarget(Base):
    """A manager's weekly target for one metric, per rep of the team."""

    __tablename__ = "team_targets"
    __table_args__ = (UniqueConstraint("team_id", "metric", name="uq_team_targets_team_metric"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    team_id: Mapped[int] = mapped_column(ForeignKey("teams.id", ondelete="CASCADE"))
    metric: Mapped[str] = mapped_column(String(32))
    weekly: Mapped[int] = mapped_column(Integer)
    updated_by: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"), nullable=True)
    updated_at: Mapped[datetime]


class TeamFocus(Base):
    """The team a manager (or admin) of several teams is currently working on."""

    __tablename__ = "team_focus"

    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), primary_key=True)
    team_id: Mapped[int] = mapped_column(ForeignKey("teams.id", ondelete="CASCADE"))
    updated_at: Mapped[datetime]


# Indexes the managers' aggregate queries need on core tables (created by migration 0004): activity by
# customer for coverage and orphans, a covering index so weekly sums by rep read only the index, and
# team members by role.
Index("ix_activity_events_customer_time", ActivityEvent.customer_id, ActivityEvent.occurred_at)
Index("ix_activity_events_user_time_kind", ActivityEvent.user_id, ActivityEvent.occurred_at, ActivityEvent.kind,
      ActivityEvent.amount)
Index("ix_memberships_team_role", Membership.team_id, Membership.role, Membership.user_id)
