"""/chart METRIC [weeks]: a PNG of one metric per rep over the last weeks, for the manager's own team."""

from __future__ import annotations

import asyncio
from typing import TYPE_CHECKING

from bot.engine.events import Attachment, OutboundMessage
from bot.engine.features.teamkit import Managed, metric_buttons, metrics_repo, resolve_team, teams_repo
from bot.engine.periods import week_containing, weeks_ending
from bot.reports.chart import ChartText, Series, render_png
from db.store import DialogState

if TYPE_CHECKING:
    from bot.engine.core import Engine, Turn

CHART_PREFIX = "ch"
DEFAULT_WEEKS = 8
MIN_WEEKS, MAX_WEEKS = 2, 26


class Charts:
    def __init__(self, engine: Engine) -> None:
        self.engine = engine
        self.t = engine.t
        self.catalog = engine.content.metrics

    async def chart(self, turn: Turn, dialog: DialogState | None) -> list[OutboundMessage]:
        lang = turn.lang
        managed = await resolve_team(self.engine, turn, "chart")
        if not isinstance(managed, Managed):
            return managed
        words = turn.event.args.split()
        if not words:
            return [OutboundMessage(self.t(lang, "chart_pick"),
                                    buttons=metric_buttons(self.catalog, lang, f"{CHART_PREFIX}:", per_row=3))]
        weeks = DEFAULT_WEEKS
        metric = self.catalog.resolve(" ".join(words))
        if metric is None and len(words) > 1:
            metric = self.catalog.resolve(" ".join(words[:-1]))
            if metric is not None:
                if not words[-1].isdigit() or not MIN_WEEKS <= int(words[-1]) <= MAX_WEEKS:
                    return [OutboundMessage(self.t(lang, "chart_bad_weeks", min=MIN_WEEKS, max=MAX_WEEKS))]
                weeks = int(words[-1])
        if metric is None:
            return [OutboundMessage(self.t(lang, "chart_unknown", metric=" ".join(words)[:40]),
                                    buttons=metric_buttons(self.catalog, lang, f"{CHART_PREFIX}:", per_row=3))]
        return [await self._chart(turn, managed, metric.key, weeks)]

    async def _chart(self, turn: Turn, managed: Managed, key: str, count: int) -> OutboundMessage:
        lang, team = turn.lang, managed.team
        metric = self.catalog[key]
        weeks = weeks_ending(week_containing(turn.now, team.timezone), count)
        bounds = [w.start for w in weeks] + [weeks[-1].end]
        reps = await teams_repo(turn).members(team.id, ("rep",))
        data = await metrics_repo(turn).team_weekly(team.id, bounds, key)
        series = [Series(m.name or str(m.telegram_id), data.get(m.user_id, {}).get(key, [0] * count))
                  for m in reps]
        target = (await teams_repo(turn).targets(team.id)).get(key)
        text = ChartText(
            title=self.t(lang, "chart_title", metric=metric.label(lang), team=team.name),
            subtitle=self.t(lang, "chart_subtitle", first=weeks[0].label, last=weeks[-1].label, reps=len(reps)),
            total_label=self.t(lang, "chart_total"), average_label=self.t(lang, "chart_average"),
            target_label=self.t(lang, "chart_target", value=target or 0),
        )
        png = await asyncio.to_thread(render_png, text, [w.label for w in weeks], series, target)
        totals = [sum(s.values[i] for s in series) for i in range(count)]
        caption = self.t(lang, "chart_caption", metric=metric.label(lang), team=team.name, first=weeks[0].label,
                         last=weeks[-1].label, total=totals[-1], previous=totals[-2] if count > 1 else 0,
                         many=len(series) > 10)
        return OutboundMessage(caption, attachment=Attachment("photo", f"{key}_{weeks[-1].label}.png", png))

    async def button(self, turn: Turn, dialog: DialogState | None, rest: str) -> list[OutboundMessage] | None:
        """ch:<metric> from the metric picker; re-checks the caller's team like the command."""
        if self.catalog.get(rest) is None:
            return None
        managed = await resolve_team(self.engine, turn, "chart")
        if not isinstance(managed, Managed):
            return managed
        return [await self._chart(turn, managed, rest, DEFAULT_WEEKS)]


def install(engine: Engine) -> Charts:
    feature = Charts(engine)
    engine.add_command("chart", feature.chart)
    engine.add_button(CHART_PREFIX, feature.button)
    return feature
