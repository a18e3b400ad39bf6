"""`salescoach report [--json] [--week YYYY-Www] [--team NAME]`: weekly metrics per rep.

JSON (DESIGN.md "Command-line contract"): {"week", "reps": [{"telegram_id", "name", "team", "metrics"}]},
every metric key present (0 when nothing was logged). Reps are the members with the rep role of every
team (or of --team), plus users without a team who recorded activity that week. Weeks are ISO weeks in
each team's time zone (SALESCOACH_TZ for reps without a team). Without --json: a plain table.
"""

from __future__ import annotations

import asyncio
import json
import unicodedata
from typing import Any, TextIO

from sqlalchemy import select

from bot.config import Settings
from bot.engine.metrics import MetricCatalog, load_metrics
from bot.engine.periods import Period, parse_week, week_containing
from db.models import ActivityEvent, Membership, User
from db.session import create_engine, make_sessionmaker, upgrade_async
from db.store import utcnow
from db.store_metrics import Metrics
from db.store_teams import Teams


class ReportError(Exception):
    """A bad argument (unknown team, malformed week), told in one line."""


async def build_report(settings: Settings, catalog: MetricCatalog, week: str | None,
                       team_name: str | None) -> dict[str, Any]:
    if week is not None and parse_week(week, settings.timezone) is None:
        raise ReportError(f"--week {week!r}: expected an ISO week such as 2026-W07")
    await upgrade_async(settings.database_url)
    engine = create_engine(settings.database_url)
    try:
        async with make_sessionmaker(engine)() as session:
            teams_repo, metrics = Teams(session), Metrics(session)
            teams = await teams_repo.all()
            if team_name is not None:
                wanted = await teams_repo.by_name(team_name)
                if wanted is None:
                    raise ReportError(f"--team {team_name!r}: no such team")
                teams = [wanted]
            label = ""
            reps: list[dict[str, Any]] = []
            seen: set[int] = set()
            for team in teams:
                period = _week(week, team.timezone)
                label = period.label
                sums = await metrics.team_sums(team.id, period.start, period.end)
                for member in await teams_repo.members(team.id, ("rep",)):
                    seen.add(member.user_id)
                    reps.append(_rep(member.telegram_id, member.name, team.name, sums.get(member.user_id, {}),
                                     catalog))
            if team_name is None:
                period = _week(week, settings.timezone)
                label = period.label
                in_team = select(Membership.user_id)
                loose = await metrics.sums(ActivityEvent.user_id.not_in(in_team), period.start, period.end)
                if loose:
                    names = {uid: (tid, name) for uid, tid, name in await session.execute(
                        select(User.id, User.telegram_id, User.name).where(User.id.in_(list(loose))))}
                    for uid, values in sorted(loose.items()):
                        if uid in seen or uid not in names:
                            continue
                        tid, name = names[uid]
                        reps.append(_rep(int(tid), str(name), None, values, catalog))
            if not label:
                label = _week(week, settings.timezone).label
            return {"week": label, "reps": reps}
    finally:
        await engine.dispose()


def _week(week: str | None, tz: str) -> Period:
    if week is None:
        return week_containing(utcnow(), tz)
    period = parse_week(week, tz)
    if period is None:
        raise ReportError(f"--week {week!r}: expected an ISO week such as 2026-W07")
    return period


def _rep(telegram_id: int, name: str, team: str | None, values: dict[str, int],
         catalog: MetricCatalog) -> dict[str, Any]:
    return {"telegram_id": telegram_id, "name": name, "team": team,
            "metrics": {key: int(values.get(key, 0)) for key in catalog.keys}}


def _width(text: str) -> int:
    return sum(2 if unicodedata.east_asian_width(ch) in ("W", "F") else 1 for ch in text)


def _pad(text: str, width: int, right: bool = False) -> str:
    space = " " * max(0, width - _width(text))
    return space + text if right else text + space


def format_table(report: dict[str, Any], catalog: MetricCatalog) -> str:
    """A plain text table: one line per rep, one column per metric (English short labels)."""
    keys = catalog.keys
    heads = ["name", "team", *(catalog[k].abbr("en") for k in keys)]
    rows = [[r["name"] or str(r["telegram_id"]), r["team"] or "-", *(str(r["metrics"][k]) for k in keys)]
            for r in report["reps"]]
    widths = [max([_width(h)] + [_width(row[i]) for row in rows]) for i, h in enumerate(heads)]
    lines = [f"week {report['week']}: {len(rows)} rep(s)",
             "  ".join(_pad(h, widths[i], i >= 2) for i, h in enumerate(heads))]
    lines += ["  ".join(_pad(cell, widths[i], i >= 2) for i, cell in enumerate(row)) for row in rows]
    if rows:
        totals = [sum(r["metrics"][k] for r in report["reps"]) for k in keys]
        lines.append("  ".join(_pad(cell, widths[i], i >= 2) for i, cell in
                               enumerate(["total", "", *(str(t) for t in totals)])))
    return "\n".join(lines)


def run_report(settings: Settings, as_json: bool, week: str | None, team: str | None, stdout: TextIO,
               stderr: TextIO) -> int:
    catalog = load_metrics(settings.knowledge_dir / "metrics.yaml")
    try:
        report = asyncio.run(build_report(settings, catalog, week, team))
    except ReportError as exc:
        stderr.write(f"salescoach report: {exc}\n")
        return 2
    if as_json:
        stdout.write(json.dumps(report, ensure_ascii=False) + "\n")
    else:
        stdout.write(format_table(report, catalog) + "\n")
    return 0
