"""A rep talks to the real Application over HTTP through the fake Bot API."""

from __future__ import annotations

import asyncio
import contextlib
import socket

from sqlalchemy import func, select

from bot.config import Settings
from bot.engine.content import Content
from bot.runtime import Runtime
from bot.telegram.app import BotService, webhook_secret
from db.models import Customer, InboxUpdate
from tests.fakebot.server import FakeBotApi
from tests.telegram.conftest import bot_settings

REP = 5551


def ticked(api: FakeBotApi, label: str) -> bool:
    return any(
        label in button["text"]
        for message in api.sent(REP)
        for row in (message.reply_markup or {}).get("inline_keyboard", [])
        for button in row
    )


async def test_start_help_and_menu(fake_api: FakeBotApi, bot: BotService) -> None:
    fake_api.push_text(REP, "/start", first_name="韩梅梅")
    [welcome] = await fake_api.wait_for_async("销售教练", chat_id=REP)
    assert "韩梅梅" in (welcome.text or "")
    mark = fake_api.mark(REP)
    fake_api.push_text(REP, "/help")
    [help_msg] = await fake_api.wait_for_async("/prep", chat_id=REP, since=mark)
    assert "/leaderboard" in (help_msg.text or "")
    zh = {c["command"] for c in fake_api.commands(language_code="")}
    en = fake_api.commands(language_code="en")
    assert {"prep", "ask", "help", "lang"} <= zh
    assert any("checklist" in c["description"] for c in en)


async def test_prep_to_completion_with_buttons(fake_api: FakeBotApi, bot: BotService) -> None:
    steps = [
        ("/prep", "拜访哪位客户"),
        ("华为技术", "要见的是谁"),
        ("王经理", "阶段"),
    ]
    for text, expect in steps:
        mark = fake_api.mark(REP)
        fake_api.push_text(REP, text)
        await fake_api.wait_for_async(expect, chat_id=REP, since=mark)
    answers: list[tuple[str, str, str | None]] = [
        ("button", "普通信息", "目的"),
        ("text", "了解需求", "现在用的是什么"),
        ("text", "/skip", "最满意"),
        ("text", "/skip", "改善"),
        ("text", "/skip", "拍板"),
        ("text", "王经理", "反对意见"),
        ("text", "/skip", "能为客户提供"),
        ("text", "示波器", "出发前检查"),
        ("button", "名片", None),
        ("button", "完成", "哪天去"),
        ("text", "明天", "请核对"),
        ("button", "保存", "✅"),
    ]
    for kind, value, expect in answers:
        mark = fake_api.mark(REP)
        if kind == "button":
            fake_api.press_button(REP, value)
        else:
            fake_api.push_text(REP, value)
        if expect is None:  # ticking a checklist item edits the same message in place
            await fake_api.wait_until_async(lambda: ticked(fake_api, "☑️ 名片"), timeout=5)
            continue
        await fake_api.wait_for_async(expect, chat_id=REP, since=mark)
    assert fake_api.callback_answers(), "every button press is answered so the client stops spinning"
    async with bot.runtime.sessions() as session:
        assert await session.scalar(select(func.count()).select_from(Customer)) == 1
        pending = await session.scalar(
            select(func.count()).select_from(InboxUpdate).where(InboxUpdate.status == "pending")
        )
        assert pending == 0


async def test_bad_input_over_telegram(fake_api: FakeBotApi, bot: BotService) -> None:
    mark = fake_api.mark(REP)
    fake_api.push_sticker(REP)
    [reply] = await fake_api.wait_for_async("⚠️", chat_id=REP, since=mark)
    assert "文字" in (reply.text or "")
    mark = fake_api.mark(REP)
    fake_api.push_text(REP, "长" * 5000)
    [reply] = await fake_api.wait_for_async("⚠️", chat_id=REP, since=mark)
    assert "5000" in (reply.text or "")
    mark = fake_api.mark(REP)
    fake_api.push_callback(REP, "f:424242:stage:o1", message_id=2, check=False)  # forged payload
    await fake_api.wait_for_async("⚠️", chat_id=REP, since=mark)


async def test_long_answer_is_split_within_telegram_limits(fake_api: FakeBotApi, bot: BotService) -> None:
    """Knowledge cards can be long; every part the bot sends must fit Telegram's 4,096 characters."""
    fake_api.push_text(REP, "/topics")
    await fake_api.wait_for_async("知识库", chat_id=REP)
    for message in fake_api.sent(REP):
        assert len(message.text or "") <= 4096


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


async def test_webhook_checks_secret_and_processes_redelivery_once(
    fake_api: FakeBotApi, settings: Settings, content: Content
) -> None:
    port = free_port()
    hook_settings = bot_settings(settings, fake_api).model_copy(update={"webhook_listen": f"127.0.0.1:{port}"})
    service = BotService(hook_settings, Runtime(hook_settings, content=content))
    url = f"http://127.0.0.1:{port}/telegram"
    task = asyncio.create_task(service.run(webhook_url=url))
    try:
        await fake_api.wait_for_call_async("setWebhook", timeout=15)
        secret = webhook_secret(hook_settings, fake_api.token)
        assert fake_api.calls("setWebhook")[0].params["secret_token"] == secret
        update = fake_api.make_text_update(REP, "/start")
        assert await fake_api.post_update_to_async(url, update, "wrong-secret") == 403
        assert await fake_api.post_update_to_async(url, update, secret) == 200
        await fake_api.wait_for_async("销售教练", chat_id=REP)
        assert await fake_api.post_update_to_async(url, update, secret) == 200  # Telegram re-delivers
        help_update = fake_api.make_text_update(REP, "/help")
        assert await fake_api.post_update_to_async(url, help_update, secret) == 200
        await fake_api.wait_for_async("/leaderboard", chat_id=REP)
        welcomes = [m for m in fake_api.sent(REP) if "销售教练" in (m.text or "")]
        assert len(welcomes) == 1
    finally:
        service.stop()
        with contextlib.suppress(asyncio.CancelledError):
            await asyncio.wait_for(task, timeout=15)


async def test_questions_are_answered_through_the_search_helper(
    fake_api: FakeBotApi, settings: Settings, content: Content
) -> None:
    helped = bot_settings(settings, fake_api, search_worker=True)
    service = BotService(helped, Runtime(helped, content=content))
    task = asyncio.create_task(service.run(poll_timeout=1))
    try:
        await fake_api.wait_for_call_async("setMyCommands", count=2, timeout=15)
        worker = service.runtime.search_worker
        assert worker is not None
        await asyncio.wait_for(worker.wait_ready(), 60)
        fake_api.push_text(REP, "客户说太贵了怎么办")
        [card] = await fake_api.wait_for_async("📘", chat_id=REP, timeout=15)
        expected = content.kb[content.index.search("客户说太贵了怎么办", limit=3)[0].entry_id]
        assert expected.title_in("zh") in (card.text or "")
    finally:
        service.stop()
        with contextlib.suppress(asyncio.CancelledError):
            await asyncio.wait_for(task, timeout=15)
    assert service.runtime.search_worker is None  # closed with the bot, no helper left behind
