"""A rep drafts SPIN questions with /spin: every draft is judged, the plan is saved and can be recalled."""

from __future__ import annotations

from sqlalchemy import select

from bot.runtime import Runtime
from db.models import Customer, CustomerRecord
from tests.helpers import Rep


async def start_spin_for(rep: Rep, customer: str = "华为技术") -> None:
    await rep.say("/spin")
    assert "为哪位客户准备提问" in rep.last
    await rep.say(customer)
    await rep.say("200MHz 示波器")
    assert "S 背景问题" in rep.last


async def walk_spin_zh(rep: Rep) -> None:
    await start_spin_for(rep)
    await rep.say("贵公司现在用的是什么示波器?\n你们有几台示波器?")
    assert rep.replies[0].text.count("✔") == 2  # two good situation questions, both acknowledged
    await rep.press("完成")
    assert "P 难点问题" in rep.last
    await rep.say("在测试精度方面,你们遇到了哪些困难?")
    await rep.press("完成")
    await rep.say("测试精度不够会对产品交付造成什么影响?")
    await rep.press("完成")
    assert "N 需求-效益问题" in rep.last
    await rep.say("如果测试时间能缩短一半,对您的团队意味着什么?")
    await rep.press("完成")
    assert "请核对" in rep.last


async def test_rep_builds_a_question_plan_and_it_is_saved_under_the_customer(rep: Rep, runtime: Runtime) -> None:
    await walk_spin_zh(rep)
    await rep.press("保存")
    card, summary = rep.replies[0].text, rep.replies[-1].text
    assert card.startswith("✅")
    assert "华为技术" in card and "贵公司现在用的是什么示波器?" in card
    assert card.index("S 背景问题") < card.index("P 难点问题") < card.index("I 暗示问题") < card.index("N 需求")
    assert "共 5 个问题" in summary and "开放式 5 个" in summary and "4/4" in summary
    async with runtime.sessions() as session:
        customer = await session.scalar(select(Customer).where(Customer.name == "华为技术"))
        assert customer is not None
        record = await session.scalar(select(CustomerRecord).where(CustomerRecord.customer_id == customer.id))
        assert record is not None and record.kind == "spin"
        assert record.data["answers"]["problem"] == ["在测试精度方面,你们遇到了哪些困难?"]


async def test_closed_question_gets_an_open_rewrite(rep: Rep) -> None:
    await start_spin_for(rep)
    await rep.say("您对现在的供应商满意吗?")
    note = rep.replies[0].text
    assert "封闭式问题" in note and "试试开放式" in note
    rewrite = note.split("试试开放式:")[1]
    assert "?" in rewrite and "吗" not in rewrite  # the suggestion is itself an open question


async def test_wrong_category_is_named(rep: Rep, en_rep: Rep) -> None:
    await start_spin_for(rep)
    await rep.say("测试精度不够会对产品交付造成什么影响?")  # an implication question drafted as situation
    assert "这读起来像暗示问题(I),不是背景问题(S)" in rep.replies[0].text
    await en_rep.say("/spin")
    await en_rep.say("Acme")
    await en_rep.say("scopes")
    await en_rep.say("What problems do you have with your current oscilloscopes?")
    assert "reads as a Problem question (P), not a Situation question (S)" in en_rep.replies[0].text


async def test_more_than_three_situation_questions_get_a_note_once(rep: Rep) -> None:
    await start_spin_for(rep)
    await rep.say("贵公司现在用的是什么示波器?\n你们有几台示波器?\n测试团队有多少人?")
    assert "Rackham" not in rep.text
    await rep.say("你们每年的测试预算是多少?")
    assert "Rackham" in rep.replies[0].text and "4 个" in rep.replies[0].text
    await rep.say("你们的测试流程是怎样安排的?")
    assert "Rackham" not in rep.replies[0].text  # said once, not on every further draft


async def test_implication_must_build_on_a_problem(rep: Rep) -> None:
    await start_spin_for(rep)
    await rep.say("贵公司现在用的是什么示波器?")
    await rep.press("完成")
    await rep.say("测试排队时间长吗?")
    await rep.press("完成")
    await rep.say("这对您有什么影响?\n测试排队会对交期造成什么影响?")
    note = rep.replies[0].text
    vague, named = note.split("\n")[1], note.split("\n")[2]
    assert "要接在一个难点上" in vague
    assert named.startswith("✔")


async def test_need_payoff_that_pitches_is_flagged(rep: Rep, en_rep: Rep) -> None:
    await start_spin_for(rep)
    for _ in range(3):
        await rep.say("贵公司现在的测试是怎么安排的?")
        await rep.press("完成")
    assert "N 需求-效益问题" in rep.last
    await rep.say("我们的新款示波器能帮您节省一半时间,您要不要今天就下单?")
    assert "推销" in rep.replies[0].text
    await en_rep.say("/spin")
    await en_rep.say("Acme")
    await en_rep.say("scopes")
    for _ in range(3):
        await en_rep.say("How is your testing organised today?")
        await en_rep.press("Done")
    await en_rep.say("Would you like to buy our new model today?")
    assert "pitch" in en_rep.replies[0].text


async def test_saved_plan_is_offered_again_and_can_be_shown(rep: Rep) -> None:
    await walk_spin_zh(rep)
    await rep.press("保存")
    await rep.say("/spin")
    assert "已经有这些客户的 SPIN 提问计划" in rep.last
    await rep.press("华为技术")
    assert "已保存的 SPIN 提问计划" in rep.replies[0].text and "贵公司现在用的是什么示波器?" in rep.replies[0].text
    assert "提问质量" in rep.last
    await rep.say("/spin 华为技术")  # naming the customer goes straight to its plan
    assert "已经有一份 SPIN 提问计划" in rep.replies[0].text
    await rep.press("新的 SPIN 计划")
    assert "为哪位客户准备提问" in rep.last
    await rep.say("/cancel")
    await rep.say("/spin 中兴")
    assert "还没有 SPIN 提问计划" in rep.replies[0].text and "为哪位客户准备提问" in rep.last


async def test_a_rep_cannot_open_another_reps_plan(rep: Rep, en_rep: Rep) -> None:
    await walk_spin_zh(rep)
    await rep.press("保存")
    await rep.say("/spin")
    data = rep.button("华为技术").data
    await en_rep.press_data(data)
    assert en_rep.last.startswith("⚠️")
    for forged in ("sp:v", "sp:vabc", "sp:v99999999", "sp:" + "9" * 70, "sp:new:x"):
        await rep.press_data(forged)
        assert rep.replies[0].text.startswith("⚠️"), forged


async def test_spin_inside_another_flow_asks_before_discarding(rep: Rep) -> None:
    await rep.say("/prep")
    await rep.say("华为技术")
    await rep.say("/spin")
    assert "没完成的「拜访准备清单」" in rep.replies[0].text and rep.button("SPIN")


async def test_english_rep_completes_spin(en_rep: Rep, runtime: Runtime) -> None:
    await en_rep.say("/spin")
    assert "Which customer" in en_rep.last
    await en_rep.say("Acme Instruments")
    await en_rep.say("the new 200 MHz scope")
    await en_rep.say("What scopes do you use today?")
    await en_rep.press("Done")
    await en_rep.say("What problems do you have with your current oscilloscopes?")
    await en_rep.press("Done")
    await en_rep.say("How do the slow tests affect your delivery schedule?")
    await en_rep.press("Done")
    await en_rep.say("If you could cut test time in half, what would that mean for your team?")
    assert en_rep.replies[0].text.count("✔") == 1
    await en_rep.press("Done")
    await en_rep.press("Save")
    assert en_rep.replies[0].text.startswith("✅")
    assert "Acme Instruments" in en_rep.replies[0].text
    assert "4 questions, 4 open" in en_rep.last and "4/4" in en_rep.last
    async with runtime.sessions() as session:
        kinds = (await session.scalars(select(CustomerRecord.kind))).all()
        assert kinds == ["spin"]
