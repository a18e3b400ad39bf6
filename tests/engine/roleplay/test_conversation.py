"""The customer's side turn by turn: staged needs, objections, patience, variety, reproducibility,
language and the coaching hints."""

from __future__ import annotations

import json
import random

from bot.engine.content import Content
from bot.engine.roleplay.conversation import start, take_turn
from bot.engine.roleplay.hints import hint
from bot.engine.roleplay.state import SessionState
from tests.engine.roleplay.helpers import lines_of, run


def test_needs_open_only_in_stages_p_then_i_then_n(content: Content) -> None:
    persona = content.roleplay.personas["first_visit_engineer"]
    state, _ = start(persona, "zh", 1)
    early_i = take_turn(persona, state, "测试慢下来,对项目进度和客户有什么影响?")
    assert "implication_early" in early_i.events  # consequences of a problem nobody has named
    early_n = take_turn(persona, state, "如果能把测试时间缩短一半,对您的团队意味着什么?")
    assert "payoff_early" in early_n.events
    p = take_turn(persona, state, "在测试工作中,您现在遇到的最大困难是什么?")
    need = next(e.split(":")[1] for e in p.events if e.startswith("reveal:"))
    i = take_turn(persona, state, "测试慢下来,对项目进度和客户有什么影响?")
    assert f"imply:{need}" in i.events and len(i.customer) > 20  # the customer elaborates the consequence
    n = take_turn(persona, state, "如果能把测试时间缩短一半,对您的团队意味着什么?")
    assert f"payoff:{need}" in n.events  # and states the value in their own words
    assert state.stage(need) == 3


def test_a_closed_problem_question_to_a_stranger_gets_a_short_answer(content: Content) -> None:
    persona = content.roleplay.personas["first_visit_engineer"]
    state, _ = start(persona, "zh", 1)
    turn = take_turn(persona, state, "你们对现在的示波器满意吗?")
    assert not any(e.startswith("reveal:") for e in turn.events)
    assert len(turn.customer) <= 8


def test_price_before_needs_raises_an_objection_that_an_open_question_resolves(content: Content) -> None:
    persona = content.roleplay.personas["consultative_buyer"]
    state, _ = start(persona, "zh", 1)
    raised = take_turn(persona, state, "我们的课程价格是每人每天两千元。")
    assert "objection:price_first" in raised.events and state.open_objection == "price_first"
    handled = take_turn(persona, state, "在销售团队的管理上,您现在最头疼的是什么?")
    assert "handled:price_first" in handled.events
    assert any(e.startswith("reveal:") for e in handled.events)  # and the question itself is answered


def test_pressure_on_an_open_objection_costs_patience(content: Content) -> None:
    persona = content.roleplay.personas["consultative_buyer"]
    state, _ = start(persona, "zh", 1)
    take_turn(persona, state, "我们的课程价格是每人每天两千元。")
    before = state.patience
    pushed = take_turn(persona, state, "这个价格只到今天,错过就没有了,赶紧下单吧。")
    assert "mishandled:price_first" in pushed.events
    assert state.patience < before


def test_monologues_and_product_dumps_run_out_the_customers_patience(content: Content) -> None:
    persona = content.roleplay.personas["second_visit_authority"]
    state, _ = start(persona, "zh", 1)
    dump = ("我们的网络分析仪频率范围覆盖到110GHz,动态范围超过130dB,迹线噪声极低,支持四端口测量,有十五寸触摸屏,"
            "内置时域分析、夹具去嵌、脉冲测量、混频器测量、噪声系数测量等选件,校准套件齐全,行业领先。")
    turns = []
    for _ in range(8):
        if not state.active:
            break
        turns.append(take_turn(persona, state, dump))
    assert state.status == "dismissed"
    assert "dismiss" in turns[-1].events
    assert any("impatient" in t.events for t in turns[:-1])  # the customer warned before showing the door


def test_no_identical_customer_line_twice_in_a_row_over_a_long_session(content: Content) -> None:
    rng = random.Random(7)
    pool = ["嗯,明白。", "您能介绍一下测试组现在的工作情况吗?", "你们用的是安捷伦吧?", "好的。",
            "在测试工作中,您现在遇到的最大困难是什么?", "今天天气不错。", "我理解。"]
    for persona in content.roleplay.personas.values():
        state, opener = start(persona, "zh", 11)
        state.patience = 10**6  # keep the customer in the room for the whole test
        last = opener or ""
        for _ in range(80):
            turn = take_turn(persona, state, rng.choice(pool))
            assert turn.customer and turn.customer != last, (persona.id, turn.customer)
            last = turn.customer
            if not state.active:
                break


def test_same_seed_same_transcript_other_seed_other_words(content: Content) -> None:
    lines = lines_of("consultative_buyer.good.zh.txt")
    first = run(content, "consultative_buyer", lines, seed=42)
    again = run(content, "consultative_buyer", lines, seed=42)
    other = run(content, "consultative_buyer", lines, seed=43)
    assert first == again
    assert [t["customer"] for t in first["turns"]] != [t["customer"] for t in other["turns"]]
    assert first["score"]["total"] == other["score"]["total"]  # the words vary, the judgement does not


def test_the_customer_follows_the_language_the_rep_writes_in(content: Content) -> None:
    persona = content.roleplay.personas["gas_new_resident"]
    state, opener = start(persona, "zh", 1)
    assert opener and any("\u4e00" <= ch <= "\u9fff" for ch in opener)
    english = take_turn(persona, state, "Hello, welcome! I'm Wang, I can help you with the contract today.")
    assert english.lang == "en" and not any("\u4e00" <= ch <= "\u9fff" for ch in english.customer)
    short = take_turn(persona, state, "OK")
    assert short.lang == "en"  # too short to tell: the conversation keeps its language
    chinese = take_turn(persona, state, "您家现在装修到哪一步了?")
    assert chinese.lang == "zh"


def test_state_survives_a_json_round_trip(content: Content) -> None:
    persona = content.roleplay.personas["tough_purchaser"]
    state, _ = start(persona, "zh", 9)
    take_turn(persona, state, "除了价格,这次采购您最担心的是什么?")
    restored = SessionState.from_dict(json.loads(json.dumps(state.to_dict())))
    a = take_turn(persona, state, "设备要是晚到一周,对产线投产和您这边会有什么影响?")
    b = take_turn(persona, restored, "设备要是晚到一周,对产线投产和您这边会有什么影响?")
    assert a == b


def test_hints_follow_the_conversation(content: Content) -> None:
    persona = content.roleplay.personas["first_visit_engineer"]
    state, _ = start(persona, "zh", 1)
    assert hint(persona, state, "zh").key == "greet"
    for line in lines_of("first_visit_engineer.good.zh.txt")[:2]:
        take_turn(persona, state, line)
    for question in ["您能介绍一下测试组现在的工作情况吗?", "你们公司主要做什么产品?", "你们的采购流程是怎样的?",
                     "今年有哪些新项目?"]:
        take_turn(persona, state, question)
    h = hint(persona, state, "zh")
    assert h.key == "situation" and h.params["n"] == 4 and h.kb == "spin.problem"
    assert h.params["example"] == persona.coach.P.zh
    take_turn(persona, state, "你们用的是安捷伦吧?")
    closed = hint(persona, state, "zh")
    assert closed.key == "closed" and closed.params["better"] and "安捷伦" in closed.params["question"]
    take_turn(persona, state, "在测试工作中,您现在遇到的最大困难是什么?")
    assert hint(persona, state, "zh").key == "implication"
    take_turn(persona, state, "测试慢下来,对项目进度和客户有什么影响?")
    assert hint(persona, state, "en").key == "payoff"
