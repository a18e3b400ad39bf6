"""A team on Telegram, end to end over the fake Bot API: an admin creates it and invites, two reps and a
manager join by deep link, reps log, and the manager's views, chart and export arrive as a manager would
see them; reps and strangers are refused."""

from __future__ import annotations

import asyncio
import contextlib
import io
import re
from collections.abc import AsyncIterator

import openpyxl
import pytest
from sqlalchemy import func, select

from bot.config import Settings
from bot.engine.content import Content
from bot.runtime import Runtime
from bot.telegram.app import BotService
from db.models import ActivityEvent
from tests.fakebot.server import FakeBotApi
from tests.telegram.conftest import bot_settings

ADMIN, LILEI, HAN, MANAGER, STRANGER = 9001, 1001, 1002, 3001, 7777
LINK = re.compile(r"https://t\.me/salescoach_test_bot\?start=(inv_[A-Za-z0-9_-]+)")


@pytest.fixture
async def team_bot(fake_api: FakeBotApi, settings: Settings, content: Content) -> AsyncIterator[BotService]:
    configured = bot_settings(settings, fake_api).model_copy(update={"admins_raw": str(ADMIN)})
    service = BotService(configured, Runtime(configured, content=content))
    task = asyncio.create_task(service.run(poll_timeout=1))
    await fake_api.wait_for_call_async("setMyCommands", count=2, timeout=15)
    try:
        yield service
    finally:
        service.stop()
        with contextlib.suppress(asyncio.CancelledError):
            await asyncio.wait_for(task, timeout=15)


async def say(api: FakeBotApi, user: int, text: str, expect: str, name: str = "Rep") -> str:
    """Send a message as `user` and wait for the bot's reply containing `expect`; the reply's text."""
    mark = api.mark(user)
    api.push_text(user, text, first_name=name)
    found = await api.wait_for_async(expect, chat_id=user, since=mark, timeout=20)
    return found[-1].text or ""


def press(api: FakeBotApi, user: int, label: str, name: str) -> None:
    """Tap the newest inline button whose label contains `label` (as the user, keeping their name)."""
    for message in reversed(api.sent(user)):
        for button in message.buttons:
            if label in str(button.get("text", "")):
                api.push_callback(user, button["callback_data"], message_id=message.message_id, first_name=name)
                return
    raise AssertionError(f"no button {label!r}")


async def events(bot: BotService) -> int:
    async with bot.runtime.sessions() as session:
        return int(await session.scalar(select(func.coalesce(func.sum(ActivityEvent.amount), 0))) or 0)


async def test_team_over_telegram(fake_api: FakeBotApi, team_bot: BotService) -> None:
    await say(fake_api, ADMIN, "/newteam 华东一组", "✅", "管理员")
    rep_link = LINK.search(await say(fake_api, ADMIN, "/invite rep", "https://t.me/", "管理员"))
    manager_link = LINK.search(await say(fake_api, ADMIN, "/invite manager", "https://t.me/", "管理员"))
    assert rep_link and manager_link
    # Opening the deep link makes Telegram send "/start <code>"
    await say(fake_api, LILEI, f"/start {rep_link.group(1)}", "已加入团队「华东一组」", "李雷")
    await say(fake_api, HAN, f"/start {rep_link.group(1)}", "已加入团队「华东一组」", "韩梅梅")
    await say(fake_api, MANAGER, f"/start {manager_link.group(1)}", "经理", "王经理")

    await say(fake_api, LILEI, "/log 电话 12", "合计 12", "李雷")
    await say(fake_api, LILEI, "/log 拜访 2 华为技术", "✅", "李雷")
    await say(fake_api, LILEI, "/log 有效信息 15", "✅", "李雷")
    await say(fake_api, LILEI, "/log 准客户 1", "✅", "李雷")
    await say(fake_api, HAN, "/log 电话 5", "合计 5", "韩梅梅")
    mark = fake_api.mark(HAN)
    fake_api.push_text(HAN, "/log", first_name="韩梅梅")
    await fake_api.wait_for_async("记录什么", chat_id=HAN, since=mark, timeout=20)
    mark = fake_api.mark(HAN)
    press(fake_api, HAN, "名片", "韩梅梅")
    await fake_api.wait_for_async("多少", chat_id=HAN, since=mark, timeout=20)
    press(fake_api, HAN, "3", "韩梅梅")
    await fake_api.wait_until_async(lambda: any("名片 +3" in t for t in fake_api.texts(HAN)), timeout=20)
    total = await events(team_bot)
    assert total == 12 + 2 + 15 + 1 + 5 + 3
    for bad in ("/log 电话 -1", "/log 电话 1000", "/log 电话 abc", "/log 飞机 2", "/log 3.5 电话"):
        reply = await say(fake_api, LILEI, bad, "⚠️", "李雷")
        assert "/log" in reply
    assert await events(team_bot) == total

    team = await say(fake_api, MANAGER, "/team", "📊", "王经理")
    assert "李雷" in team and "韩梅梅" in team
    assert "电话 12" in team.split("李雷")[1].split("韩梅梅")[0] and "电话 5" in team.split("韩梅梅")[1]
    assert "初访 2" in team and "孤儿" not in team
    history = await say(fake_api, MANAGER, "/rep 李雷", "最近 8 周", "王经理")
    assert "0 · 0 · 0 · 0 · 0 · 0 · 0 · 12" in history
    funnel = await say(fake_api, MANAGER, "/funnel", "漏斗", "王经理")
    assert "有效信息:15" in funnel and "准客户:1" in funnel and "15:1" in funnel

    mark = fake_api.mark(MANAGER)
    fake_api.push_text(MANAGER, "/chart 电话", first_name="王经理")
    [chart] = await fake_api.wait_for_async(lambda m: m.kind == "photo", chat_id=MANAGER, since=mark, timeout=30)
    assert chart.photo is not None and chart.photo.startswith(b"\x89PNG\r\n\x1a\n") and len(chart.photo) > 10_000
    assert "电话" in (chart.caption or "")

    mark = fake_api.mark(MANAGER)
    fake_api.push_text(MANAGER, "/export", first_name="王经理")
    [export] = await fake_api.wait_for_async(lambda m: m.kind == "document", chat_id=MANAGER, since=mark, timeout=30)
    assert export.document is not None and (export.filename or "").endswith(".xlsx")
    book = openpyxl.load_workbook(io.BytesIO(export.document))
    sheet = book.worksheets[-1]
    header = next(sheet.iter_rows(min_row=3, max_row=3, values_only=True))
    rows = {r[0]: r for r in sheet.iter_rows(min_row=4, values_only=True)}
    assert rows["李雷"][header.index("电话")] == 12 and rows["韩梅梅"][header.index("名片")] == 3
    assert rows["合计"][header.index("电话")] == 17 and rows["李雷"][header.index("首次拜访")] == 2
    follow_ups = book["客户跟进记录表"]
    assert any("华为技术" in row for row in follow_ups.iter_rows(values_only=True))

    for user, command in ((LILEI, "/team"), (LILEI, "/rep 韩梅梅"), (HAN, "/export"), (STRANGER, "/team"),
                          (STRANGER, "/members"), (STRANGER, "/chart 电话"), (STRANGER, "/invite rep")):
        reply = await say(fake_api, user, command, "⚠️", "路人")
        assert "华东一组" not in reply and "韩梅梅" not in reply.replace("/rep 韩梅梅", "")
    assert not any(m.kind in ("photo", "document") for m in fake_api.sent(LILEI) + fake_api.sent(STRANGER))
