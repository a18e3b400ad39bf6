"""One database error at a chosen moment (a dropped connection, a failed commit): the bot retries and goes on.

Deterministic companions of test_pg_restart.py: the error is injected into one repository call, on SQLite
and PostgreSQL alike, so each recovery path is exercised every run.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from typing import Any

import pytest
from sqlalchemy.exc import OperationalError

from bot.config import Settings
from bot.engine.content import Content
from bot.runtime import Runtime
from bot.telegram.app import BotService
from db.store import Inbox, Outbox, Store
from tests.fakebot.server import FakeBotApi
from tests.resilience.common import log_totals, processed_exactly_once
from tests.telegram.conftest import bot_settings

REP = 7701


def fail_once(original: Callable[..., Awaitable[Any]], after: bool = False) -> Callable[..., Awaitable[Any]]:
    """`original`, except that its first call raises the error a dropped connection gives (after running,
    with `after`: the work was done but the caller never heard)."""
    calls = {"n": 0}

    async def wrapper(*args: Any, **kwargs: Any) -> Any:
        calls["n"] += 1
        if calls["n"] == 1 and not after:
            raise OperationalError("injected", {}, ConnectionResetError("connection lost"))
        result = await original(*args, **kwargs)
        if calls["n"] == 1:
            raise OperationalError("injected", {}, ConnectionResetError("connection lost"))
        return result

    return wrapper


async def run_logs(api: FakeBotApi, n: int = 3, timeout: float = 30.0) -> None:  # noqa: ASYNC109
    for _ in range(n):
        api.push_text(REP, "/log calls 1")
    await api.wait_until_async(lambda: set(range(1, n + 1)) <= set(log_totals(api, REP)), timeout=timeout)
    totals = log_totals(api, REP)
    assert processed_exactly_once(totals, n), totals
    assert not any("⚠️" in (m.text or "") for m in api.sent(REP)), "a retried update got an error reply"


async def test_a_transaction_that_loses_its_connection_is_retried(
    fake_api: FakeBotApi, bot: BotService, monkeypatch: pytest.MonkeyPatch
) -> None:
    await fake_api.wait_for_call_async("getUpdates", timeout=15)  # up: the error hits the updates' path
    # the first statement of an update's handling, and the last (on PostgreSQL the update is taken there)
    monkeypatch.setattr(Store, "begin_update", fail_once(Store.begin_update))
    monkeypatch.setattr(Store, "end_update", fail_once(Store.end_update))
    await run_logs(fake_api)


async def test_a_commit_whose_answer_is_lost_does_not_process_twice(
    fake_api: FakeBotApi, bot: BotService, monkeypatch: pytest.MonkeyPatch
) -> None:
    await fake_api.wait_for_call_async("getUpdates", timeout=15)
    monkeypatch.setattr(Store, "commit", fail_once(Store.commit, after=True))
    await run_logs(fake_api)


async def test_storing_updates_in_the_inbox_is_retried_before_they_are_confirmed(
    fake_api: FakeBotApi, bot: BotService, monkeypatch: pytest.MonkeyPatch
) -> None:
    await fake_api.wait_for_call_async("getUpdates", timeout=15)
    monkeypatch.setattr(Inbox, "add_many", fail_once(Inbox.add_many))
    await run_logs(fake_api)


async def test_marking_a_reply_sent_fails_and_it_is_not_lost(
    fake_api: FakeBotApi, bot: BotService, monkeypatch: pytest.MonkeyPatch
) -> None:
    await fake_api.wait_for_call_async("getUpdates", timeout=15)
    monkeypatch.setattr(Outbox, "settle", fail_once(Outbox.settle))
    await run_logs(fake_api)


async def test_a_database_error_while_the_poller_starts_does_not_stop_the_bot(
    fake_api: FakeBotApi, settings: Settings, content: Content, monkeypatch: pytest.MonkeyPatch
) -> None:
    import asyncio
    import contextlib

    monkeypatch.setattr(Inbox, "max_update_id", fail_once(Inbox.max_update_id))
    config = bot_settings(settings, fake_api)
    service = BotService(config, Runtime(config, content=content))
    task = asyncio.create_task(service.run(poll_timeout=1))
    try:
        await fake_api.wait_until_async(lambda: task.done() or bool(fake_api.calls("getUpdates")), timeout=15)
        assert not task.done(), "the bot stopped"
        await run_logs(fake_api, 1, timeout=10)
    finally:
        service.stop()
        with contextlib.suppress(asyncio.CancelledError):
            await asyncio.wait_for(task, timeout=15)


async def test_a_reply_whose_recording_answer_is_lost_still_arrives_once(
    fake_api: FakeBotApi, bot: BotService, monkeypatch: pytest.MonkeyPatch
) -> None:
    """/week writes nothing: on PostgreSQL its reply and the update's take commit in one statement. If
    that statement's answer is lost, the reply is there all the same and goes out once, not twice."""
    await fake_api.wait_for_call_async("getUpdates", timeout=15)
    monkeypatch.setattr(Store, "end_update", fail_once(Store.end_update, after=True))
    fake_api.push_text(REP, "/week")
    await fake_api.wait_until_async(lambda: bool(fake_api.sent(REP)), timeout=30)
    await asyncio.sleep(1.5)  # a second copy would follow within the dispatcher's next passes
    replies = fake_api.sent(REP)
    assert len(replies) == 1 and "⚠️" not in (replies[0].text or ""), [m.text for m in replies]
