"""PostgreSQL goes away under load: the bot's connections are killed again and again while updates stream in.

Restarting the shared server is not safe in CI, so another connection terminates every connection of
this bot (found by its application_name) with pg_terminate_backend, repeatedly. The bot reconnects and
goes on; no update is lost or processed twice: each rep's "/log calls 1" replies show the totals 1..n.
A reply whose "sent" mark died with its connection may be sent again.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import uuid

import pytest
import sqlalchemy as sa

from bot.config import Settings
from bot.engine.content import Content
from bot.runtime import Runtime
from bot.telegram.app import BotService
from db.session import create_engine
from tests.fakebot.server import FakeBotApi
from tests.resilience.common import log_totals, processed_exactly_once
from tests.telegram.conftest import bot_settings

pytestmark = pytest.mark.skipif(not os.environ.get("TEST_DATABASE_URL"), reason="needs TEST_DATABASE_URL")

CHATS = [7601, 7602, 7603, 7604]
PER_CHAT = 10


async def terminate_forever(base_url: str, application_name: str, interval: float, killed: list[int]) -> None:
    """Every `interval` seconds, end every backend of the bot (and only the bot's)."""
    engine = create_engine(base_url)
    try:
        while True:
            with contextlib.suppress(Exception):  # the killer's own connection may hiccup too
                async with engine.connect() as conn:
                    rows = await conn.execute(
                        sa.text("SELECT pg_terminate_backend(pid) FROM pg_stat_activity "
                                "WHERE application_name = :name AND pid <> pg_backend_pid()"),
                        {"name": application_name},
                    )
                    killed.append(sum(1 for (ok,) in rows if ok))
            await asyncio.sleep(interval)
    finally:
        await engine.dispose()


async def test_bot_reconnects_after_its_connections_are_terminated_and_loses_nothing(
    fake_api: FakeBotApi, database_url: str, settings: Settings, content: Content
) -> None:
    if not database_url.startswith("postgresql"):
        pytest.skip("terminating backends is a PostgreSQL test")
    name = "salescoach_pgfault_" + uuid.uuid4().hex[:8]
    url = sa.engine.make_url(database_url).update_query_dict({"application_name": name})
    bot_config = bot_settings(settings, fake_api).model_copy(
        update={"database_url": url.render_as_string(hide_password=False)})
    service = BotService(bot_config, Runtime(bot_config, content=content))
    task = asyncio.create_task(service.run(poll_timeout=1))
    killed: list[int] = []
    killer: asyncio.Task[None] | None = None
    try:
        await fake_api.wait_for_call_async("getUpdates", timeout=30)  # up and polling (start-up: test_db_blips)
        killer = asyncio.create_task(terminate_forever(database_url, name, 0.4, killed))
        for i in range(PER_CHAT):
            for chat in CHATS:
                fake_api.push_text(chat, "/log calls 1")
            await asyncio.sleep(0.15 + 0.1 * (i % 3))
        await asyncio.sleep(1.0)  # a few more terminations after the last update
        killer.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await killer
        await fake_api.wait_until_async(
            lambda: all(set(range(1, PER_CHAT + 1)) <= set(log_totals(fake_api, c)) for c in CHATS),
            timeout=90, message="not every /log was answered after the connections were killed")
        print(f"terminated {sum(killed)} connections of the bot in {len(killed)} passes")
        assert sum(killed) > 0, "no connection of the bot was terminated: the test tested nothing"
        for chat in CHATS:
            totals = log_totals(fake_api, chat)
            assert processed_exactly_once(totals, PER_CHAT), (chat, totals)
        # every update confirmed to Telegram: the poller may still be backing off from a failed store whose
        # insert did commit (the rescan processed those updates meanwhile); its retry then confirms them
        await fake_api.wait_until_async(lambda: not fake_api.pending_updates(), timeout=60,
                                        message="updates left unconfirmed at the fake Bot API")
        mark = fake_api.mark(CHATS[0])  # and it is healthy afterwards
        fake_api.push_text(CHATS[0], "/week")
        await fake_api.wait_for_async("电话", chat_id=CHATS[0], since=mark, timeout=30)
    finally:
        if killer is not None:
            killer.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await killer
        service.stop()
        with contextlib.suppress(asyncio.CancelledError):
            await asyncio.wait_for(task, timeout=30)
