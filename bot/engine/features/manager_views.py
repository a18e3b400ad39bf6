"""The manager's views of their own team: /team, /rep, /funnel, /leaderboard, /roleplays, /targets.

Every command resolves the caller's team first (refusing reps and strangers without revealing anything
about other teams); the numbers come from single aggregate queries (db/store_metrics.py).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from bot.engine.events import Button, OutboundMessage
from bot.engine.features.teamkit import (
    Managed,
    display_name,
    find_members,
    fmt_num,
    metric_buttons,
    metrics_repo,
    orphan_cut,
    parse_period,
    pct,
    period_span,
    prorated,
    rerun,
    resolve_team,
    switch_buttons,
    teams_repo,
)
from bot.engine.periods import Period, week_containing, weeks_ending
from db.models import Customer
from db.store import DialogState
from db.store_metrics import CustomerHealth
from db.store_scores import scores_by_user
from db.store_teams import MemberInfo

if TYPE_CHECKING:
    from bot.engine.core import Engine, Turn

MG_PREFIX = "mg"
REP_WEEKS = 8
FUNNEL_WEEKS = 12
ROLEPLAY_WEEKS = 4
MAX_TARGET_FACTOR = 7  # a weekly target may be at most 7 × the metric's per-entry maximum


class ManagerViews:
    def __init__(self, engine: Engine) -> None:
        self.engine = engine
        self.t = engine.t
        self.catalog = engine.content.metrics

    # ----- /team [week] -----------------------------------------------------------------------
    async def team(self, turn: Turn, dialog: DialogState | None) -> list[OutboundMessage]:
        lang = turn.lang
        managed = await resolve_team(self.engine, turn, "team")
        if not isinstance(managed, Managed):
            return managed
        team = managed.team
        period = parse_period(turn.event.args, team.timezone, turn.now)
        if period is None:
            return [OutboundMessage(self.t(lang, "team_bad_period"))]
        repo = metrics_repo(turn)
        members = await teams_repo(turn).members(team.id, ("rep", "anonymous"))
        sums = await repo.team_sums(team.id, period.start, period.end)
        health = await repo.team_health(team.id, period.start, period.end, orphan_cut(turn.now, self.catalog))
        targets = {k: prorated(v, period) for k, v in (await teams_repo(turn).targets(team.id)).items()}
        columns = [self.catalog[k] for k in self.catalog.team_columns]
        blocks = []
        totals: dict[str, int] = {}
        flagged = 0
        reps = [m for m in members if not m.anonymous or sums.get(m.user_id)]
        for i, member in enumerate(reps, 1):
            values = sums.get(member.user_id, {})
            for key, n in values.items():
                totals[key] = totals.get(key, 0) + n
            cells = []
            for metric in columns:
                value = values.get(metric.key, 0)
                target = targets.get(metric.key)
                mark = "" if target is None else ("✅" if value >= target else "")
                cells.append(f"{metric.abbr(lang)} {value}" + (f"/{target}" if target is not None else "") + mark)
            met = sum(1 for k, target in targets.items() if values.get(k, 0) >= target)
            h = health.get(member.user_id, CustomerHealth())
            if h.orphans:
                flagged += 1
            blocks.append(self.t(lang, "team_rep_block", i=i, name=display_name(self.engine, lang, member),
                                 met=met, targets=len(targets), cells=" · ".join(cells),
                                 idle=not values, anonymous=member.anonymous, customers=h.total,
                                 coverage=pct(h.covered, h.total), orphans=h.orphans))
        header = self.t(lang, "team_header", team=team.name, label=period.label, span=period_span(period, lang),
                        reps=sum(1 for m in members if not m.anonymous))
        if not reps:
            body = self.t(lang, "team_no_reps")
        else:
            total_cells = " · ".join(f"{m.abbr(lang)} {totals.get(m.key, 0)}" for m in columns)
            body = "\n\n".join(blocks) + "\n\n" + self.t(lang, "team_totals", cells=total_cells)
            if flagged:
                body += "\n" + self.t(lang, "team_orphans_flag", n=flagged, days=self.catalog.orphans.days)
        legend = self.t(lang, "team_legend", targets=bool(targets))
        previous = period.shift(-1)
        nav = [Button(self.t(lang, "team_prev_button", label=previous.label), f"{MG_PREFIX}:t:{previous.label}")]
        current = week_containing(turn.now, team.timezone)
        if period.kind == "week" and period.start < current.start:
            following = period.shift(1)
            nav.append(Button(self.t(lang, "team_next_button", label=following.label),
                              f"{MG_PREFIX}:t:{following.label}"))
        buttons = [nav, *await switch_buttons(self.engine, turn, team, "team")]
        return [OutboundMessage(f"{header}\n{legend}\n\n{body}", buttons=buttons)]

    # ----- /rep NAME --------------------------------------------------------------------------
    async def rep(self, turn: Turn, dialog: DialogState | None) -> list[OutboundMessage]:
        lang = turn.lang
        managed = await resolve_team(self.engine, turn, "rep")
        if not isinstance(managed, Managed):
            return managed
        team = managed.team
        reps = await teams_repo(turn).members(team.id, ("rep",))
        query = turn.event.args.strip()
        if not query:
            if not reps:
                return [OutboundMessage(self.t(lang, "team_no_reps"))]
            return [OutboundMessage(self.t(lang, "rep_pick", team=team.name), buttons=self._rep_buttons(reps))]
        found = find_members(reps, query[:128])
        if not found:
            return [OutboundMessage(self.t(lang, "rep_not_found", name=query[:40], team=team.name),
                                    buttons=self._rep_buttons(reps))]
        if len(found) > 1:
            return [OutboundMessage(self.t(lang, "rep_pick", team=team.name), buttons=self._rep_buttons(found))]
        return [await self._rep_view(turn, managed, found[0])]

    def _rep_buttons(self, reps: list[MemberInfo]) -> list[list[Button]]:
        buttons = [Button(m.name[:30] or str(m.telegram_id), f"{MG_PREFIX}:r:{m.user_id}") for m in reps[:24]]
        return [buttons[i:i + 3] for i in range(0, len(buttons), 3)]

    async def _rep_view(self, turn: Turn, managed: Managed, member: MemberInfo) -> OutboundMessage:
        lang, team = turn.lang, managed.team
        weeks = weeks_ending(week_containing(turn.now, team.timezone), REP_WEEKS)
        bounds = [w.start for w in weeks] + [weeks[-1].end]
        repo = metrics_repo(turn)
        series = await repo.user_weekly(member.user_id, bounds)
        targets = await teams_repo(turn).targets(team.id)
        current = weeks[-1]
        cut = orphan_cut(turn.now, self.catalog)
        health = await repo.user_health(member.user_id, current.start, current.end, cut)
        lines = []
        for metric in self.catalog.metrics:
            values = series.get(metric.key, [0] * REP_WEEKS)
            target = targets.get(metric.key)
            if not any(values) and target is None:
                continue
            lines.append(self.t(lang, "rep_series_line", name=metric.label(lang),
                                values=" · ".join(str(v) for v in values), total=sum(values), target=target,
                                met=sum(1 for v in values if target is not None and v >= target)))
        orphans = await repo.orphans(Customer.owner_id == member.user_id, cut)
        scores = await scores_by_user(turn.store.session, [member.user_id], weeks[0].start, current.end)
        score = scores.get(member.user_id)
        visits = [sum(series.get(k, [0] * REP_WEEKS)[i] for k in self.catalog.visit_metrics)
                  for i in range(REP_WEEKS)]
        deals = sum(series.get("deals", [0] * REP_WEEKS))
        text = self.t(
            lang, "rep_view_manager", name=member.name, team=team.name, first=weeks[0].label, last=current.label,
            lines="\n".join(lines) if lines else self.t(lang, "rep_series_empty"),
            customers=health.total, coverage=pct(health.covered, health.total),
            orphans=len(orphans), orphan_names="、".join(o.name for o in orphans[:5]) if lang == "zh"
            else ", ".join(o.name for o in orphans[:5]), days=self.catalog.orphans.days,
            visits=sum(visits), deals=deals, per_deal=fmt_num(sum(visits) / deals) if deals else None,
            sessions=score.sessions if score else None, average=fmt_num(round(score.average, 1)) if score else None,
        )
        return OutboundMessage(text)

    # ----- /funnel [weeks] --------------------------------------------------------------------
    async def funnel(self, turn: Turn, dialog: DialogState | None) -> list[OutboundMessage]:
        lang = turn.lang
        managed = await resolve_team(self.engine, turn, "funnel")
        if not isinstance(managed, Managed):
            return managed
        team = managed.team
        arg = turn.event.args.strip()
        current = week_containing(turn.now, team.timezone)
        if not arg:
            weeks = FUNNEL_WEEKS
        elif arg.isdigit() and 1 <= int(arg) <= 52:
            weeks = int(arg)
        else:
            return [OutboundMessage(self.t(lang, "funnel_usage"))]
        first = current.shift(1 - weeks)
        stages = self.catalog.funnel.stages
        sums = await metrics_repo(turn).team_sums(team.id, first.start, current.end, stages)
        totals = {k: sum(v.get(k, 0) for v in sums.values()) for k in stages}
        lines = []
        norms = {(n.from_, n.to): n.per for n in self.catalog.funnel.norms}
        below = False
        for i, key in enumerate(stages):
            lines.append(self.t(lang, "funnel_stage", name=self.catalog[key].label(lang), value=totals[key]))
            if i + 1 < len(stages):
                nxt = stages[i + 1]
                per = norms.get((key, nxt))
                actual = totals[nxt] / totals[key] if totals[key] else None
                ok = None if per is None or actual is None else actual >= 1 / per
                below = below or ok is False
                lines.append(self.t(lang, "funnel_step", rate=pct(totals[nxt], totals[key]),
                                    per=fmt_num(per) if per else None,
                                    norm=pct(1, per) if per else None, ok=ok,
                                    expected=fmt_num(round(totals[key] / per, 1)) if per else None))
        members = {m.user_id: m for m in await teams_repo(turn).members(team.id, ("rep", "anonymous"))}
        per_rep = []
        for user_id, values in sorted(sums.items(), key=lambda kv: -kv[1].get(stages[-1], 0)):
            member = members.get(user_id)
            if member is None:
                continue
            chain = " → ".join(str(values.get(k, 0)) for k in stages)
            per_rep.append(f"• {display_name(self.engine, lang, member)}: {chain}")
        text = self.t(lang, "funnel_header", team=team.name, weeks=weeks, first=first.label, last=current.label,
                      legend=" → ".join(self.catalog[k].abbr(lang) for k in stages))
        text += "\n\n" + "\n".join(lines)
        if below:
            text += "\n\n" + self.t(lang, "funnel_below")
        if per_rep:
            text += "\n\n" + self.t(lang, "funnel_by_rep") + "\n" + "\n".join(per_rep[:40])
        buttons = [[Button(self.t(lang, "funnel_read_button"), f"k:{self.catalog.funnel.knowledge}")],
                   *await switch_buttons(self.engine, turn, team, "funnel")]
        return [OutboundMessage(text, buttons=buttons)]

    # ----- /leaderboard METRIC [period] -------------------------------------------------------
    async def leaderboard(self, turn: Turn, dialog: DialogState | None) -> list[OutboundMessage]:
        lang = turn.lang
        managed = await resolve_team(self.engine, turn, "leaderboard")
        if not isinstance(managed, Managed):
            return managed
        team = managed.team
        words = turn.event.args.split()
        if not words:
            return [OutboundMessage(self.t(lang, "leaderboard_pick"),
                                    buttons=metric_buttons(self.catalog, lang, f"{MG_PREFIX}:l:", per_row=3))]
        period_text = ""
        metric = self.catalog.resolve(" ".join(words))
        if metric is None and len(words) > 1:
            metric = self.catalog.resolve(" ".join(words[:-1]))
            period_text = words[-1]
        if metric is None:
            return [OutboundMessage(self.t(lang, "leaderboard_unknown", metric=" ".join(words)[:40]),
                                    buttons=metric_buttons(self.catalog, lang, f"{MG_PREFIX}:l:", per_row=3))]
        period = parse_period(period_text, team.timezone, turn.now)
        if period is None:
            return [OutboundMessage(self.t(lang, "team_bad_period"))]
        return [await self._leaderboard(turn, managed, metric.key, period)]

    async def _leaderboard(self, turn: Turn, managed: Managed, key: str, period: Period) -> OutboundMessage:
        lang, team = turn.lang, managed.team
        metric = self.catalog[key]
        reps = await teams_repo(turn).members(team.id, ("rep",))
        sums = await metrics_repo(turn).team_sums(team.id, period.start, period.end, [key])
        ranked = sorted(reps, key=lambda m: (-sums.get(m.user_id, {}).get(key, 0), m.name))
        medals = ["🥇", "🥈", "🥉"]
        lines, idle = [], []
        rank, previous = 0, None
        for i, member in enumerate(ranked):
            value = sums.get(member.user_id, {}).get(key, 0)
            if not value:
                idle.append(member.name)
                continue
            if value != previous:
                rank, previous = i + 1, value
            badge = medals[rank - 1] if rank <= 3 else f"{rank}."
            lines.append(f"{badge} {member.name} — {value}")
        text = self.t(lang, "leaderboard_header", metric=metric.label(lang), team=team.name, label=period.label,
                      span=period_span(period, lang))
        text += "\n" + ("\n".join(lines) if lines else self.t(lang, "leaderboard_empty"))
        if idle and lines:
            text += "\n" + self.t(lang, "leaderboard_idle", names=("、" if lang == "zh" else ", ").join(idle[:30]))
        return OutboundMessage(text)

    # ----- /roleplays -------------------------------------------------------------------------
    async def roleplays(self, turn: Turn, dialog: DialogState | None) -> list[OutboundMessage]:
        lang = turn.lang
        managed = await resolve_team(self.engine, turn, "roleplays")
        if not isinstance(managed, Managed):
            return managed
        team = managed.team
        current = week_containing(turn.now, team.timezone)
        first = current.shift(1 - ROLEPLAY_WEEKS)
        reps = await teams_repo(turn).members(team.id, ("rep",))
        sums = await metrics_repo(turn).team_sums(team.id, first.start, current.end, ["roleplays"])
        scores = await scores_by_user(turn.store.session, [m.user_id for m in reps], first.start, current.end)
        rows = []
        for member in reps:
            sessions = sums.get(member.user_id, {}).get("roleplays", 0)
            score = scores.get(member.user_id)
            rows.append((score.average if score else -1, sessions, member, score))
        rows.sort(key=lambda r: (-r[0], -r[1], r[2].name))
        lines = [self.t(lang, "roleplays_line", name=m.name, sessions=max(n, s.sessions if s else 0),
                        average=fmt_num(round(s.average, 1)) if s else None,
                        best=fmt_num(round(s.best, 1)) if s else None) for _avg, n, m, s in rows]
        text = self.t(lang, "roleplays_header", team=team.name, weeks=ROLEPLAY_WEEKS, first=first.label,
                      last=current.label)
        text += "\n" + ("\n".join(lines) if lines else self.t(lang, "team_no_reps"))
        if not scores:
            text += "\n\n" + self.t(lang, "roleplays_no_scores")
        return [OutboundMessage(text)]

    # ----- /targets [METRIC N] ----------------------------------------------------------------
    async def targets(self, turn: Turn, dialog: DialogState | None) -> list[OutboundMessage]:
        lang = turn.lang
        managed = await resolve_team(self.engine, turn, "targets")
        if not isinstance(managed, Managed):
            return managed
        team = managed.team
        repo = teams_repo(turn)
        words = turn.event.args.split()
        if not words:
            current = await repo.targets(team.id)
            lines = [self.t(lang, "targets_line", name=self.catalog[k].label(lang), mkey=k, value=v)
                     for k, v in current.items() if self.catalog.get(k)]
            text = self.t(lang, "targets_header", team=team.name)
            text += "\n" + ("\n".join(lines) if lines else self.t(lang, "targets_none"))
            return [OutboundMessage(text + "\n\n" + self.t(lang, "targets_usage"))]
        if len(words) < 2:
            return [OutboundMessage(self.t(lang, "targets_usage"))]
        metric = self.catalog.resolve(" ".join(words[:-1]))
        if metric is None:
            return [OutboundMessage(self.t(lang, "targets_unknown", metric=" ".join(words[:-1])[:40]))]
        raw = words[-1].lower()
        limit = metric.max * MAX_TARGET_FACTOR
        if raw in ("off", "none", "clear", "清除", "取消"):
            value = 0
        elif raw.isdigit() and int(raw) <= limit:
            value = int(raw)
        else:
            return [OutboundMessage(self.t(lang, "targets_bad_value", max=limit, metric=metric.label(lang),
                                           mkey=metric.label(lang)))]
        await repo.set_target(team.id, metric.key, value or None, turn.user.id)
        return [OutboundMessage(self.t(lang, "targets_done", name=metric.label(lang), value=value, team=team.name))]

    # ----- buttons (mg:…) ---------------------------------------------------------------------
    async def button(self, turn: Turn, dialog: DialogState | None, rest: str) -> list[OutboundMessage] | None:
        """mg:t:<week> team week · mg:r:<user> one rep · mg:l:<metric> leaderboard. Checked like commands."""
        kind, _, payload = rest.partition(":")
        if kind == "t" and len(payload) <= 10:
            managed = await resolve_team(self.engine, turn, "team")
            if not isinstance(managed, Managed):
                return managed
            if parse_period(payload, managed.team.timezone, turn.now) is None:
                return None
            return await self.team(rerun(turn, "team", payload), dialog)
        if kind == "r" and payload.isdigit():
            managed = await resolve_team(self.engine, turn, "rep")
            if not isinstance(managed, Managed):
                return managed
            reps = await teams_repo(turn).members(managed.team.id, ("rep",))
            member = next((m for m in reps if m.user_id == int(payload)), None)
            if member is None:
                return None
            return [await self._rep_view(turn, managed, member)]
        if kind == "l" and self.catalog.get(payload) is not None:
            managed = await resolve_team(self.engine, turn, "leaderboard")
            if not isinstance(managed, Managed):
                return managed
            period = week_containing(turn.now, managed.team.timezone)
            return [await self._leaderboard(turn, managed, payload, period)]
        return None


def install(engine: Engine) -> ManagerViews:
    feature = ManagerViews(engine)
    engine.add_command("team", feature.team)
    engine.add_command("rep", feature.rep)
    engine.add_command("funnel", feature.funnel)
    engine.add_command("leaderboard", feature.leaderboard)
    engine.add_command("roleplays", feature.roleplays)
    engine.add_command("targets", feature.targets)
    engine.add_button(MG_PREFIX, feature.button)
    return feature
