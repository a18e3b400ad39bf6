"""What the team features share: who may do what (checked on the server for every command and button),
which team a manager of several is working on, periods in the team's time zone, and number formats."""

from __future__ import annotations

import re
from dataclasses import dataclass, replace
from datetime import datetime, timedelta
from typing import TYPE_CHECKING

from bot.engine.events import Button, OutboundMessage
from bot.engine.metrics import Metric, MetricCatalog
from bot.engine.periods import Period, month_containing, parse_month, parse_week, week_containing
from db.store_metrics import Metrics
from db.store_teams import MemberInfo, TeamInfo, Teams

if TYPE_CHECKING:
    from bot.engine.core import Engine, Turn

TEAM_PREFIX = "tm"


@dataclass(frozen=True)
class Managed:
    """A team the caller may manage, and how: as an admin (every team) or as one of its managers."""

    team: TeamInfo
    as_admin: bool


def teams_repo(turn: Turn) -> Teams:
    return Teams(turn.store.session, turn.store.clock, turn.store.prefetched)


def metrics_repo(turn: Turn) -> Metrics:
    return Metrics(turn.store.session, turn.store.clock)


def is_admin(engine: Engine, turn: Turn) -> bool:
    return turn.user.telegram_id in engine.config.admins


async def managed_teams(engine: Engine, turn: Turn) -> list[TeamInfo]:
    """Every team for an admin; the teams this user manages otherwise."""
    repo = teams_repo(turn)
    if is_admin(engine, turn):
        return await repo.all()
    return [team for team, role in await repo.memberships(turn.user.id) if role == "manager"]


async def resolve_team(engine: Engine, turn: Turn, command: str) -> Managed | list[OutboundMessage]:
    """The team a manager command applies to, or the reply to send instead (a refusal or a team picker).

    The refusal is the same whatever exists elsewhere, so it reveals nothing about other teams.
    """
    t, lang = engine.t, turn.lang
    teams = await managed_teams(engine, turn)
    admin = is_admin(engine, turn)
    if not teams:
        key = "team_admin_no_teams" if admin else "team_not_manager"
        return [OutboundMessage(t(lang, key, command=command))]
    if len(teams) == 1:
        return Managed(teams[0], admin)
    focus = await teams_repo(turn).focus(turn.user.id)
    chosen = next((team for team in teams if team.id == focus), None)
    if chosen is not None:
        return Managed(chosen, admin)
    return [team_picker(engine, turn, teams, command)]


def team_picker(engine: Engine, turn: Turn, teams: list[TeamInfo], command: str) -> OutboundMessage:
    rows = [[Button(f"👥 {team.name}"[:60], f"{TEAM_PREFIX}:f:{team.id}:{command}")] for team in teams[:30]]
    return OutboundMessage(engine.t(turn.lang, "team_pick", command=command), buttons=rows)


async def switch_buttons(engine: Engine, turn: Turn, current: TeamInfo, command: str) -> list[list[Button]]:
    """A 'switch team' row for managers of several teams (nothing for one team)."""
    teams = await managed_teams(engine, turn)
    if len(teams) < 2:
        return []
    return [[Button(engine.t(turn.lang, "team_switch_button", team=current.name)[:60],
                    f"{TEAM_PREFIX}:p:{command}")]]


def rerun(turn: Turn, command: str, args: str = "") -> Turn:
    """The same turn as if the user had typed `/command args` (after a picker button)."""
    event = replace(turn.event, kind="command", command=command, args=args, text=f"/{command} {args}".strip())
    return replace(turn, event=event)


async def rep_timezone(turn: Turn) -> tuple[str, TeamInfo | None]:
    """Weeks count in the rep's team's time zone; without a team, in the rep's own."""
    team = await teams_repo(turn).rep_team(turn.user.id)
    return (team.timezone if team else turn.user.timezone), team


def parse_period(text: str, tz: str, now: datetime, default: str = "week") -> Period | None:
    """'' / week / 本周 → this week; last / 上周 / -1 → last week; month / 本月; 上月; 2026-W47; 2026-11."""
    word = text.strip().lower()
    week = week_containing(now, tz)
    month = month_containing(now, tz)
    if not word:
        return week if default == "week" else month
    if word in ("week", "w", "this", "本周", "这周", "周"):
        return week
    if word in ("last", "lastweek", "last week", "上周", "-1", "prev"):
        return week.shift(-1)
    if word in ("month", "m", "本月", "这个月", "月"):
        return month
    if word in ("lastmonth", "last month", "上月", "上个月"):
        return month.shift(-1)
    return parse_week(word, tz) or parse_month(word, tz)


def period_span(period: Period, lang: str) -> str:
    """'11/23–11/29' (week) or '2026-11' (month): short, for phone headers."""
    first, last = period.first_day, period.last_day
    if lang == "zh":
        return f"{first.month}月{first.day}日–{last.month}月{last.day}日"
    return f"{first:%d %b}–{last:%d %b}"


def fmt_num(value: float) -> str:
    """Whole numbers as such, others with one decimal."""
    return str(int(value)) if float(value).is_integer() else f"{value:.1f}"


def pct(part: float, whole: float) -> str:
    return f"{round(100 * part / whole)}%" if whole else "—"


def display_name(engine: Engine, lang: str, member: MemberInfo) -> str:
    if member.anonymous:
        return engine.t(lang, "team_anonymous_member")
    return member.name or f"#{member.telegram_id}"


_NAME_SPACES = re.compile(r"\s+")


def find_members(members: list[MemberInfo], query: str) -> list[MemberInfo]:
    """Members whose name matches: exactly (ignoring case and spaces) first, else by substring."""
    wanted = _NAME_SPACES.sub("", query).casefold()
    if not wanted:
        return []
    exact = [m for m in members if _NAME_SPACES.sub("", m.name).casefold() == wanted]
    if exact:
        return exact
    if wanted.isdigit():
        by_id = [m for m in members if str(m.telegram_id) == wanted]
        if by_id:
            return by_id
    return [m for m in members if wanted in _NAME_SPACES.sub("", m.name).casefold()]


def metric_buttons(catalog: MetricCatalog, lang: str, prefix: str, keys: list[str] | None = None,
                   per_row: int = 2) -> list[list[Button]]:
    metrics: list[Metric] = [catalog[k] for k in keys] if keys is not None else list(catalog.metrics)
    buttons = [Button(m.label(lang), f"{prefix}{m.key}") for m in metrics]
    return [buttons[i:i + per_row] for i in range(0, len(buttons), per_row)]


def prorated(weekly: int, period: Period) -> int:
    """A weekly target scaled to a month (by its days)."""
    if period.kind == "week":
        return weekly
    return round(weekly * period.days / 7)


def orphan_cut(now: datetime, catalog: MetricCatalog) -> datetime:
    return now - timedelta(days=catalog.orphans.days)
