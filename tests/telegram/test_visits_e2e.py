"""Over the fake Bot API: a rep prepares a first visit, debriefs it, and the reminder of the next
visit arrives when the (injected) clock reaches it — sent once, even though the loop keeps running."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator
from datetime import UTC, datetime

import pytest

from bot.config import Settings
from bot.engine.content import Content
from bot.runtime import Runtime
from bot.telegram.app import BotService
from tests.fakebot.server import FakeBotApi
from tests.helpers import Clock
from tests.telegram.conftest import bot_settings

REP = 6161


@pytest.fixture
async def timed_bot(fake_api: FakeBotApi, settings: Settings, content: Content, clock: Clock) -> AsyncIterator[BotService]:
    """The real bot with the test clock and a fast reminder pass (the pass polls; the test never sleeps
    to make time pass, it moves the clock)."""
    configured = bot_settings(settings, fake_api)
    service = BotService(configured, Runtime(configured, content=content, clock=clock), reminder_interval=0.05)
    task = asyncio.create_task(service.run(poll_timeout=1))
    await fake_api.wait_for_call_async("setMyCommands", count=2, timeout=15)
    try:
        yield service
    finally:
        service.stop()
        with contextlib.suppress(asyncio.CancelledError):
            await asyncio.wait_for(task, timeout=15)


async def step(api: FakeBotApi, action: str, value: str, expect: str) -> None:
    mark = api.mark(REP)
    if action == "button":
        api.press_button(REP, value)
    else:
        api.push_text(REP, value, first_name="小李")
    await api.wait_for_async(expect, chat_id=REP, since=mark, timeout=10)


async def test_visit1_to_done_then_debrief_and_the_reminder_arrives(
    fake_api: FakeBotApi, timed_bot: BotService, clock: Clock
) -> None:
    script = [
        ("text", "/visit1", "第一次拜访哪位客户"),
        ("text", "华为技术", "你打算怎么做"),
        ("button", "学生和听众", "要见的是谁"),
        ("text", "王经理,采购部", "王经理好"),
        ("text", "/skip", "轻松话题"),
        ("text", "/skip", "提出议程"),
        ("text", "了解示波器的需求", "多少分钟"),
        ("text", "20", "20分钟"),
        ("text", "/skip", "由宽到窄"),
        ("text", "你们现在用的是泰克的示波器吗?", "封闭式"),
        ("text", "贵公司在哪些方面有重点需求?", "已记下"),
        ("button", "完成", "重点需求"),
        ("text", "/skip", "下次来做什么"),
        ("text", "带供货方案来汇报", "想约在什么时候"),
        ("text", "下周二上午", "请核对"),
        ("button", "保存", "/debrief1"),  # the ✅ script card, then the debrief offer
        ("button", "拜访后复盘", "拜访的是哪位客户"),
        ("button", "华为技术", "主要目的"),
        ("button", "达到了", "客户确认的需求"),
        ("text", "交货周期太长", "已记下"),
        ("button", "完成", "内线"),
        ("button", "是", "名片"),
        ("text", "1", "哪个阶段"),
        ("button", "普通信息", "约好下次拜访"),
        ("button", "是", "哪天"),
        ("text", "明天", "下次去做什么"),
        ("text", "/skip", "还有什么要记下"),
        ("text", "/skip", "请核对"),
        ("button", "保存", "已设提醒"),  # after the ✅ debrief card
    ]
    for action, value, expect in script:
        await step(fake_api, action, value, expect)
    assert any((m.text or "").startswith("✅ 第一次拜访已保存") for m in fake_api.sent(REP))

    mark = fake_api.mark(REP)
    clock.now = datetime(2026, 11, 23, 8, 0, tzinfo=UTC)  # 16:00 in Shanghai, the day before the visit
    [eve] = await fake_api.wait_for_async("明天", chat_id=REP, since=mark, timeout=10)
    assert "华为技术" in (eve.text or "") and "电话" in (eve.text or "")
    clock.now = datetime(2026, 11, 24, 0, 30, tzinfo=UTC)  # 08:30 on the day
    [morning] = await fake_api.wait_for_async("今天", chat_id=REP, since=mark + 1, timeout=10)
    assert "/visit2" in (morning.text or "")
    for _ in range(5):  # several more passes of the loop: nothing is sent twice
        await timed_bot.reminders.tick()
    reminders = [m for m in fake_api.sent(REP)[mark:] if "华为技术" in (m.text or "")]
    assert len(reminders) == 2
