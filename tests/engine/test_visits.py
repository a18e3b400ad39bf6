"""A rep prepares and debriefs first and second visits: /visit1, /debrief1, /visit2, /debrief2."""

from __future__ import annotations

from sqlalchemy import select

from bot.runtime import Runtime
from db.models import ActivityEvent, Customer, CustomerRecord
from db.models_flows import Reminder
from tests.helpers import Clock, Rep


async def events(runtime: Runtime, user_tg: int) -> dict[str, int]:
    from db.models import User

    async with runtime.sessions() as session:
        user_id = await session.scalar(select(User.id).where(User.telegram_id == user_tg))
        rows = (await session.scalars(select(ActivityEvent).where(ActivityEvent.user_id == user_id))).all()
    totals: dict[str, int] = {}
    for row in rows:
        totals[row.kind] = totals.get(row.kind, 0) + row.amount
    return totals


async def customer_row(runtime: Runtime, name: str) -> Customer:
    async with runtime.sessions() as session:
        row = await session.scalar(select(Customer).where(Customer.name == name))
    assert row is not None
    return row


async def prep_huawei(rep: Rep) -> None:
    """A saved /prep plan whose contact and objective /visit1 should reuse."""
    await rep.say("/prep")
    await rep.say("华为技术")
    await rep.say("王经理,采购部")
    await rep.press("普通信息")
    await rep.say("了解他们示波器的测试需求")
    for _ in range(3):
        await rep.say("/skip")
    await rep.say("王经理推荐,总监拍板")
    await rep.say("/skip")
    await rep.say("200MHz 带宽")
    await rep.press("完成")
    await rep.say("/skip")
    await rep.press("保存")
    assert rep.replies[0].text.startswith("✅")


async def walk_visit1_zh(rep: Rep) -> None:
    await rep.say("/visit1")
    assert "学生和听众" in rep.text  # the role reminder opens the flow
    await rep.press("华为技术")
    await rep.press("学生和听众")
    assert "王经理,采购部" in rep.last and "/skip" in rep.last  # the contact of the prep plan is offered
    await rep.say("/skip")
    assert "王经理好" in rep.last  # the greeting script greets the prep plan's contact
    await rep.say("王经理,您好!我是仪器公司的小李,这是我的名片,谢谢您抽时间见我。")
    await rep.say("/skip")  # atmosphere
    assert "示波器的测试需求" in rep.last  # the prep objective is offered as the agenda
    await rep.say("/skip")
    await rep.say("二十")
    assert rep.replies[0].text.startswith("⚠️")  # minutes must be a number
    await rep.say("20")
    assert "20分钟" in rep.last and "了解他们示波器的测试需求" in rep.last  # the opening, filled in
    await rep.say("示波器")
    assert "由宽到窄" in rep.last


async def test_visit1_zh_to_done_with_prep_details_and_closed_question_rewrite(rep: Rep, runtime: Runtime) -> None:
    await prep_huawei(rep)
    await walk_visit1_zh(rep)
    await rep.say("您能不能先介绍一下贵公司的情况?\n贵公司在哪些方面有重点需求?")
    assert "👍" in rep.replies[0].text
    await rep.say("你们现在用的是泰克的示波器吗?")
    note = rep.replies[0].text
    assert "封闭式" in note and "你们现在用的是泰克的示波器吗" in note
    assert "哪个品牌" in note  # an open rewrite that keeps the rep's topic
    assert "3. 你们现在用的是泰克的示波器吗?" in rep.last  # the list so far
    await rep.press("完成")
    await rep.say("交货周期\n测试精度")
    await rep.press("完成")
    assert "一是关于交货周期" in rep.last  # the summary script uses the expected needs
    await rep.say("带供货方案来向您汇报")
    await rep.say("下周二上午")
    assert "请核对" in rep.last
    await rep.press("保存")
    card = rep.replies[0].text
    assert card.startswith("✅") and "华为技术" in card
    assert "我是仪器公司的小李" in card  # the rep's own first three sentences replace the model lines
    assert "20分钟" in card and "您看下周二上午方便吗" in card
    assert "🔒" in card and "哪个品牌" in card  # the closed question is flagged on the script card too
    assert rep.button("复盘")
    async with runtime.sessions() as session:
        record = await session.scalar(select(CustomerRecord).where(CustomerRecord.kind == "visit1_plan"))
        assert record is not None and len(record.data["answers"]["questions"]) == 3
    assert (await customer_row(runtime, "华为技术")).contact == "王经理,采购部"


async def test_visit1_in_english_to_done(en_rep: Rep) -> None:
    await en_rep.say("/visit1")
    assert "student and a listener" in en_rep.text
    await en_rep.say("Acme Labs")
    await en_rep.press("Mainly present our product")
    assert "Hold the product pitch" in en_rep.replies[0].text  # the role check coaches a pitch-first plan
    await en_rep.say("Ms Chen, lab manager")
    assert "Good morning, Ms Chen!" in en_rep.last
    await en_rep.say("/skip")
    await en_rep.say("/skip")
    await en_rep.say("understand your test needs")
    await en_rep.say("15")
    assert "15 minutes" in en_rep.last and "understand your test needs" in en_rep.last
    await en_rep.say("/skip")
    await en_rep.say("Could you tell me about your company?")
    await en_rep.say("You use Tektronix scopes, right?")
    assert "closed question" in en_rep.replies[0].text and "Open it up" in en_rep.replies[0].text
    await en_rep.press("Done")
    await en_rep.say("/skip")
    await en_rep.say("bring you a test plan")
    await en_rep.say("Thursday afternoon")
    await en_rep.press("Save")
    card = en_rep.replies[0].text
    assert card.startswith("✅") and "First-visit script" in card and "Would Thursday afternoon suit you?" in card
    assert en_rep.button("Debrief")


async def test_ask_in_the_middle_of_visit1_keeps_the_place(rep: Rep) -> None:
    await rep.say("/visit1")
    await rep.say("中兴通讯")
    await rep.say("/ask 开场白怎么说")
    assert "开场白" in rep.replies[0].text
    assert "回到「第一次拜访」" in rep.last and "你打算怎么做" in rep.last
    await rep.press("学生和听众")
    assert "要见的是谁" in rep.last


async def test_list_step_needs_two_questions_and_rejects_statements(rep: Rep) -> None:
    await rep.say("/visit1")
    await rep.say("中兴通讯")
    await rep.press("学生和听众")
    for _ in range(4):
        await rep.say("/skip")
    await rep.say("30")
    await rep.say("/skip")
    await rep.say("我们的产品很好")
    assert "不是问句" in rep.replies[0].text
    await rep.press("完成")
    assert rep.replies[0].text.startswith("⚠️") and "2" in rep.replies[0].text  # at least two questions


async def debrief1(rep: Rep, *, needs: str = "交货周期太长\n测试精度不够", inside: str = "是",
                   next_day: str | None = "下周二") -> None:
    await rep.say("/debrief1")
    known = any("华为技术" in b.label for m in rep.replies for row in m.buttons for b in row)
    await (rep.press("华为技术") if known else rep.say("华为技术"))
    await rep.press("达到了")
    await rep.say(needs)
    await rep.press("完成")
    await rep.press(inside)
    await rep.say("2")
    assert ("之前记录的是:普通信息" in rep.last) == known  # a known customer's current stage is shown
    await rep.press("有效信息")
    if next_day is None:
        await rep.press("否")
    else:
        await rep.press("是")
        await rep.say(next_day)
        await rep.say("带供货方案来汇报并演示")
    await rep.say("/skip")
    assert "请核对" in rep.last
    await rep.press("保存")


async def test_debrief1_records_activity_customer_fields_and_reminders(rep: Rep, runtime: Runtime) -> None:
    await prep_huawei(rep)
    await debrief1(rep)
    card, summary = rep.replies[0].text, rep.last
    assert card.startswith("✅") and "交货周期太长" in card and "2026-12-01" in card
    assert "已记录" in summary and "名片 2" in summary and "12月1日" in summary and "08:30" in summary
    assert "有效信息" in summary  # the stage moved up
    totals = await events(runtime, rep.user_id)
    assert totals == {"visits_first": 1, "next_meetings": 1, "inside_contacts": 1, "cards": 2, "effective_leads": 1}
    customer = await customer_row(runtime, "华为技术")
    assert customer.stage == "effective"
    assert customer.next_visit_at is not None and customer.next_visit_at.date().isoformat() == "2026-12-01"
    async with runtime.sessions() as session:
        reminders = (await session.scalars(select(Reminder).order_by(Reminder.due_at))).all()
    assert [(r.kind, r.due_at.isoformat()) for r in reminders] == [
        ("visit_eve", "2026-11-30T08:00:00+00:00"),  # 16:00 Shanghai the day before
        ("visit_day", "2026-12-01T00:30:00+00:00"),  # 08:30 Shanghai on the day
    ]


async def test_debrief_without_next_meeting_or_inside_contact_coaches_and_logs_less(rep: Rep, runtime: Runtime) -> None:
    await debrief1(rep, inside="否", next_day=None)
    card = rep.replies[0].text
    assert "还没约下次拜访" in card and "每拜访三次要发展一个内线" in card
    totals = await events(runtime, rep.user_id)
    assert totals == {"visits_first": 1, "cards": 2, "effective_leads": 1}
    async with runtime.sessions() as session:
        assert (await session.scalars(select(Reminder))).all() == []


async def test_debrief_with_a_past_date_sets_no_reminder(rep: Rep, runtime: Runtime) -> None:
    await debrief1(rep, next_day="2026-11-20")
    assert "已经过去" in rep.last
    async with runtime.sessions() as session:
        assert (await session.scalars(select(Reminder))).all() == []


async def test_visit2_restates_needs_from_the_first_visit_and_completes(rep: Rep, runtime: Runtime) -> None:
    await prep_huawei(rep)
    await debrief1(rep)
    await rep.say("/visit2")
    assert "业界权威" in rep.text
    await rep.press("华为技术")
    await rep.say("/skip")  # contact from the prep plan
    assert "12月1日" in rep.last  # the agreed date from the debrief is offered
    await rep.say("/skip")
    await rep.say("/skip")
    assert "王经理好" in rep.last and "12月1日" in rep.last and "带供货方案来汇报并演示" in rep.last  # phone script
    await rep.press("是")
    assert "交货周期太长" in rep.last and "测试精度不够" in rep.last  # the needs of the first visit
    await rep.press("完成")
    await rep.say("您的测试周期每月能缩短两天")
    await rep.say("30")
    assert "一是交货周期太长" in rep.last and "30分钟" in rep.last  # the opening restates the needs
    await rep.say("自动校准功能")
    await rep.say("不需要每次人工校准")
    assert "1. 关于交货周期太长" in rep.last  # the need-by-need frame
    await rep.say("这种备货方式意味着交货快,给您带来的真正利益是您的项目不再等设备")
    assert "FAB" in rep.replies[0].text
    await rep.say("我们的仓库很大")
    assert "还不是完整的 FAB" in rep.replies[0].text
    await rep.press("完成")
    await rep.say("带宽够不够——问技术支持张工")
    await rep.press("完成")
    await rep.say("安排样机试用")
    await rep.say("下周四之前")
    await rep.press("保存")
    card = rep.replies[0].text
    assert card.startswith("✅") and "第二次拜访话术卡" in card
    assert "1. 交货周期太长:这种备货方式" in card and "不懂不装懂" in card and "下周四之前安排样机试用" in card
    assert rep.button("复盘")


async def test_visit2_in_english_to_done(en_rep: Rep) -> None:
    await en_rep.say("/visit2")
    await en_rep.say("Acme Labs")
    await en_rep.say("Ms Chen")
    await en_rep.say("Tuesday 9 am")
    await en_rep.say("present the proposal with a demo")
    assert "I'll come Tuesday 9 am to present the proposal with a demo" in en_rep.last
    await en_rep.press("Yes")
    await en_rep.say("delivery time\ntest accuracy")
    await en_rep.press("Done")
    await en_rep.say("your test cycle gets two days shorter each month")
    await en_rep.say("20")
    assert "first, delivery time; second, test accuracy" in en_rep.last
    await en_rep.say("auto-calibration")
    await en_rep.say("no manual calibration before each run")
    await en_rep.say("/skip")
    await en_rep.say("/skip")
    await en_rep.say("arrange a trial unit")
    await en_rep.say("before next Thursday")
    await en_rep.press("Save")
    card = en_rep.replies[0].text
    assert card.startswith("✅") and "Second-visit script" in card and "never bluff" in card


async def test_debrief2_buying_signals_stage_move_and_relationship(rep: Rep, runtime: Runtime, clock: Clock) -> None:
    await prep_huawei(rep)
    await debrief1(rep)
    clock.advance(days=8)
    await rep.say("/debrief2")
    await rep.press("华为技术")
    await rep.press("认可方案")
    await rep.press("频频点头")
    await rep.press("开始做笔记")
    await rep.press("完成")
    assert "之前记录的是:有效信息" in rep.last
    await rep.press("准客户")
    await rep.press("B级")
    await rep.press("是")  # asked for the order
    await rep.press("是")  # next meeting booked
    await rep.say("12月10日")
    await rep.say("样机试用")
    await rep.say("/skip")
    await rep.press("保存")
    card = rep.replies[0].text
    assert card.startswith("✅") and "频频点头" in card and "开始做笔记" in card and "准客户" in card
    assert "准客户" in rep.last and "⏰" in rep.last
    totals = await events(runtime, rep.user_id)
    assert totals["visits_second"] == 1 and totals["purchase_asks"] == 1 and totals["quasi_customers"] == 1
    assert totals["next_meetings"] == 2  # one per debrief
    customer = await customer_row(runtime, "华为技术")
    assert (customer.stage, customer.relationship) == ("quasi", "B")
    async with runtime.sessions() as session:
        pending = (await session.scalars(select(Reminder).where(Reminder.status == "pending"))).all()
        cancelled = (await session.scalars(select(Reminder).where(Reminder.status == "cancelled"))).all()
    assert sorted(r.due_at.date().isoformat() for r in pending) == ["2026-12-09", "2026-12-10"]
    # the reminders of the 12-01 visit were never sent (no sender ran here); now superseded, they are cancelled
    assert sorted(r.kind for r in cancelled) == ["visit_day", "visit_eve"]


async def test_deal_after_second_visit_counts_a_deal_and_asks_for_a_referral(rep: Rep, runtime: Runtime) -> None:
    await rep.say("/debrief2")
    await rep.say("长城电子")
    await rep.press("认可方案")
    await rep.press("完成")  # no signals ticked
    await rep.press("已成交")
    await rep.press("A级")
    await rep.press("否")
    await rep.press("否")
    await rep.say("/skip")
    await rep.press("保存")
    assert "介绍一位朋友" in rep.last
    totals = await events(runtime, rep.user_id)
    assert totals == {"visits_second": 1, "deals": 1}


async def test_forged_debrief_button_is_refused(rep: Rep) -> None:
    await rep.press_data("vd:9")
    assert rep.last.startswith("⚠️")
    await rep.press_data("vd:1")
    assert "拜访的是哪位客户" in rep.last
