"""/privacy, /mydata and /forgetme: a rep sees what is stored, gets their own data, and can delete it while
the team's totals keep anonymous counts."""

from __future__ import annotations

import json

from sqlalchemy import func, select

from bot.runtime import Runtime
from db.models import ActivityEvent, Customer, Membership, User
from tests.engine.teams_helpers import build_team, event_total
from tests.helpers import Clock, Rep


async def test_privacy_says_what_is_stored(rep: Rep, en_rep: Rep) -> None:
    await rep.say("/privacy")
    assert "经理" in rep.last and "/mydata" in rep.last and "/forgetme" in rep.last
    await en_rep.say("/privacy")
    assert "manager" in en_rep.last and "/forgetme" in en_rep.last


async def test_mydata_sends_only_the_reps_own_data(rep: Rep, en_rep: Rep) -> None:
    await rep.say("/log 拜访 1 华为技术")
    await en_rep.say("/log calls 3 Secret Customer")
    await rep.say("/mydata")
    doc = rep.replies[0].attachment
    assert doc is not None and doc.filename.endswith(".json")
    data = json.loads(doc.content)
    assert data["user"]["telegram_id"] == rep.user_id
    assert [c["name"] for c in data["tables"]["customers"]] == ["华为技术"]
    assert [e["kind"] for e in data["tables"]["activity_events"]] == ["visits_first"]
    assert "Secret Customer" not in doc.content.decode()


async def test_forgetme_deletes_after_confirmation_and_team_totals_stay(team_runtime: Runtime) -> None:
    _admin, lilei, _han, manager = await build_team(team_runtime)
    await lilei.say("/log 电话 8 华为技术")
    await lilei.say("/log 成交 1")
    await manager.say("/team")
    before = manager.last.split("合计")[1]
    await lilei.say("/forgetme")
    assert lilei.last.startswith("⚠️") and "华东一组" in lilei.last
    await lilei.press("取消")
    assert lilei.last.startswith("✅") and await event_total(team_runtime, "calls") == 8
    await lilei.say("/forgetme")
    await lilei.press("确认删除")
    assert lilei.last.startswith("✅")
    async with team_runtime.sessions() as session:
        assert await session.scalar(select(func.count()).select_from(User).where(User.telegram_id == 1001)) == 0
        assert await session.scalar(select(func.count()).select_from(Customer)) == 0
        events = (await session.scalars(select(ActivityEvent))).all()
        assert {e.customer_id for e in events} == {None}
        anonymous = await session.scalar(select(User).where(User.id == events[0].user_id))
        assert anonymous is not None and anonymous.name == "" and anonymous.telegram_id < 0
        role = await session.scalar(select(Membership.role).where(Membership.user_id == anonymous.id))
        assert role == "anonymous"
    assert await event_total(team_runtime, "calls") == 8
    await manager.say("/team")
    assert manager.last.split("合计")[1] == before  # the team's numbers are unchanged
    assert "李雷" not in manager.last and "匿名" in manager.last
    await manager.say("/rep 李雷")
    assert manager.last.startswith("⚠️")
    await lilei.say("/week")  # a fresh start, with nothing from before
    assert "还没有记录" in lilei.last


async def test_forget_without_a_team_deletes_the_events_and_stale_confirmations_expire(
    rep: Rep, runtime: Runtime, clock: Clock
) -> None:
    await rep.say("/log 电话 3")
    await rep.say("/forgetme")
    clock.advance(minutes=11)
    await rep.press("确认删除")
    assert rep.last.startswith("⚠️") and await event_total(runtime) == 3
    await rep.say("/forgetme")
    await rep.press("确认删除")
    assert rep.last.startswith("✅") and await event_total(runtime) == 0
    await rep.press_data("pv:f:notanumber")
    assert rep.last.startswith("⚠️")
