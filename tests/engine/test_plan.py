"""/plan: next week's visits typed one a line, checked, saved per rep and week, shown again."""

from __future__ import annotations

from sqlalchemy import select

from bot.runtime import Runtime
from db.models import Customer, CustomerRecord
from tests.helpers import Clock, Rep

# the clock's Monday is 2026-11-23, so next week is 2026-11-30 … 2026-12-06 (ISO 2026-W49)


async def test_rep_plans_next_week_in_one_message(rep: Rep, runtime: Runtime) -> None:
    await rep.say("/plan")
    assert "2026-11-30 至 2026-12-06" in rep.text and "17:30" in rep.text
    await rep.say("华为 周二 演示方案\n周四 中兴 确认决策人\n大唐 12-04 送样品")
    assert not rep.replies[0].text.startswith("⚠️")
    assert "2026-12-01 周二 · 华为 · 演示方案" in rep.last
    await rep.press("完成")
    await rep.press("保存")
    card = rep.replies[0].text
    assert card.startswith("✅") and "共 3 个拜访" in card
    assert card.index("2026-12-01") < card.index("2026-12-03") < card.index("2026-12-04")
    assert "华为:演示方案" in card
    assert "17:30" in rep.last
    async with runtime.sessions() as session:
        records = (await session.scalars(select(CustomerRecord).where(CustomerRecord.kind == "plan"))).all()
        assert {(r.data["week"], r.data["date"], r.data["purpose"]) for r in records} == {
            ("2026-W49", "2026-12-01", "演示方案"), ("2026-W49", "2026-12-03", "确认决策人"),
            ("2026-W49", "2026-12-04", "送样品"),
        }
        huawei = await session.scalar(select(Customer).where(Customer.name == "华为"))
        assert huawei is not None and huawei.next_visit_at is not None
        assert huawei.next_visit_at.date().isoformat() == "2026-12-01"


async def test_lines_that_do_not_fit_are_refused_with_the_reason(rep: Rep) -> None:
    await rep.say("/plan")
    await rep.say("华为 周二 演示方案\n随便写写\n大唐 本周三 送样\n中兴 周五\n华为 周二 再谈一次")
    refusal = rep.replies[0].text
    assert refusal.startswith("⚠️") and "4 行" in refusal
    assert "没看出是哪天" in refusal and "不在下周" in refusal and "少了拜访目的" in refusal
    assert "已经排了这位客户" in refusal
    assert "华为 · 演示方案" in rep.last and "随便写写" not in rep.last
    await rep.press("完成")
    await rep.press("保存")
    assert "共 1 个拜访" in rep.replies[0].text


async def test_a_plan_needs_at_least_one_visit(rep: Rep) -> None:
    await rep.say("/plan")
    await rep.say("随便写写")
    await rep.press("完成")
    assert rep.replies[0].text.startswith("⚠️")
    assert "拜访谁" in rep.last


async def test_saved_week_is_shown_extended_and_cleared(rep: Rep, runtime: Runtime) -> None:
    await rep.say("/plan")
    await rep.say("华为 周二 演示方案")
    await rep.press("完成")
    await rep.press("保存")
    await rep.say("/plan")
    assert "已经有计划了" in rep.last and "华为:演示方案" in rep.last
    await rep.press("添加拜访")
    await rep.say("联想 周三 技术交流")
    await rep.press("完成")
    await rep.press("保存")
    assert "一共 2 个拜访" in rep.last and "之前保存的 1 个" in rep.last
    await rep.say("/plan")
    assert "联想:技术交流" in rep.last and "华为:演示方案" in rep.last
    await rep.press("清空")
    assert rep.last.startswith("⚠️")  # asks before deleting
    await rep.press("确定清空")
    assert "已清空下周的 2 个拜访" in rep.text and "拜访谁" in rep.last
    async with runtime.sessions() as session:
        assert (await session.scalars(select(CustomerRecord).where(CustomerRecord.kind == "plan"))).all() == []


async def test_plans_are_per_rep_and_per_week(rep: Rep, en_rep: Rep, clock: Clock) -> None:
    await rep.say("/plan")
    await rep.say("华为 周二 演示方案")
    await rep.press("完成")
    await rep.press("保存")
    await rep.say("/plan")
    clear = rep.button("清空").data
    await en_rep.say("/plan")
    assert "already has a plan" not in en_rep.text  # the other rep starts from an empty week
    await en_rep.say("/cancel")
    await en_rep.press_data(clear)
    await en_rep.press_data(clear.replace("clear", "clearok"))
    await rep.say("/plan")
    assert "华为:演示方案" in rep.last  # still there
    clock.advance(days=7)  # a week later the plan is this week's
    await rep.say("/plan 本周")
    assert "本周拜访计划" in rep.last and "华为:演示方案" in rep.last
    await rep.say("/plan")
    assert "拜访谁" in rep.last  # next week is empty again
    await rep.say("/cancel")
    await rep.press_data(clear.replace("clear", "clearok"))  # last week's clear button is stale now
    assert rep.replies[0].text.startswith("⚠️")
    await rep.press_data("pl:bogus")
    assert rep.replies[0].text.startswith("⚠️")
    await rep.say("/plan whenever")
    assert rep.last.startswith("⚠️")


async def test_english_rep_plans_the_week(en_rep: Rep, runtime: Runtime) -> None:
    await en_rep.say("/plan")
    assert "2026-11-30 to 2026-12-06" in en_rep.text
    await en_rep.say("Acme Instruments next Tue demo the new scope\nGlobex Fri meet the decision maker\nInitech soon")
    assert en_rep.replies[0].text.startswith("⚠️") and "no day found" in en_rep.replies[0].text
    await en_rep.press("Done")
    await en_rep.press("Save")
    card = en_rep.replies[0].text
    assert card.startswith("✅") and "(2 visits)" in card
    assert "Acme Instruments: demo the new scope" in card and "2026-12-04 Fri" in card
    async with runtime.sessions() as session:
        names = set((await session.scalars(select(Customer.name))).all())
    assert names == {"Acme Instruments", "Globex"}
