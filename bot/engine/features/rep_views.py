"""The rep's own numbers: /week (this week against targets, last week beside it), /month, /orphans.

Weeks are ISO weeks in the team's time zone (the rep's own zone without a team). A rep only ever sees
their own data here; targets come from their team's manager.
"""

from __future__ import annotations

from typing import TYPE_CHECKING
from zoneinfo import ZoneInfo

from bot.engine.events import Button, OutboundMessage
from bot.engine.features.teamkit import (
    fmt_num,
    metrics_repo,
    orphan_cut,
    pct,
    period_span,
    prorated,
    rep_timezone,
    teams_repo,
)
from bot.engine.periods import Period, month_containing, week_containing
from db.models import Customer
from db.store import DialogState
from db.store_metrics import CustomerHealth
from db.store_teams import TeamInfo

if TYPE_CHECKING:
    from bot.engine.core import Engine, Turn

WEEKCHECK_FLOW = "weekcheck"
MAX_ORPHANS_SHOWN = 30


class RepViews:
    def __init__(self, engine: Engine) -> None:
        self.engine = engine
        self.t = engine.t
        self.catalog = engine.content.metrics

    async def week(self, turn: Turn, dialog: DialogState | None) -> list[OutboundMessage]:
        tz, team = await rep_timezone(turn)
        return await self._view(turn, week_containing(turn.now, tz), team)

    async def month(self, turn: Turn, dialog: DialogState | None) -> list[OutboundMessage]:
        tz, team = await rep_timezone(turn)
        return await self._view(turn, month_containing(turn.now, tz), team)

    async def _view(self, turn: Turn, period: Period, team: TeamInfo | None) -> list[OutboundMessage]:
        """`team`: the rep's team from `rep_timezone`, passed in so it is looked up once per command."""
        lang = turn.lang
        repo = metrics_repo(turn)
        previous = period.shift(-1)
        now_sums, before = await repo.user_sums_pair(turn.user.id, (period.start, period.end),
                                                     (previous.start, previous.end))
        targets = await teams_repo(turn).targets(team.id) if team else {}
        health = await repo.user_health(turn.user.id, period.start, period.end, orphan_cut(turn.now, self.catalog))
        lines = []
        met = 0
        for metric in self.catalog.metrics:
            value, last = now_sums.get(metric.key, 0), before.get(metric.key, 0)
            target = prorated(targets[metric.key], period) if metric.key in targets else None
            if not value and not last and target is None:
                continue
            if target is not None and value >= target:
                met += 1
            lines.append(self.t(lang, "rep_view_line", name=metric.label(lang), value=value, target=target,
                                met=target is not None and value >= target, last=last))
        header = self.t(lang, "rep_view_header", kind=period.kind, label=period.label,
                        span=period_span(period, lang), team=team.name if team else "",
                        previous=previous.label)
        parts = [header]
        if lines:
            parts.append("\n".join(lines))
            if targets:
                parts.append(self.t(lang, "rep_view_targets_met", met=met, total=len(targets)))
        else:
            parts.append(self.t(lang, "rep_view_empty"))
        parts.append(self._ratios(turn, now_sums, health))
        buttons = []
        if period.kind == "week" and WEEKCHECK_FLOW in self.engine.content.flows:
            buttons.append([Button(self.t(lang, "rep_view_weekcheck_button"), f"x:{WEEKCHECK_FLOW}")])
        return [OutboundMessage("\n\n".join(p for p in parts if p), buttons=buttons)]

    def _ratios(self, turn: Turn, sums: dict[str, int], health: CustomerHealth) -> str:
        lang = turn.lang
        visits = sum(sums.get(k, 0) for k in self.catalog.visit_metrics)
        deals = sums.get("deals", 0)
        rule = self.catalog.inside_contact_rule
        inside = sums.get("inside_contacts", 0)
        expected = visits // rule.visits
        return self.t(
            lang, "rep_view_ratios", customers=health.total, covered=health.covered,
            coverage=pct(health.covered, health.total), orphans=health.orphans, days=self.catalog.orphans.days,
            visits=visits, deals=deals, per_deal=fmt_num(visits / deals) if deals else None,
            inside=inside, expected=expected, per=rule.visits,
        )

    async def orphans(self, turn: Turn, dialog: DialogState | None) -> list[OutboundMessage]:
        lang = turn.lang
        tz, _team = await rep_timezone(turn)
        rows = await metrics_repo(turn).orphans(Customer.owner_id == turn.user.id,
                                                orphan_cut(turn.now, self.catalog))
        days = self.catalog.orphans.days
        if not rows:
            return [OutboundMessage(self.t(lang, "orphans_none", days=days))]
        zone = ZoneInfo(tz)
        lines = []
        for row in rows[:MAX_ORPHANS_SHOWN]:
            since = row.last_contact or row.created_at
            lines.append(self.t(lang, "orphans_line", name=row.name, contact=row.contact,
                                stage=self._stage(lang, row.stage), never=row.last_contact is None,
                                date=since.astimezone(zone).strftime("%Y-%m-%d"),
                                days=(turn.now - since).days))
        more = len(rows) - MAX_ORPHANS_SHOWN
        text = self.t(lang, "orphans_header", n=len(rows), days=days) + "\n" + "\n".join(lines)
        if more > 0:
            text += "\n" + self.t(lang, "orphans_more", n=more)
        text += "\n\n" + self.t(lang, "orphans_tip")
        return [OutboundMessage(text, buttons=[[Button(self.t(lang, "orphans_read_button"),
                                                       f"k:{self.catalog.orphans.knowledge}")]])]

    def _stage(self, lang: str, stage: str) -> str:
        key = f"tm_stage_{stage}"
        return self.t(lang, key) if self.engine.content.messages.has(key) else stage


def install(engine: Engine) -> RepViews:
    feature = RepViews(engine)
    engine.add_command("week", feature.week)
    engine.add_command("month", feature.month)
    engine.add_command("orphans", feature.orphans)
    return feature
