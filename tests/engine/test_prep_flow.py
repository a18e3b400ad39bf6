"""A rep prepares a visit with /prep: the whole checklist, corrections, interruptions and restarts."""

from __future__ import annotations

from sqlalchemy import select

from bot.runtime import Runtime
from db.models import Customer, CustomerRecord, DialogSession
from tests.helpers import Clock, Rep


async def walk_prep_to_review(rep: Rep) -> None:
    await rep.say("/prep")
    assert "拜访哪位客户" in rep.last
    await rep.say("华为技术")
    assert "要见的是谁" in rep.last
    await rep.say("王经理,采购部")
    await rep.press("有效信息")
    assert "目的" in rep.last
    await rep.say("了解他们示波器的测试需求")
    assert "上次见面" in rep.last  # not a new lead, so the link to the last meeting is asked
    await rep.say("上次演示了示波器,答应带报价")
    await rep.say("用的是老款示波器")
    await rep.say("/skip")
    await rep.say("想提高测试效率")
    await rep.say("王经理推荐,总监拍板")
    await rep.say("价格比别家高")
    await rep.say("200MHz 带宽,两年保修")
    assert "出发前检查" in rep.last
    await rep.press("已电话预约")
    await rep.press("名片")
    assert rep.button("☑️ 名片")  # ticked items show a checked box
    await rep.press("完成")
    assert "哪天去" in rep.last
    await rep.say("下周二")


async def test_rep_completes_prep_and_plan_is_saved_under_customer(rep: Rep, runtime: Runtime) -> None:
    await walk_prep_to_review(rep)
    assert "请核对" in rep.last
    assert "华为技术" in rep.last and "王经理推荐,总监拍板" in rep.last
    await rep.press("保存")
    assert rep.last.startswith("✅")
    assert "华为技术" in rep.last
    assert "资料已整理好" in rep.last  # what is not ready yet is called out on the card
    async with runtime.sessions() as session:
        customer = await session.scalar(select(Customer).where(Customer.name == "华为技术"))
        assert customer is not None
        assert customer.stage == "effective"
        assert customer.contact == "王经理,采购部"
        assert customer.next_visit_at is not None and customer.next_visit_at.date().isoformat() == "2026-12-01"
        record = await session.scalar(select(CustomerRecord).where(CustomerRecord.customer_id == customer.id))
        assert record is not None and record.kind == "prep"
        assert record.data["answers"]["objective"] == "了解他们示波器的测试需求"
        assert record.data["answers"]["like"] is None
        assert record.data["answers"]["logistics"] == ["appointment", "cards"]


async def test_review_corrects_a_single_answer_without_redoing_the_flow(rep: Rep) -> None:
    await walk_prep_to_review(rep)
    await rep.press("✏️ 4")  # objective
    assert "目的" in rep.last and "当前答案" in rep.last
    await rep.say("确认决策人并约演示")
    assert "请核对" in rep.last
    assert "确认决策人并约演示" in rep.last
    assert "了解他们示波器的测试需求" not in rep.last
    await rep.press("保存")
    assert "确认决策人并约演示" in rep.last and rep.last.startswith("✅")


async def test_editing_stage_to_new_lead_drops_the_last_meeting_question(rep: Rep) -> None:
    await walk_prep_to_review(rep)
    assert "与上次的联系" in rep.last
    await rep.say("3")  # stage, typed as a number
    await rep.press("普通信息")
    assert "请核对" in rep.last
    assert "与上次的联系" not in rep.last


async def test_second_customer_is_offered_as_a_button(rep: Rep) -> None:
    await walk_prep_to_review(rep)
    await rep.press("保存")
    await rep.say("/prep")
    await rep.press("华为技术")
    assert "要见的是谁" in rep.last


async def test_validation_reprompts_with_warning(rep: Rep) -> None:
    await rep.say("/prep")
    await rep.say("华为技术")
    await rep.say("王经理")
    await rep.say("第五种")
    assert rep.replies[0].text.startswith("⚠️")
    assert "客户阶段" not in rep.replies[0].text and "阶段" in rep.last
    await rep.say("/skip")
    assert rep.replies[0].text.startswith("⚠️")  # stage is not optional
    await rep.say("1")
    assert "目的" in rep.last
    await rep.say("x" * 1001)
    assert rep.replies[0].text.startswith("⚠️") and "1000" in rep.replies[0].text


async def test_date_validation(rep: Rep) -> None:
    await walk_prep_to_review(rep)
    await rep.press("✏️ 13")  # visit date (stage is not lead, so 13 steps apply)
    await rep.say("下辈子")
    assert rep.replies[0].text.startswith("⚠️") and "明天" in rep.replies[0].text
    await rep.say("2031-01-01")
    assert rep.replies[0].text.startswith("⚠️")
    await rep.say("明天")
    assert "请核对" in rep.last and "2026-11-24" in rep.last


async def test_back_returns_to_previous_question_and_keeps_answer(rep: Rep) -> None:
    await rep.say("/prep")
    await rep.say("华为技术")
    await rep.say("王经理")
    await rep.say("/back")
    assert "要见的是谁" in rep.last and "王经理" in rep.last
    await rep.say("/back")
    assert "拜访哪位客户" in rep.last
    await rep.say("/back")
    assert rep.replies[0].text.startswith("⚠️")  # already at the first step


async def test_cancel_stops_and_saves_nothing(rep: Rep, runtime: Runtime) -> None:
    await rep.say("/prep")
    await rep.say("中兴通讯")
    await rep.say("/cancel")
    assert rep.last.startswith("✅") and "取消" in rep.last
    await rep.say("/cancel")
    assert "没有进行中" in rep.last
    async with runtime.sessions() as session:
        assert await session.scalar(select(Customer).where(Customer.name == "中兴通讯")) is None


async def test_ask_in_the_middle_keeps_the_place(rep: Rep) -> None:
    await rep.say("/prep")
    await rep.say("华为技术")
    await rep.say("/ask 客户说太贵了怎么办")
    assert "太贵" in rep.replies[0].text
    assert "回到「拜访准备清单」" in rep.last and "要见的是谁" in rep.last
    await rep.say("王经理")
    assert "阶段" in rep.last


async def test_repeat_says_the_current_question_again(rep: Rep) -> None:
    await rep.say("/prep")
    await rep.say("华为技术")
    first = rep.last
    await rep.say("/repeat")
    assert rep.last == first


async def test_state_survives_a_new_runtime(rep: Rep, runtime: Runtime, clock: Clock) -> None:
    """A restart is a new Runtime over the same database: the rep goes on where they were."""
    await rep.say("/prep")
    await rep.say("华为技术")
    restarted = Runtime(runtime.settings, content=runtime.content, clock=clock)
    try:
        again = Rep(restarted, rep.user_id, rep.name, rep.language_code)
        await again.say("王经理")
        assert "阶段" in again.last
    finally:
        await restarted.close()


async def test_idle_flow_is_offered_for_resumption(rep: Rep, clock: Clock) -> None:
    await rep.say("/prep")
    await rep.say("华为技术")
    clock.advance(days=2)
    await rep.say("王经理")
    assert "没完成" in rep.last
    await rep.press("继续")
    assert "要见的是谁" in rep.last
    await rep.say("王经理")
    assert "阶段" in rep.last


async def test_idle_flow_can_be_discarded(rep: Rep, clock: Clock) -> None:
    await rep.say("/prep")
    await rep.say("华为技术")
    clock.advance(hours=3)
    await rep.say("你好")
    await rep.press("放弃")
    assert rep.last.startswith("✅")
    await rep.say("/repeat")
    assert rep.last.startswith("⚠️")


async def test_flow_idle_longer_than_the_limit_expires(rep: Rep, clock: Clock, runtime: Runtime) -> None:
    await rep.say("/prep")
    await rep.say("华为技术")
    clock.advance(days=8)
    await rep.say("/repeat")
    assert rep.last.startswith("⚠️")
    async with runtime.sessions() as session:
        status = await session.scalar(select(DialogSession.status))
        assert status == "expired"


async def test_forged_and_stale_buttons_are_refused(rep: Rep) -> None:
    await rep.say("/prep")
    await rep.say("华为技术")
    await rep.say("王经理")
    stale = rep.button("有效信息").data
    await rep.press("有效信息")
    await rep.press_data(stale)
    assert rep.replies[0].text.startswith("⚠️")
    assert "目的" in rep.last  # the current question again
    await rep.press_data("f:999999:stage:o1")
    assert rep.replies[0].text.startswith("⚠️")
    await rep.press_data("k:no.such.entry")
    assert rep.replies[0].text.startswith("⚠️")
    await rep.press_data("💥" * 30)
    assert rep.replies[0].text.startswith("⚠️")


async def test_starting_another_flow_asks_before_discarding(rep: Rep) -> None:
    await rep.say("/prep")
    await rep.say("华为技术")
    await rep.say("/prep")
    assert "正在进行" in rep.replies[0].text


async def test_english_rep_gets_english_flow(en_rep: Rep) -> None:
    await en_rep.say("/prep")
    assert "Which customer" in en_rep.last
    await en_rep.say("Acme Instruments")
    await en_rep.say("Ms Wang, purchasing")
    await en_rep.press("New lead")
    assert "What must this visit achieve" in en_rep.last
