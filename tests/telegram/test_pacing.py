"""Telegram's per-chat limit: about one message a second in one chat, short bursts allowed.

A rep who fires off six /log commands gets six replies: the first three at once, the rest about a
second apart, and none lost or doubled; another rep chatting at the same time is not slowed down.
"""

from __future__ import annotations

import asyncio
import contextlib
import itertools

from bot.config import Settings
from bot.engine.content import Content
from bot.runtime import Runtime
from bot.telegram.app import BotService
from tests.fakebot.server import FakeBotApi
from tests.resilience.common import log_totals, processed_exactly_once
from tests.telegram.conftest import bot_settings

BUSY_REP, OTHER_REP = 7801, 7802


async def test_replies_to_one_chat_keep_about_one_per_second_after_a_burst(
    fake_api: FakeBotApi, settings: Settings, content: Content
) -> None:
    config = bot_settings(settings, fake_api, chat_send_rate=1.0)
    service = BotService(config, Runtime(config, content=content))
    task = asyncio.create_task(service.run(poll_timeout=1))
    try:
        await fake_api.wait_for_call_async("setMyCommands", count=2, timeout=15)
        for _ in range(6):
            fake_api.push_text(BUSY_REP, "/log calls 1")
        fake_api.push_text(OTHER_REP, "/log calls 1")
        await fake_api.wait_until_async(lambda: len(log_totals(fake_api, BUSY_REP)) == 6, timeout=30)

        totals = log_totals(fake_api, BUSY_REP)
        assert processed_exactly_once(totals, 6) and all(n == 1 for n in totals.values()), totals
        times = [m.time for m in fake_api.sent(BUSY_REP)]
        gaps = [b - a for a, b in itertools.pairwise(times)]
        assert times[2] - times[0] < 0.9, gaps  # the burst of three goes out at once
        assert all(gap >= 0.9 for gap in gaps[2:]), gaps  # then about one a second
        assert times[-1] - times[0] >= 2.7, gaps
        other = [m.time for m in fake_api.sent(OTHER_REP)]
        assert other and other[0] - times[0] < 0.9  # the other rep did not wait behind the busy one
    finally:
        service.stop()
        with contextlib.suppress(asyncio.CancelledError):
            await asyncio.wait_for(task, timeout=15)
