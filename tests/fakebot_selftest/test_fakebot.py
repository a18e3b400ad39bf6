"""Proves FakeBotApi works with the real python-telegram-bot (22.x) end to end."""

from __future__ import annotations

import asyncio
import contextlib
import datetime as dtm
import os
import signal
import socket
import subprocess
import sys
import time
from collections.abc import AsyncIterator
from pathlib import Path

import pytest
from aiohttp import web
from telegram import (
    Bot,
    InlineKeyboardButton,
    InlineKeyboardMarkup,
    InputMediaDocument,
    InputMediaPhoto,
    Message,
    Update,
)
from telegram.error import BadRequest, Conflict, Forbidden, InvalidToken, NetworkError, RetryAfter, TimedOut
from telegram.ext import (
    Application,
    BaseHandler,
    CallbackQueryHandler,
    CommandHandler,
    ContextTypes,
    MessageHandler,
    filters,
)
from telegram.request import HTTPXRequest

from tests.fakebot import ApiError, FakeBotApi, tiny_png
from tests.fakebot.validate import to_plain

USER = 1001


def _bot(api: FakeBotApi, read_timeout: float | None = None) -> Bot:
    request = HTTPXRequest(read_timeout=read_timeout) if read_timeout else None
    return Bot(api.token, base_url=api.base_url, base_file_url=api.base_file_url, request=request)


@contextlib.asynccontextmanager
async def polling_app(api: FakeBotApi, *handlers: BaseHandler) -> AsyncIterator[Application]:  # type: ignore[type-arg]
    app = api.application_builder().build()
    for handler in handlers:
        app.add_handler(handler)
    async with app:
        await app.start()
        assert app.updater is not None
        await app.updater.start_polling(poll_interval=0.0, timeout=1)
        try:
            yield app
        finally:
            await app.updater.stop()
            await app.stop()


def _seconds(value: int | dtm.timedelta) -> float:
    return value.total_seconds() if isinstance(value, dtm.timedelta) else float(value)


# ---------------------------------------------------------------------- the Application


async def test_echo_command_and_callback_through_application(fake_api: FakeBotApi) -> None:
    keyboard = InlineKeyboardMarkup([[InlineKeyboardButton("再来一次", callback_data="again:1")]])

    async def start(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
        assert update.effective_message is not None
        await update.effective_message.reply_text(f"hi {context.args}")

    async def echo(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
        assert update.effective_message is not None
        assert update.effective_user is not None
        lang = update.effective_user.language_code
        await update.effective_message.reply_text(
            f"<b>echo</b>: {update.effective_message.text} ({lang})", parse_mode="HTML", reply_markup=keyboard
        )

    async def pressed(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
        query = update.callback_query
        assert query is not None
        assert isinstance(query.message, Message)
        await query.answer("收到")
        await query.edit_message_text(f"{query.message.text_html} → pressed {query.data}", parse_mode="HTML")

    async with polling_app(
        fake_api,
        CommandHandler("start", start),
        MessageHandler(filters.TEXT & ~filters.COMMAND, echo),
        CallbackQueryHandler(pressed),
    ):
        fake_api.push_text(USER, "/start promo")
        await fake_api.wait_for_async("hi ['promo']", chat_id=USER)

        fake_api.push_text(USER, "你好")
        [reply] = await fake_api.wait_for_async("你好", chat_id=USER)
        assert reply.text == "<b>echo</b>: 你好 (zh-hans)"
        assert reply.plain_text == "echo: 你好 (zh-hans)"
        assert reply.button_texts == ["再来一次"]
        # the Message PTB got back carries the entities Telegram would derive from the HTML
        assert fake_api.calls("sendMessage")[-1].result["entities"] == [
            {"offset": 0, "length": 4, "type": "bold"}
        ]
        assert reply.reply_to_message_id is None

        fake_api.press_button(USER, "再来")
        [answer] = await fake_api.wait_for_call_async("answerCallbackQuery")
        assert answer.params["text"] == "收到"
        await fake_api.wait_for_async("→ pressed again:1", chat_id=USER)
        assert reply.text == "<b>echo</b>: 你好 (zh-hans) → pressed again:1"
        assert reply.edited
        assert reply.reply_markup is None  # editMessageText without reply_markup drops the keyboard
        assert [m.message_id for m in fake_api.sent(USER)] == [2, 4]  # ids shared with the user's messages
    # every update the bot saw was confirmed when polling stopped
    assert fake_api.pending_updates() == []


async def test_user_document_is_downloadable_by_the_bot(fake_api: FakeBotApi) -> None:
    payload = b"PK\x03\x04 fake xlsx bytes"

    async def on_document(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
        message = update.effective_message
        assert message is not None
        assert message.document is not None
        data = await (await message.document.get_file()).download_as_bytearray()
        await message.reply_text(f"got {message.document.file_name} {len(data)} {bytes(data) == payload}")

    async with polling_app(fake_api, MessageHandler(filters.Document.ALL, on_document)):
        fake_api.push_document(USER, payload, "客户名单.xlsx")
        [reply] = await fake_api.wait_for_async(1, chat_id=USER)
    assert reply.text == f"got 客户名单.xlsx {len(payload)} True"


# ---------------------------------------------------------------------- files


async def test_send_photo_and_document_round_trip(fake_api: FakeBotApi) -> None:
    png = tiny_png(3, 2)
    async with _bot(fake_api) as bot:
        msg = await bot.send_photo(USER, photo=png, caption="<i>周报</i>", parse_mode="HTML")
        assert msg.photo[-1].width == 3
        assert msg.caption == "周报"
        assert msg.caption_html == "<i>周报</i>"
        doc = await bot.send_document(USER, document=b"PK\x03\x04xlsx", filename="report.xlsx")
        assert doc.document is not None
        assert doc.document.file_name == "report.xlsx"
        # the bot can fetch its own upload again through base_file_url
        again = await (await bot.get_file(msg.photo[-1].file_id)).download_as_bytearray()
        assert bytes(again) == png

    photo, document = fake_api.sent(USER)
    assert photo.kind == "photo"
    assert photo.photo == png
    assert photo.caption == "<i>周报</i>"
    assert document.document == b"PK\x03\x04xlsx"
    assert document.filename == "report.xlsx"
    assert document.file is not None
    assert document.file.mime_type == "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


# ---------------------------------------------------------------------- faults


@pytest.mark.filterwarnings("ignore::telegram.warnings.PTBDeprecationWarning")
async def test_429_is_retry_after_in_ptb(fake_api: FakeBotApi) -> None:
    fake_api.fail_next("sendMessage", kind="429", retry_after=3)
    async with _bot(fake_api) as bot:
        with pytest.raises(RetryAfter) as caught:
            await bot.send_message(USER, "x")
        assert _seconds(caught.value.retry_after) == 3
        await bot.send_message(USER, "second try works")
    assert [f.kind for f in fake_api.faults] == ["429"]
    assert [m.text for m in fake_api.sent()] == ["second try works"]
    first, second = fake_api.calls("sendMessage")
    assert (first.status, first.fault, second.status) == (429, "429", 200)


async def test_server_errors_reset_and_forbidden(fake_api: FakeBotApi) -> None:
    fake_api.fail_next("sendMessage", kind="500")
    fake_api.fail_next("sendMessage", kind="502")
    fake_api.fail_next("sendMessage", kind="reset")
    fake_api.fail_next("sendMessage", kind="403")
    async with _bot(fake_api) as bot:
        for _ in range(3):
            with pytest.raises(NetworkError) as caught:
                await bot.send_message(USER, "x")
            assert not isinstance(caught.value, TimedOut)
        with pytest.raises(Forbidden, match=r"(?i)blocked"):
            await bot.send_message(USER, "x")
        await bot.send_message(USER, "ok")
        fake_api.block_chat(USER)
        with pytest.raises(Forbidden):
            await bot.send_chat_action(USER, "typing")
    assert [f.kind for f in fake_api.faults] == ["500", "502", "reset", "403"]
    assert fake_api.texts() == ["ok"]


async def test_timeout_fault(fake_api: FakeBotApi) -> None:
    fake_api.fail_next("sendMessage", kind="timeout", delay=0.6)
    fake_api.fail_next("sendMessage", kind="timeout", delay=0.6, apply=True)
    async with _bot(fake_api, read_timeout=0.2) as bot:
        with pytest.raises(TimedOut):
            await bot.send_message(USER, "lost")
        with pytest.raises(TimedOut):
            await bot.send_message(USER, "delivered, answer lost")
    assert fake_api.texts() == ["delivered, answer lost"]
    assert [f.kind for f in fake_api.faults] == ["timeout", "timeout"]


# ---------------------------------------------------------------------- getUpdates semantics


async def test_long_poll_returns_promptly_when_an_update_arrives(fake_api: FakeBotApi) -> None:
    async with _bot(fake_api) as bot:
        started = time.monotonic()
        assert await bot.get_updates(timeout=0) == ()
        assert time.monotonic() - started < 1.0

        poll = asyncio.create_task(bot.get_updates(timeout=5))
        await asyncio.sleep(0.2)
        assert not poll.done()
        started = time.monotonic()
        uid = fake_api.push_text(USER, "wake up")
        updates = await asyncio.wait_for(poll, 2)
        assert time.monotonic() - started < 1.0
        assert [u.update_id for u in updates] == [uid]
        assert updates[0].message is not None
        assert updates[0].message.text == "wake up"

        started = time.monotonic()
        assert len(await bot.get_updates(timeout=1)) == 1  # not confirmed yet: delivered again
        await bot.get_updates(offset=uid + 1, timeout=dtm.timedelta(seconds=0.3))
        assert 0.25 < time.monotonic() - started < 1.5  # nothing new: waited for the timeout
    assert fake_api.delivery_count(uid) == 2
    assert fake_api.is_confirmed(uid)


async def test_offset_confirms_and_drops_updates(fake_api: FakeBotApi) -> None:
    ids = [fake_api.push_text(USER, f"m{i}") for i in range(4)]
    assert ids == sorted(ids)
    assert len(set(ids)) == 4
    async with _bot(fake_api) as bot:
        assert [u.update_id for u in await bot.get_updates(limit=2)] == ids[:2]
        # offset = ids[2] confirms ids[0] and ids[1] for good
        assert [u.update_id for u in await bot.get_updates(offset=ids[2])] == ids[2:]
        assert [u.update_id for u in await bot.get_updates(offset=ids[0])] == ids[2:]
        assert [u["update_id"] for u in fake_api.pending_updates()] == ids[2:]
        assert await bot.get_updates(offset=ids[-1] + 1) == ()
    assert fake_api.pending_updates() == []
    assert all(fake_api.is_confirmed(i) for i in ids)


async def test_second_long_poll_terminates_the_first_with_conflict(fake_api: FakeBotApi) -> None:
    async with _bot(fake_api) as first, _bot(fake_api) as second:
        old = asyncio.create_task(first.get_updates(timeout=3))
        await asyncio.sleep(0.2)
        new = asyncio.create_task(second.get_updates(timeout=dtm.timedelta(seconds=0.2)))
        with pytest.raises(Conflict, match=r"(?i)terminated by other getUpdates"):
            await asyncio.wait_for(old, 2)
        assert await new == ()


async def test_wrong_token_is_unauthorized(fake_api: FakeBotApi) -> None:
    bot = Bot("999:WRONG", base_url=fake_api.base_url)
    try:
        with pytest.raises(InvalidToken):
            await bot.initialize()
    finally:
        await bot.shutdown()
    assert fake_api.calls("getMe")[0].status == 401


# ---------------------------------------------------------------------- Telegram's limits


async def test_telegram_limits_are_enforced(fake_api: FakeBotApi) -> None:
    async with _bot(fake_api) as bot:
        with pytest.raises(BadRequest, match=r"(?i)message is too long"):
            await bot.send_message(USER, "长" * 4097)
        await bot.send_message(USER, "长" * 4096)
        # the limit counts visible characters, after HTML parsing
        await bot.send_message(USER, "<b>" + "a" * 4090 + "</b>", parse_mode="HTML")
        with pytest.raises(BadRequest, match=r"(?i)message text is empty"):
            await bot.send_message(USER, "")
        with pytest.raises(BadRequest, match=r"(?i)message text is empty"):
            await bot.send_message(USER, "<b> </b>", parse_mode="HTML")
        too_long = InlineKeyboardMarkup([[InlineKeyboardButton("x", callback_data="数" * 22)]])  # 66 bytes
        with pytest.raises(BadRequest, match=r"(?i)BUTTON_DATA_INVALID"):
            await bot.send_message(USER, "menu", reply_markup=too_long)
        with pytest.raises(BadRequest, match=r"(?i)can't parse entities"):
            await bot.send_message(USER, "价格 < 100", parse_mode="HTML")
        with pytest.raises(BadRequest, match=r"(?i)can't parse entities"):
            await bot.send_message(USER, "<b>unclosed", parse_mode="HTML")
        with pytest.raises(BadRequest, match=r"(?i)Character '\.' is reserved"):
            await bot.send_message(USER, "*好* 1.5", parse_mode="MarkdownV2")
        await bot.send_message(USER, r"*好* 1\.5 `a.b`", parse_mode="MarkdownV2")

        msg = await bot.send_message(USER, "same")
        with pytest.raises(BadRequest, match=r"(?i)message is not modified"):
            await bot.edit_message_text("same", chat_id=USER, message_id=msg.message_id)
        await bot.delete_message(USER, msg.message_id)
        with pytest.raises(BadRequest, match=r"(?i)message to edit not found"):
            await bot.edit_message_text("new", chat_id=USER, message_id=msg.message_id)
        with pytest.raises(BadRequest, match=r"(?i)query is too old"):
            await bot.answer_callback_query("12345")
    assert len(fake_api.sent(USER, include_deleted=False)) == 3
    assert fake_api.sent(USER)[-1].deleted


async def test_string_params_survive_form_encoding(fake_api: FakeBotApi) -> None:
    async with _bot(fake_api) as bot:
        await bot.send_message(USER, "123")
        await bot.send_message(USER, "true")
        await bot.send_message(USER, '{"a": 1}')
    assert fake_api.texts(USER) == ["123", "true", '{"a": 1}']
    assert fake_api.calls("sendMessage")[0].params["chat_id"] == USER


async def test_commands_menu_button_chat_actions_and_edits(fake_api: FakeBotApi) -> None:
    from telegram import BotCommand, BotCommandScopeChat, MenuButtonCommands

    async with _bot(fake_api) as bot:
        await bot.set_my_commands(
            [BotCommand("start", "开始"), BotCommand("help", "帮助")], language_code="zh"
        )
        await bot.set_my_commands([BotCommand("start", "Start")], scope=BotCommandScopeChat(USER))
        with pytest.raises(BadRequest, match=r"(?i)BOT_COMMAND_INVALID"):
            await bot.set_my_commands([BotCommand("Bad-Name", "x")])
        assert [c.command for c in await bot.get_my_commands(language_code="zh")] == ["start", "help"]
        assert await bot.get_my_commands() == ()
        await bot.set_chat_menu_button(USER, MenuButtonCommands())
        assert isinstance(await bot.get_chat_menu_button(USER), MenuButtonCommands)
        await bot.send_chat_action(USER, "typing")
        msg = await bot.send_message(
            USER,
            "v1",
            reply_markup=InlineKeyboardMarkup.from_button(InlineKeyboardButton("a", callback_data="a")),
        )
        await bot.edit_message_reply_markup(
            USER,
            msg.message_id,
            reply_markup=InlineKeyboardMarkup.from_button(InlineKeyboardButton("b", callback_data="b")),
        )
        edited = await bot.edit_message_text("v2", chat_id=USER, message_id=msg.message_id)
        assert isinstance(edited, object)
    assert [c["command"] for c in fake_api.commands(language_code="zh")] == ["start", "help"]
    assert fake_api.commands({"type": "chat", "chat_id": USER}) == [
        {"command": "start", "description": "Start"}
    ]
    assert fake_api.menu_button(USER) == {"type": "commands"}
    assert fake_api.chat_actions(USER) == ["typing"]
    [sent] = fake_api.sent(USER)
    assert sent.text == "v2"
    assert [(e.method, e.new_text) for e in sent.edits] == [
        ("editMessageReplyMarkup", "v1"),
        ("editMessageText", "v2"),
    ]
    assert sent.edits[0].new_reply_markup == {"inline_keyboard": [[{"text": "b", "callback_data": "b"}]]}


# ---------------------------------------------------------------------- webhook mode


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


async def test_webhook_mode(fake_api: FakeBotApi) -> None:
    async def echo(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
        assert update.effective_message is not None
        await update.effective_message.reply_text(f"hook: {update.effective_message.text}")

    app = fake_api.application_builder().updater(None).build()
    app.add_handler(MessageHandler(filters.TEXT, echo))

    async def receive(request: web.Request) -> web.Response:
        if request.headers.get("X-Telegram-Bot-Api-Secret-Token") != "s3cret":
            return web.Response(status=403)
        await app.update_queue.put(Update.de_json(await request.json(), app.bot))
        return web.Response()

    hook = web.Application()
    hook.router.add_post("/hook", receive)
    runner = web.AppRunner(hook)
    await runner.setup()
    port = _free_port()
    await web.TCPSite(runner, "127.0.0.1", port).start()
    url = f"http://127.0.0.1:{port}/hook"
    try:
        async with app:
            await app.start()
            await app.bot.set_webhook(url, secret_token="s3cret")
            assert fake_api.webhook is not None
            assert fake_api.webhook["secret_token"] == "s3cret"
            # pushed updates are POSTed to the webhook, as Telegram would
            uid = fake_api.push_text(USER, "auto")
            await fake_api.wait_for_async("hook: auto", chat_id=USER)
            await fake_api.wait_until_async(lambda: fake_api.is_confirmed(uid))
            # or deliver one by hand
            update = fake_api.make_text_update(USER, "manual")
            assert await fake_api.post_update_to_async(url, update, "s3cret") == 200
            assert await fake_api.post_update_to_async(url, update, "wrong") == 403
            await fake_api.wait_for_async("hook: manual", chat_id=USER)
            with pytest.raises(Conflict, match=r"(?i)webhook is active"):
                await app.bot.get_updates()
            await app.bot.delete_webhook()
            assert fake_api.webhook is None
            await app.stop()
    finally:
        await runner.cleanup()
    assert [d.status for d in fake_api.webhook_deliveries] == [200]


# ---------------------------------------------------------------------- subprocess bot (sync test)


def _start_echo_bot(api: FakeBotApi) -> subprocess.Popen[bytes]:
    script = Path(__file__).with_name("echo_bot.py")
    return subprocess.Popen([sys.executable, str(script)], env=api.env(), stdout=subprocess.DEVNULL)


def test_subprocess_bot_survives_kill_9_and_restart(fake_api: FakeBotApi) -> None:
    bot = _start_echo_bot(fake_api)
    try:
        fake_api.push_text(USER, "one")
        fake_api.wait_for("echo: one", chat_id=USER, timeout=10)
        # PTB confirms an update with its next getUpdates; killed before that, the bot would
        # get "one" again after the restart (at-least-once delivery, like Telegram)
        fake_api.wait_until(lambda: fake_api.pending_updates() == [], message="'one' confirmed")
        os.kill(bot.pid, signal.SIGKILL)
        bot.wait(5)
        # the dead bot's long poll stays parked until its timeout; an update pushed before
        # then is answered to the dead connection and lost to it, as on Telegram
        fake_api.wait_until(lambda: fake_api.polls_waiting() == 0, message="dead poll expired")

        uid = fake_api.push_text(USER, "two")  # arrives while the bot is down
        assert not fake_api.is_confirmed(uid)
        bot = _start_echo_bot(fake_api)
        fake_api.wait_for("echo: two", chat_id=USER, timeout=10)
        assert fake_api.texts(USER) == ["echo: one", "echo: two"]
        assert fake_api.delivery_count(uid) == 1
    finally:
        bot.kill()
        bot.wait(5)
    assert len(fake_api.calls("getMe")) == 2


# ---------------------------------------------------------------------- the waiting helpers


def test_wait_for_explains_what_was_received(fake_api: FakeBotApi) -> None:
    with pytest.raises(AssertionError, match=r"(?s)timed out.*'nope'.*The bot sent 0 message"):
        fake_api.wait_for("nope", chat_id=USER, timeout=0.1)


async def test_sync_wait_refuses_to_block_a_running_loop(fake_api: FakeBotApi) -> None:
    with pytest.raises(RuntimeError, match="wait_for_async"):
        fake_api.wait_for(1, timeout=0.1)
    with pytest.raises(AssertionError):
        await fake_api.wait_for_async(1, timeout=0.05)


# ---------------------------------------------------------------------- more update kinds and methods


async def test_user_media_and_raw_updates_parse_in_ptb(fake_api: FakeBotApi) -> None:
    ids = [
        fake_api.push_sticker(USER, emoji="😀"),
        fake_api.push_photo(USER, caption="名片"),
        fake_api.push_voice(USER, duration=3),
        fake_api.push_document(USER, b"a,b\n1,2\n", "data.csv"),
        fake_api.push_text(-100500, "/help@salescoach_test_bot", chat_id=-1001234, username="lilei"),
    ]
    user = {"id": USER, "is_bot": False, "first_name": "Rep"}
    raw_id = fake_api.push_raw(
        {
            "edited_message": {
                "message_id": 1,
                "date": 1_700_000_000,
                "edit_date": 1_700_000_060,
                "chat": {"id": USER, "type": "private", "first_name": "Rep"},
                "from": user,
                "text": "edited",
            }
        }
    )
    async with _bot(fake_api) as bot:
        updates = await bot.get_updates()
        assert [u.update_id for u in updates] == [*ids, raw_id]
        sticker, photo, voice, document, command, edited = updates
        assert sticker.message is not None
        assert sticker.message.sticker is not None
        assert sticker.message.sticker.emoji == "😀"
        assert photo.message is not None
        assert photo.message.caption == "名片"
        data = await (await bot.get_file(photo.message.photo[-1].file_id)).download_as_bytearray()
        assert bytes(data) == tiny_png()
        assert voice.message is not None
        assert voice.message.voice is not None
        assert voice.message.voice.mime_type == "audio/ogg"
        assert document.message is not None
        assert document.message.document is not None
        assert document.message.document.mime_type == "text/csv"
        assert command.message is not None
        assert command.message.chat.type == "supergroup"
        assert command.message.entities[0].type == "bot_command"
        assert command.message.entities[0].length == len("/help@salescoach_test_bot")
        assert edited.edited_message is not None
        assert edited.edited_message.text == "edited"

        # replies, media groups, stickers by file_id, getChat
        reply = await bot.send_message(USER, "re", reply_to_message_id=photo.message.message_id)
        assert reply.reply_to_message is not None
        assert reply.reply_to_message.caption == "名片"
        group = await bot.send_media_group(
            USER, [InputMediaPhoto(tiny_png()), InputMediaDocument(b"x", filename="x.txt", caption="doc")]
        )
        assert len(group) == 2
        assert group[0].media_group_id == group[1].media_group_id
        await bot.send_sticker(USER, sticker.message.sticker.file_id)
        chat = await bot.get_chat(USER)
        assert chat.type == "private"
    assert [m.kind for m in fake_api.sent(USER)] == ["text", "photo", "document", "sticker"]
    assert fake_api.sent(USER)[0].reply_to_message_id == photo.message.message_id


def test_restart_on_the_same_port_keeps_state() -> None:
    api = FakeBotApi()
    with api:
        port = api.port
        api.push_text(USER, "kept")
    assert not api.running
    with api:
        assert api.port == port
        assert [u["message"]["text"] for u in api.pending_updates()] == ["kept"]


# ---------------------------------------------------------------------- markup checks (no server)


@pytest.mark.parametrize(
    ("mode", "text", "plain"),
    [
        (
            "HTML",
            '<b>粗</b> <a href="https://x.y/?a=1&amp;b=2">链接</a> &lt;t&gt; <code>x &lt; y</code>',
            "粗 链接 <t> x < y",
        ),
        ("HTML", '<span class="tg-spoiler">s</span><blockquote expandable>q</blockquote>', "sq"),
        (
            "MarkdownV2",
            r"*粗* _斜_ __下__ ~删~ ||剧透|| `a.b` [链接](https://x\.y) 1\.5",
            "粗 斜 下 删 剧透 a.b 链接 1.5",
        ),
        ("MarkdownV2", ">引用\n>二", "引用\n二"),
        ("Markdown", "*bold* _it_ [l](http://a.b)", "bold it l"),
        (None, "<b>1.5</b>", "<b>1.5</b>"),
    ],
)
def test_markup_is_parsed_like_telegram(mode: str | None, text: str, plain: str) -> None:
    assert to_plain(text, mode) == plain


@pytest.mark.parametrize(
    ("mode", "text"),
    [
        ("HTML", "a <br> b"),
        ("HTML", "<b><i>x</b></i>"),
        ("HTML", "5 < 6"),
        ("HTML", "<b>open"),
        ("MarkdownV2", "1.5"),
        ("MarkdownV2", "a-b"),
        ("MarkdownV2", "snake_case"),
        ("MarkdownV2", "a (b)"),
        ("MarkdownV2", "*open"),
    ],
)
def test_bad_markup_is_rejected(mode: str, text: str) -> None:
    with pytest.raises(ApiError, match="can't parse entities"):
        to_plain(text, mode)
