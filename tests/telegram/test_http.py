"""The bot's HTTP transport (aiohttp under PTB): what PTB needs from it, seen from the Bot API's side."""

from __future__ import annotations

import socket

import pytest
from telegram import Bot, InlineKeyboardButton, InlineKeyboardMarkup
from telegram.error import NetworkError, RetryAfter, TimedOut

from bot.telegram.app import BotService
from bot.telegram.http import AiohttpRequest
from bot.telegram.sender import SendingBot
from db.store import Store
from tests.fakebot.server import FakeBotApi

REP = 4242


def _bot(api: FakeBotApi, request: AiohttpRequest) -> Bot:
    return Bot(api.token, base_url=api.base_url, base_file_url=api.base_file_url, request=request,
               get_updates_request=AiohttpRequest(connections=1))


async def test_text_buttons_and_files_reach_the_api_intact(fake_api: FakeBotApi) -> None:
    async with _bot(fake_api, AiohttpRequest()) as bot:
        markup = InlineKeyboardMarkup([[InlineKeyboardButton("查看本周 ✅", callback_data="week:0")]])
        sent = await bot.send_message(REP, "本周拜访 3 次 & 名片 2 张", reply_markup=markup)
        await bot.send_document(REP, document=b"a,b\n1,2\n", filename="周报.csv")
    [text, document] = fake_api.sent(REP)
    assert sent.message_id == text.message_id and text.text == "本周拜访 3 次 & 名片 2 张"
    assert fake_api.calls("sendMessage")[0].params["reply_markup"]["inline_keyboard"][0][0]["callback_data"] == "week:0"
    assert document.document == b"a,b\n1,2\n" and document.filename == "周报.csv"


async def test_replies_sent_as_text_reach_the_api_intact_and_fail_as_ptb_would(fake_api: FakeBotApi) -> None:
    """The outbox's sends skip reading Telegram's answer into a Message, nothing else: same request,
    same errors."""
    async with SendingBot(fake_api.token, base_url=fake_api.base_url, base_file_url=fake_api.base_file_url,
                          request=AiohttpRequest(), get_updates_request=AiohttpRequest(connections=1)) as bot:
        markup = InlineKeyboardMarkup([[InlineKeyboardButton("再练一次 🔁", callback_data="rp:again")]])
        await bot.send_text(REP, "本周拜访 3 次 & 名片 2 张", reply_markup=markup)
        await bot.send_text(REP, "no buttons")
        fake_api.fail_next("sendMessage", kind="429", retry_after=3)
        with pytest.raises(RetryAfter):
            await bot.send_text(REP, "too fast")
    assert [m.text for m in fake_api.sent(REP)] == ["本周拜访 3 次 & 名片 2 张", "no buttons"]
    [with_buttons, plain, _refused] = [call.params for call in fake_api.calls("sendMessage")]
    assert with_buttons["reply_markup"]["inline_keyboard"][0][0]["callback_data"] == "rp:again"
    assert "reply_markup" not in plain


async def test_a_stalled_answer_is_a_timeout(fake_api: FakeBotApi) -> None:
    async with _bot(fake_api, AiohttpRequest(read_timeout=0.3)) as bot:
        fake_api.fail_next("sendMessage", kind="timeout", delay=1.5)
        with pytest.raises(TimedOut):
            await bot.send_message(REP, "hello")


async def test_an_unreachable_api_is_a_network_error() -> None:
    with socket.socket() as probe:  # a port nobody listens on
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    request = AiohttpRequest(connect_timeout=2.0)
    await request.initialize()
    try:
        with pytest.raises(NetworkError):
            await request.post(f"http://127.0.0.1:{port}/bot1:x/getMe")
    finally:
        await request.shutdown()
    with pytest.raises(NetworkError, match="not initialized"):  # PTB wraps the transport's errors
        await request.post(f"http://127.0.0.1:{port}/bot1:x/getMe")


async def test_the_inbox_keeps_each_update_as_telegram_sent_it(fake_api: FakeBotApi, bot: BotService) -> None:
    uid = fake_api.push_text(REP, "客户说太贵了怎么办", first_name="韩梅梅")
    await fake_api.wait_for_async(1, chat_id=REP, timeout=15)
    async with bot.runtime.sessions() as session:
        stored = await Store(session).inbox.payloads([uid])
    assert stored[uid] == fake_api.update(uid)  # what crash recovery replays is the original, field for field


def test_proxies_come_from_the_environment_once_per_host(monkeypatch: pytest.MonkeyPatch) -> None:
    for name in ("https_proxy", "HTTPS_PROXY", "all_proxy", "ALL_PROXY", "no_proxy", "NO_PROXY"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("HTTPS_PROXY", "http://proxy.example:3128")
    monkeypatch.setenv("NO_PROXY", "127.0.0.1,localhost")
    request = AiohttpRequest()
    assert request._proxy("https://api.telegram.org/bot1:x/getMe") == "http://proxy.example:3128"
    assert request._proxy("http://127.0.0.1:8081/bot1:x/getMe") is None  # a local Bot API server
    monkeypatch.setenv("HTTPS_PROXY", "http://other.example:8080")
    assert request._proxy("https://api.telegram.org/bot1:x/sendMessage") == "http://proxy.example:3128"  # kept
