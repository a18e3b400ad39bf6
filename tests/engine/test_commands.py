"""Commands every user meets first: /start, /help, /lang, unknown commands and bad input."""

from __future__ import annotations

from bot.engine.commands import COMMANDS
from tests.helpers import Rep


async def test_start_welcomes_in_the_telegram_language(rep: Rep, en_rep: Rep) -> None:
    await rep.say("/start")
    assert "销售教练" in rep.text
    await en_rep.say("/start")
    assert "sales coach" in en_rep.text


async def test_help_lists_every_command_grouped(rep: Rep) -> None:
    await rep.say("/help")
    for command in COMMANDS:
        if command.name != "start":
            assert f"/{command.name} " in rep.last, command.name
    assert "经理" in rep.last and "销售代表" in rep.last


async def test_lang_switch_is_remembered(rep: Rep) -> None:
    await rep.say("/lang en")
    assert "English" in rep.last
    await rep.say("/help")
    assert "Managers" in rep.last
    await rep.say("/lang")
    await rep.press("中文")
    await rep.say("/help")
    assert "经理" in rep.last
    await rep.say("/lang klingon")
    assert rep.last.startswith("⚠️")


async def test_unknown_and_unbuilt_commands_answer_with_warning(rep: Rep) -> None:
    await rep.say("/frobnicate")
    assert rep.last.startswith("⚠️") and "/help" in rep.last
    await rep.say("/ask")
    assert rep.last.startswith("⚠️")


async def test_bad_input_gets_a_clear_reply(rep: Rep, en_rep: Rep) -> None:
    await rep.send_media("sticker")
    assert rep.last.startswith("⚠️") and "文字" in rep.last
    await en_rep.send_media("voice")
    assert en_rep.last.startswith("⚠️") and "text" in en_rep.last
    await rep.say("x" * 5000)
    assert rep.last.startswith("⚠️") and "5000" in rep.last
    await rep.say("   ")
    assert rep.last.startswith("⚠️")


async def test_free_text_outside_a_flow_is_answered_from_the_knowledge_base(rep: Rep) -> None:
    await rep.say("客户说我们比别家贵")
    assert "别家更便宜" in rep.last  # the competitor-is-cheaper objection, with its script
    assert "💬" in rep.last
    await rep.say("客戶說價格太高")  # Traditional Chinese
    assert "太贵" in rep.last


async def test_topics_browse_by_area(rep: Rep) -> None:
    await rep.say("/topics")
    await rep.press("第一次拜访")
    await rep.press("开场白")
    assert "📘" in rep.last


async def test_question_in_english_gets_an_english_answer_and_readable_references(rep: Rep) -> None:
    await rep.say("what is an implication question")
    assert "Implication" in rep.last  # a Chinese-speaking rep who asks in English reads English
    await rep.say("客户说太贵了怎么办")
    assert "太贵" in rep.last
    assert "value.add_attraction" not in rep.last  # ids in bodies read as titles
    assert "「" in rep.last
