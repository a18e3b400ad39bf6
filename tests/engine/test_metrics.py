"""Weekly metrics as reps and managers see them: weeks in the team's zone, targets, coverage and orphan
customers, the manager's views, charts, exports and the report command line."""

from __future__ import annotations

import io
import json
from datetime import UTC, datetime

import openpyxl
import pytest

from bot.engine.periods import parse_week, week_containing
from bot.reports.cli import run_report
from bot.runtime import Runtime
from tests.engine.teams_helpers import build_team, person
from tests.helpers import Clock, Rep


def test_iso_weeks_follow_the_team_time_zone() -> None:
    sunday_night = datetime(2026, 11, 29, 15, 30, tzinfo=UTC)  # 23:30 Sunday in Shanghai
    monday_early = datetime(2026, 11, 29, 16, 30, tzinfo=UTC)  # 00:30 Monday in Shanghai
    assert week_containing(sunday_night, "Asia/Shanghai").label == "2026-W48"
    assert week_containing(monday_early, "Asia/Shanghai").label == "2026-W49"
    assert week_containing(monday_early, "Europe/Berlin").label == "2026-W48"
    assert parse_week("2026-W53", "UTC") is not None and parse_week("2025-W53", "UTC") is None
    assert parse_week("2027W01", "UTC").first_day.isoformat() == "2027-01-04"  # type: ignore[union-attr]


async def test_week_counts_in_the_teams_zone_and_compares_with_last_week(team_runtime: Runtime, clock: Clock) -> None:
    _admin, lilei, _han, manager = await build_team(team_runtime)
    await manager.say("/targets 电话 10")
    clock.now = datetime(2026, 11, 22, 15, 30, tzinfo=UTC)  # Sunday 23:30 in Shanghai: last week
    await lilei.say("/log 电话 4")
    clock.now = datetime(2026, 11, 22, 16, 30, tzinfo=UTC)  # Monday 00:30: this week
    await lilei.say("/log 电话 12")
    await lilei.say("/week")
    assert "2026-W48" in lilei.last
    line = next(x for x in lilei.last.splitlines() if "电话" in x)
    assert "12" in line and "目标 10" in line and "✅" in line and "上期 4" in line
    assert "达标 1/1" in lilei.last


async def test_week_offers_the_self_check_and_month_sums_the_month(rep: Rep, runtime: Runtime, clock: Clock) -> None:
    await rep.say("/log 名片 3")
    clock.advance(days=7)
    await rep.say("/log 名片 2")
    await rep.say("/week")
    if "weekcheck" in runtime.content.flows:
        assert rep.button("自查").data == "x:weekcheck"
    await rep.say("/month")
    line = next(x for x in rep.last.splitlines() if "名片" in x)
    assert "5" in line and "2026-11" in rep.last


async def test_coverage_and_orphan_customers(team_runtime: Runtime, clock: Clock) -> None:
    _admin, lilei, _han, manager = await build_team(team_runtime)
    await lilei.say("/log 拜访 1 华为技术")
    await lilei.say("/log 电话 1 中兴通讯")
    await lilei.say("/orphans")
    assert lilei.last.startswith("✅")
    clock.advance(days=29)
    await lilei.say("/log 电话 1 华为技术")
    await lilei.say("/week")
    assert "50%" in lilei.last and "孤儿客户 1" in lilei.last
    await lilei.say("/orphans")
    assert "中兴通讯" in lilei.last and "华为技术" not in lilei.last
    await manager.say("/team")
    assert "孤儿 1" in manager.last and "覆盖 50%" in manager.last
    await manager.say("/rep 李雷")
    assert "中兴通讯" in manager.last


async def test_manager_team_table_and_targets(team_runtime: Runtime) -> None:
    _admin, lilei, hanmeimei, manager = await build_team(team_runtime)
    await manager.say("/targets 拜访 3")
    assert manager.last.startswith("✅")
    for bad in ("/targets 飞机 3", "/targets 拜访 -1", "/targets 拜访 99999", "/targets 拜访 两"):
        await manager.say(bad)
        assert manager.last.startswith("⚠️"), bad
    await lilei.say("/log 拜访 3")
    await lilei.say("/log 电话 20")
    await hanmeimei.say("/log 拜访 1")
    await manager.say("/team")
    table = manager.last
    lilei_block = table.split("李雷")[1].split("韩梅梅")[0]
    assert "初访 3/3✅" in lilei_block and "电话 20" in lilei_block and "达标 1/1" in lilei_block
    assert "初访 1/3" in table.split("韩梅梅")[1]
    assert "合计" in table and "初访 4" in table.split("合计")[1]
    await manager.say("/team 2026-W99")
    assert manager.last.startswith("⚠️")
    await manager.say("/targets")
    assert "首次拜访" in manager.last and "3" in manager.last


async def test_rep_history_funnel_and_leaderboard(team_runtime: Runtime, clock: Clock) -> None:
    _admin, lilei, hanmeimei, manager = await build_team(team_runtime)
    clock.advance(days=-14)
    await lilei.say("/log 有效信息 30")
    clock.advance(days=14)
    await lilei.say("/log 电话 7")
    await lilei.say("/log 准客户 1")
    await hanmeimei.say("/log 电话 9")
    await manager.say("/rep 李雷")
    assert "2026-W41 → 2026-W48" in manager.last
    calls = next(x for x in manager.last.splitlines() if x.startswith("电话"))
    assert calls.split(":")[1].startswith("0 · 0 · 0 · 0 · 0 · 0 · 0 · 7")
    await manager.say("/rep 李")  # part of a name is enough when it is unique
    assert "👤 李雷" in manager.last
    await manager.say("/funnel")
    assert "有效信息:30" in manager.last and "准客户:1" in manager.last
    assert "15:1" in manager.last and "⚠️" in manager.last  # 30 effective → 1 quasi is below 1 in 15
    await manager.say("/funnel 0")
    assert manager.last.startswith("⚠️")
    await manager.say("/leaderboard 电话")
    lines = manager.last.splitlines()
    assert "🥇 韩梅梅 — 9" in lines and "🥈 李雷 — 7" in lines
    await manager.say("/leaderboard")
    await manager.press("成交")
    assert "还没有人" in manager.last


async def test_chart_is_a_png_and_export_a_workbook_with_the_numbers(team_runtime: Runtime) -> None:
    _admin, lilei, hanmeimei, manager = await build_team(team_runtime)
    await lilei.say("/log 电话 11 华为技术")
    await hanmeimei.say("/log 电话 4")
    await manager.say("/chart 电话 6")
    png = manager.replies[0].attachment
    assert png is not None and png.kind == "photo" and png.content.startswith(b"\x89PNG\r\n\x1a\n")
    assert len(png.content) > 10_000
    await manager.say("/chart 电话 99")
    assert manager.last.startswith("⚠️")
    await manager.say("/export")
    doc = manager.replies[0].attachment
    assert doc is not None and doc.filename.endswith(".xlsx")
    book = openpyxl.load_workbook(io.BytesIO(doc.content))
    assert len(book.sheetnames) == 6 and "客户信息记录表" in book.sheetnames
    metrics = book.worksheets[-1]
    rows = {r[0]: r for r in metrics.iter_rows(min_row=4, values_only=True)}
    header = next(metrics.iter_rows(min_row=3, max_row=3, values_only=True))
    calls = header.index("电话")
    assert rows["李雷"][calls] == 11 and rows["韩梅梅"][calls] == 4 and rows["合计"][calls] == 15
    customers = book["客户信息记录表"]
    assert any("华为技术" in (row or ()) for row in customers.iter_rows(values_only=True))
    await manager.say("/export 2026-13")
    assert manager.last.startswith("⚠️")


async def test_roleplays_view_degrades_to_session_counts(team_runtime: Runtime) -> None:
    _admin, lilei, _han, manager = await build_team(team_runtime)
    await lilei.say("/log 角色扮演 2")
    await manager.say("/roleplays")
    assert "李雷" in manager.last and "2" in manager.last.split("李雷")[1].splitlines()[0]


@pytest.mark.parametrize("as_json", [True, False])
async def test_report_command_line(team_runtime: Runtime, as_json: bool, capsys: pytest.CaptureFixture[str]) -> None:
    _admin, lilei, hanmeimei, _manager = await build_team(team_runtime)
    await lilei.say("/log 电话 6")
    await hanmeimei.say("/log 成交 1")
    loner = person(team_runtime, 5005, "独行侠")
    await loner.say("/log 名片 2")
    out, err = io.StringIO(), io.StringIO()
    import asyncio

    week = week_containing(team_runtime.engine.clock(), "Asia/Shanghai").label
    code = await asyncio.to_thread(run_report, team_runtime.settings, as_json, week, None, out, err)
    assert code == 0, err.getvalue()
    if as_json:
        report = json.loads(out.getvalue())
        assert report["week"] == week
        by_name = {r["name"]: r for r in report["reps"]}
        assert by_name["李雷"]["metrics"]["calls"] == 6 and by_name["李雷"]["team"] == "华东一组"
        assert by_name["韩梅梅"]["metrics"]["deals"] == 1 and by_name["韩梅梅"]["telegram_id"] == 1002
        assert by_name["独行侠"]["team"] is None and by_name["独行侠"]["metrics"]["cards"] == 2
        assert set(by_name["李雷"]["metrics"]) == set(team_runtime.content.metrics.keys)
        assert "王经理" not in by_name
    else:
        text = out.getvalue()
        assert "李雷" in text and "华东一组" in text and week in text
    bad = io.StringIO()
    assert await asyncio.to_thread(run_report, team_runtime.settings, True, "2026-W99", None, io.StringIO(), bad) == 2
    assert "--week" in bad.getvalue()
    assert await asyncio.to_thread(run_report, team_runtime.settings, True, None, "没有这个团队", io.StringIO(),
                                   bad) == 2


async def test_roleplays_view_reads_stored_scorecards(team_runtime: Runtime, clock: Clock) -> None:
    """Scores by rep come from the role-play feature's scorecard table, whatever else it stores."""
    import sqlalchemy as sa

    from db.store_scores import scorecard_table

    found = scorecard_table()
    if found is None:
        pytest.skip("the role-play feature stores no scorecards yet")
    table, total, when = found
    _admin, lilei, _han, manager = await build_team(team_runtime)
    await lilei.say("/log 角色扮演 1")

    def filler(column: sa.Column[object], user_id: int, parent: dict[str, int]) -> object:
        fk = next(iter(column.foreign_keys), None)
        if column.name == "user_id":
            return user_id
        if fk is not None:
            return parent.get(fk.column.table.name) if not column.nullable else None
        if isinstance(column.type, sa.JSON):
            return {}
        if isinstance(column.type, sa.DateTime | sa.types.TypeDecorator):
            return clock.now
        python = column.type.python_type
        return {int: 70, float: 0.5, str: "x", bool: False}.get(python, "x")

    async with team_runtime.sessions() as session:
        user_id = await session.scalar(sa.text("SELECT id FROM users WHERE telegram_id = 1001"))
        for score in (70, 90):  # each scorecard with its own parent rows (e.g. its session)
            parent: dict[str, int] = {}
            for fk in {f.column.table for c in table.columns if not c.nullable for f in c.foreign_keys} - {table}:
                if fk.name == "users":
                    continue
                values = {c.name: filler(c, int(user_id), parent) for c in fk.columns if not c.primary_key}
                inserted = await session.execute(sa.insert(fk).values(values).returning(fk.c.id))
                parent[fk.name] = int(inserted.scalar_one())
            values = {c.name: filler(c, int(user_id), parent) for c in table.columns if not c.primary_key}
            values[total] = score
            values[when] = clock.now
            await session.execute(sa.insert(table).values(values))
        await session.commit()
    await manager.say("/roleplays")
    line = next(x for x in manager.last.splitlines() if "李雷" in x)
    assert "平均 80" in line and "最高 90" in line
