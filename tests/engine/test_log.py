"""/log and /undo as a rep uses them: typed, with buttons, in both languages, and every bad input refused."""

from __future__ import annotations

import pytest
from sqlalchemy import select

from bot.runtime import Runtime
from db.models import ActivityEvent, Customer
from tests.engine.teams_helpers import event_total
from tests.helpers import Rep


async def test_log_typed_with_chinese_aliases_and_traditional_script(rep: Rep, runtime: Runtime) -> None:
    await rep.say("/log 电话 5")
    assert rep.last.startswith("✅") and "电话" in rep.last and "合计 5" in rep.last
    await rep.say("/log 電話 2")  # Traditional Chinese
    assert "合计 7" in rep.last
    await rep.say("/log calls 3")
    assert "合计 10" in rep.last
    await rep.say("/log 电话4")  # no space
    assert "合计 14" in rep.last
    await rep.say("/log 二次拜访 1")
    await rep.say("/log 准客户 1")
    await rep.say("/log 要求购买 2")
    assert await event_total(runtime, "calls") == 14
    assert await event_total(runtime, "visits_second") == 1
    assert await event_total(runtime, "quasi_customers") == 1
    assert await event_total(runtime, "purchase_asks") == 2


async def test_english_rep_logs_with_multiword_aliases(en_rep: Rep, runtime: Runtime) -> None:
    await en_rep.say("/log next meeting 2")
    assert en_rep.last.startswith("✅") and "Next-meeting" in en_rep.last
    await en_rep.say("/log effective leads 3")
    assert await event_total(runtime, "next_meetings") == 2
    assert await event_total(runtime, "effective_leads") == 3


@pytest.mark.parametrize(
    "command",
    ["/log 电话 -3", "/log 电话 0", "/log 电话 2.5", "/log 电话 99999", "/log 电话 五", "/log 飞机 3", "/log 5",
     "/log 5 电话", "/log 电话 1e3", "/log 成交 21", "/log 电话 3 " + "客" * 150],
)
async def test_bad_log_arguments_are_refused_and_change_nothing(rep: Rep, runtime: Runtime, command: str) -> None:
    await rep.say("/log 电话 1")
    await rep.say(command)
    assert rep.last.startswith("⚠️"), rep.last
    assert "/log" in rep.text or "例如" in rep.text  # the refusal shows how to do it right
    assert await event_total(runtime) == 1


async def test_log_with_buttons_metric_then_amount(rep: Rep, runtime: Runtime) -> None:
    await rep.say("/log")
    await rep.press("名片")
    assert "多少" in rep.last
    await rep.press("3")
    assert rep.last.startswith("✅") and rep.replies[0].edit  # the buttons are replaced: no double logging
    await rep.say("/log")
    await rep.press("更多")
    await rep.press("内线")
    await rep.press("1")
    assert await event_total(runtime, "cards") == 3
    assert await event_total(runtime, "inside_contacts") == 1


@pytest.mark.parametrize("data", ["lg:a:calls:0", "lg:a:calls:301", "lg:a:nope:1", "lg:m:nope", "lg:a:calls:x",
                                  "lg:zzz"])
async def test_forged_log_buttons_are_refused(rep: Rep, runtime: Runtime, data: str) -> None:
    await rep.press_data(data)
    assert rep.last.startswith("⚠️")
    assert await event_total(runtime) == 0


async def test_log_with_a_customer_links_the_event(rep: Rep, runtime: Runtime) -> None:
    await rep.say("/log 拜访 1 华为技术")
    assert "华为技术" in rep.last and "新建" in rep.last
    await rep.say("/log 电话 2 华为")  # a unique part of an existing customer's name
    assert "华为技术" in rep.last and "新建" not in rep.last
    async with runtime.sessions() as session:
        customers = (await session.scalars(select(Customer))).all()
        events = (await session.scalars(select(ActivityEvent))).all()
    assert [c.name for c in customers] == ["华为技术"]
    assert {e.customer_id for e in events} == {customers[0].id}


async def test_undo_takes_back_only_the_reps_own_log_entries(rep: Rep, en_rep: Rep, runtime: Runtime) -> None:
    await rep.say("/undo")
    assert rep.last.startswith("⚠️")
    await rep.say("/log 电话 5")
    await rep.say("/log 名片 2")
    async with runtime.sessions() as session:  # a flow's event, recorded after the /log entries
        from db.store import Store

        store = Store(session, runtime.engine.clock)
        user = await store.users.get_by_telegram(rep.user_id)
        assert user is not None
        await store.activity.add(user.id, "visits_first", 1, source="flow")
        await store.commit()
    await en_rep.say("/log calls 9")
    await rep.say("/undo")
    assert rep.last.startswith("✅") and "名片" in rep.last and "2" in rep.last
    await rep.say("/undo")
    assert "电话" in rep.last
    await rep.say("/undo")
    assert rep.last.startswith("⚠️")
    assert await event_total(runtime, "visits_first") == 1  # the flow's event stays
    assert await event_total(runtime, "calls") == 9  # the other rep's entry stays
