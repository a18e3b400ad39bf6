"""The personas are data: all eight load and validate; a broken file is reported with its file and
field; and each customer type behaves the way the seeds describe it."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest
import yaml

from bot.config import REPO_ROOT
from bot.engine.classifier import classify
from bot.engine.content import Content
from bot.engine.roleplay.conversation import start, take_turn
from bot.engine.roleplay.loader import PersonaError, load_roleplay
from bot.engine.roleplay.models import Persona
from tests.engine.roleplay.helpers import run

EIGHT = {"transactional_buyer", "consultative_buyer", "strategic_partner", "tough_purchaser",
         "first_visit_engineer", "second_visit_authority", "property_developer", "gas_new_resident"}
SOURCE = REPO_ROOT / "knowledge"


def test_the_eight_personas_of_the_brief_load(content: Content) -> None:
    personas = content.roleplay.personas
    assert set(personas) >= EIGHT
    for persona in personas.values():
        for lang in ("zh", "en"):
            assert persona.background.company.get(lang) and persona.background.task.get(lang)
            assert all(len(need.pain.get(lang)) >= 2 for need in persona.needs)
            assert len(persona.replies.greeting.get(lang)) >= 3


@pytest.fixture
def knowledge(tmp_path: Path) -> Path:
    """A private copy of the role-play files that a test may break."""
    root = tmp_path / "knowledge"
    shutil.copytree(SOURCE / "personas", root / "personas")
    shutil.copy(SOURCE / "scorecard.yaml", root / "scorecard.yaml")
    return root


def _edit(path: Path, change: object) -> None:
    data = yaml.safe_load(path.read_text(encoding="utf-8"))
    change(data)  # type: ignore[operator]
    path.write_text(yaml.safe_dump(data, allow_unicode=True, sort_keys=False), encoding="utf-8")


def _error(root: Path, kb: object = None) -> str:
    with pytest.raises(PersonaError) as info:
        load_roleplay(root, kb)  # type: ignore[arg-type]
    return str(info.value)


def test_a_missing_field_names_file_persona_and_field(knowledge: Path) -> None:
    path = knowledge / "personas" / "consultative_buyer.yaml"
    _edit(path, lambda d: d["needs"][0].pop("pain"))
    message = _error(knowledge)
    assert "personas/consultative_buyer.yaml" in message
    assert "needs[0].pain" in message and "missing" in message


def test_a_bank_with_too_few_variants_is_refused(knowledge: Path) -> None:
    path = knowledge / "personas" / "transactional_buyer.yaml"
    _edit(path, lambda d: d["replies"]["greeting"].update(zh=["说吧。"]))
    message = _error(knowledge)
    assert "transactional_buyer.yaml" in message and "replies.greeting.zh" in message


def test_bad_yaml_wrong_types_and_inconsistent_references_are_reported(knowledge: Path) -> None:
    personas = knowledge / "personas"
    (personas / "tough_purchaser.yaml").write_text("id: tough_purchaser\nname: {zh: 孙经理, en: [oops\n",
                                                   encoding="utf-8")
    _edit(personas / "strategic_partner.yaml", lambda d: d["patience"].update(start="lots"))
    _edit(personas / "gas_new_resident.yaml", lambda d: d["objections"][0].update(after="no_such_objection"))
    _edit(personas / "property_developer.yaml", lambda d: d.update(id="someone_else"))
    message = _error(knowledge)
    assert "tough_purchaser.yaml" in message and "invalid YAML" in message
    assert "strategic_partner.yaml" in message and "patience.start" in message
    assert "gas_new_resident.yaml" in message and "no_such_objection" in message
    assert "property_developer.yaml" in message and "must equal the file name" in message


def test_unknown_knowledge_ids_are_reported_when_checked_against_the_knowledge_base(
        knowledge: Path, content: Content) -> None:
    _edit(knowledge / "personas" / "first_visit_engineer.yaml",
          lambda d: d["objections"][0].update(tip="visit1.no_such_entry"))
    message = _error(knowledge, content.kb)
    assert "first_visit_engineer.yaml" in message and "objections[0].tip" in message
    assert "visit1.no_such_entry" in message


def test_the_rubric_is_validated_too(knowledge: Path) -> None:
    _edit(knowledge / "scorecard.yaml", lambda d: d["criteria"]["spin"].update(weight=5))
    _edit(knowledge / "scorecard.yaml", lambda d: d["criteria"]["summary"]["checks"].update(invented={"kb": "a.b"}))
    message = _error(knowledge)
    assert "scorecard.yaml" in message
    assert "add up to 100" in message or "criteria.summary.checks.invented" in message


def test_the_shipped_files_pass_the_kb_check(content: Content) -> None:
    load_roleplay(SOURCE, content.kb)  # raises on any problem


@pytest.mark.parametrize("lang", ["zh", "en"])
def test_hint_examples_are_read_as_the_question_they_teach(content: Content, lang: str) -> None:
    """/hint and the tips quote each persona's example questions: the engine must hear them as such."""
    for persona in content.roleplay.personas.values():
        coach = persona.coach
        for stage in ("S", "P", "I", "N"):
            c = classify(getattr(coach, stage).get(lang))
            assert c.question and c.closed is False and c.spin == stage, (persona.id, stage, c)
        assert classify(coach.summary.get(lang)).summary, persona.id
        assert classify(coach.next_step.get(lang)).next_step_ask, persona.id


GREET = {"zh": ["您好,我是华测公司的小李,这是我的名片,谢谢您抽时间见我。",
                "今天我想跟您了解一下贵公司的情况和需求,大概二十分钟,您看可以吗?"],
         "en": ["Hello, I'm Li from Huace, here is my card, thank you for taking the time to see me.",
                "Today I'd like to spend about twenty minutes understanding your needs, so I can suggest the right "
                "solution. Is that OK with you?"]}


def textbook(persona: Persona, lang: str) -> list[str]:
    c = persona.coach
    return [*GREET[lang], c.S.get(lang), c.P.get(lang), c.I.get(lang), c.N.get(lang), c.P.get(lang),
            c.I.get(lang), c.N.get(lang), c.summary.get(lang), c.next_step.get(lang), c.next_step.get(lang)]


@pytest.mark.parametrize("lang", ["zh", "en"])
def test_every_persona_can_be_won_by_the_textbook_visit(content: Content, lang: str) -> None:
    for persona in content.roleplay.personas.values():
        data = run(content, persona.id, textbook(persona, lang), lang)
        assert data["score"]["outcome"] == "agreed", (persona.id, data["turns"][-2:])
        assert data["score"]["total"] >= 70, persona.id


PUSHY = {"zh": ["我们公司是行业第一,产品性能最好,价格也最优惠,服务全国领先,很多大企业都在用。",
                "我们的产品绝对没有任何问题,保证百分之百不会坏。",
                "这个价格只到今天,错过就没有了,赶紧下单吧。", "您今天能签合同吗?", "您今天能下单吗?"],
         "en": ["We are number one in the industry, with the best performance, the best prices and the best service.",
                "We guarantee it will never fail.", "Sign today and I'll give you 10% off, this offer ends Friday.",
                "Can we sign the contract today?", "Will you place the order today?"]}


@pytest.mark.parametrize("lang", ["zh", "en"])
def test_no_persona_buys_from_a_pushy_pitch(content: Content, lang: str) -> None:
    for persona in content.roleplay.personas.values():
        data = run(content, persona.id, PUSHY[lang], lang)
        assert data["score"]["outcome"] != "agreed", persona.id
        assert data["score"]["total"] <= 35, (persona.id, data["score"]["total"])


def _play(content: Content, persona_id: str, lines: list[str], lang: str = "zh") -> list[list[str]]:
    persona = content.roleplay.personas[persona_id]
    state, _ = start(persona, "en" if lang == "en" else "zh", 5)
    events = []
    for line in lines:
        if not state.active:
            break
        events.append(take_turn(persona, state, line).events)
    return events


def test_transactional_buyer_shows_small_talk_the_door_the_consultative_buyer_tolerates_it(content: Content) -> None:
    chat = ["昨天的球赛您看了吗?", "今天天气真不错,您周末一般去哪儿玩?", "昨天的球赛您看了吗?"]
    boss = _play(content, "transactional_buyer", chat)
    assert "dismiss" in boss[-1] and len(boss) <= 3
    chen = _play(content, "consultative_buyer", chat)
    assert not any("dismiss" in e for e in chen)


def test_tough_purchaser_plays_the_purchasing_playbook(content: Content) -> None:
    persona = content.roleplay.personas["tough_purchaser"]
    state, opener = start(persona, "zh", 2)
    assert opener is not None and ("第一次报价" in opener or "不可能接受" in opener)  # never the first offer
    cave = take_turn(persona, state, "价格好说,那我给您再降百分之五。")
    assert "mishandled:first_offer" in cave.events  # conceding at once invites a bigger demand
    state, _ = start(persona, "zh", 2)
    lines = ["除了价格,这次采购您最担心的是什么?", "设备要是晚到一周,对产线投产和您这边会有什么影响?",
             "我们的上门校准服务意味着您的仪器不用寄走,给您带来的真正利益是产线不停、不返工。",
             "除了价格,两家在配置、交期和校准服务上有哪些不同?",
             "下周三我们一起向生产副总汇报交期和校准方案,您看可以吗?"]
    events = [e for line in lines for e in take_turn(persona, state, line).events]
    assert "handled:first_offer" in events
    assert "objection:competitor_price" in events  # value is answered with a competitor's price
    assert "objection:higher_authority" in events  # and a next step with the higher authority


def test_strategic_partner_wants_executives_involved(content: Content) -> None:
    persona = content.roleplay.personas["strategic_partner"]
    lines = textbook(persona, "zh")[:-1]
    data = _play(content, "strategic_partner", lines)
    assert "objection:executive_level" in data[-1]  # the first next-step ask meets "what do your executives say?"


def test_consultative_buyer_opens_up_further_to_a_rep_she_trusts(content: Content) -> None:
    persona = content.roleplay.personas["consultative_buyer"]
    guarded = [n for n in persona.needs if n.min_trust > persona.trust.start]
    assert guarded, "the consultative buyer keeps one need for reps who earned her trust"
    asks = ["销售团队现在最大的难处是什么?", "还有哪些让您头疼的问题?", "另外还遇到过什么困难?"]
    cold = _play(content, "consultative_buyer", asks)
    assert f"reveal:{guarded[0].id}" not in {e for turn in cold for e in turn}
    warm = _play(content, "consultative_buyer", [
        "陈总监您好!我是卓越培训的小李,这是我的名片,谢谢您抽时间见我。",
        "今天我想跟您了解一下贵公司销售团队的情况和需求,大概二十分钟,您看可以吗?",
        asks[0], "确实不容易,我理解您的难处。", asks[1], asks[2]])
    assert f"reveal:{guarded[0].id}" in {e for turn in warm for e in turn}
