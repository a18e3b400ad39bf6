"""A running SalesCoach bot (the real python-telegram-bot Application) against the fake Bot API."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator

import pytest
from pydantic import SecretStr

from bot.config import Settings
from bot.engine.content import Content
from bot.runtime import Runtime
from bot.telegram.app import BotService
from tests.fakebot.server import FakeBotApi


def bot_settings(settings: Settings, api: FakeBotApi, chat_send_rate: float = 0.0,
                 search_worker: bool = False) -> Settings:
    """Settings for a bot on the fake; the per-chat pace is off unless a test is about it (a rep in these
    tests answers faster than one message a second), and searches run in-process unless a test is about
    the helper (each would load the knowledge base again)."""
    return settings.model_copy(
        update={"telegram_bot_token": SecretStr(api.token), "telegram_api_base_url": api.base_url,
                "chat_send_rate": chat_send_rate, "search_worker": search_worker}
    )


@pytest.fixture
async def bot(fake_api: FakeBotApi, settings: Settings, content: Content) -> AsyncIterator[BotService]:
    service = BotService(bot_settings(settings, fake_api), Runtime(bot_settings(settings, fake_api), content=content))
    task = asyncio.create_task(service.run(poll_timeout=1))
    await fake_api.wait_for_call_async("setMyCommands", count=2, timeout=15)
    try:
        yield service
    finally:
        service.stop()
        with contextlib.suppress(asyncio.CancelledError):
            await asyncio.wait_for(task, timeout=15)
