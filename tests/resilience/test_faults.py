"""Telegram answers with errors: 429 with retry_after, 5xx, timeouts and connection resets, on sendMessage and
getUpdates. The bot retries with backoff, loses no update and no reply, and processes each update once.

Exactly once is observed through /log: every "/log calls 1" reply shows the running weekly total, so a
rep who sent n of them must see the totals 1..n — a gap would be a lost update, n+1 a double processing,
and the same total twice a reply sent twice. A send whose answer is lost after Telegram delivered it
(timeout with the message applied) is the one case where a reply may arrive twice: the bot cannot know
it went out, and resends rather than lose it.
"""

from __future__ import annotations

import itertools
from pathlib import Path

import pytest

from bot.telegram.app import BotService
from tests.fakebot.server import FakeBotApi
from tests.resilience.common import log_totals, processed_exactly_once

REP = 7301
LOGS = 3
PTB_READ_TIMEOUT = 5.0  # python-telegram-bot's default; a fault that stalls longer is a client-side timeout


@pytest.fixture
def database_url(tmp_path: Path) -> str:
    """Transport faults do not depend on the database: SQLite only, to keep the suite fast."""
    return f"sqlite+aiosqlite:///{tmp_path / 'faults.db'}"



async def wait_for_totals(api: FakeBotApi, chat_id: int, n: int, timeout: float = 60.0) -> None:  # noqa: ASYNC109
    await api.wait_until_async(lambda: set(range(1, n + 1)) <= set(log_totals(api, chat_id)), timeout=timeout)


@pytest.mark.parametrize("kind", ["429", "500", "502", "reset", "timeout"])
async def test_send_faults_are_retried_and_each_reply_arrives_once(
    fake_api: FakeBotApi, bot: BotService, kind: str
) -> None:
    times = 1 if kind == "timeout" else 2
    fake_api.fail_next("sendMessage", times=times, kind=kind, retry_after=1,  # type: ignore[arg-type]
                       delay=PTB_READ_TIMEOUT + 0.5)
    for _ in range(LOGS):
        fake_api.push_text(REP, "/log calls 1")
    await wait_for_totals(fake_api, REP, LOGS)
    totals = log_totals(fake_api, REP)
    assert processed_exactly_once(totals, LOGS), totals
    assert all(count == 1 for count in totals.values()), f"a reply arrived twice: {totals}"
    failed = [f for f in fake_api.faults if f.method == "sendMessage"]
    assert [f.kind for f in failed] == [kind] * times
    if times == 2:  # the retry waited instead of hammering the API
        first, second = (c for c in fake_api.calls("sendMessage") if c.fault)
        assert second.time - first.time >= 0.4


async def test_a_send_whose_answer_is_lost_may_arrive_twice_but_never_not_at_all(
    fake_api: FakeBotApi, bot: BotService
) -> None:
    fake_api.fail_next("sendMessage", kind="timeout", apply=True, delay=PTB_READ_TIMEOUT + 0.5)
    for _ in range(LOGS):
        fake_api.push_text(REP, "/log calls 1")
    await wait_for_totals(fake_api, REP, LOGS)
    totals = log_totals(fake_api, REP)
    assert processed_exactly_once(totals, LOGS), totals
    assert sum(totals.values()) <= LOGS + 1  # only the ambiguous send may be repeated, once


@pytest.mark.parametrize("kind", ["429", "500", "502", "reset", "timeout"])
async def test_get_updates_faults_lose_no_update(fake_api: FakeBotApi, bot: BotService, kind: str) -> None:
    await fake_api.wait_for_call_async("getUpdates", timeout=15)
    # a 429 first holds the bot back, so the updates are waiting when the faulty getUpdates comes; a timeout
    # takes effect at the fake (the updates are handed out) and only the answer is lost
    fake_api.fail_next("getUpdates", kind="429", retry_after=1)
    fake_api.fail_next("getUpdates", kind=kind, retry_after=1, apply=kind == "timeout",  # type: ignore[arg-type]
                       delay=PTB_READ_TIMEOUT + 1 + 1.0)
    await fake_api.wait_until_async(lambda: any(f.method == "getUpdates" for f in fake_api.faults), timeout=15)
    ids = [fake_api.push_text(REP, "/log calls 1") for _ in range(LOGS)]
    await wait_for_totals(fake_api, REP, LOGS, timeout=60)
    totals = log_totals(fake_api, REP)
    assert processed_exactly_once(totals, LOGS), totals
    assert all(count == 1 for count in totals.values()), totals
    assert [f.kind for f in fake_api.faults if f.method == "getUpdates"] == ["429", kind]
    await fake_api.wait_until_async(lambda: all(fake_api.is_confirmed(i) for i in ids), timeout=15)
    if kind == "timeout":
        assert all(fake_api.delivery_count(i) >= 2 for i in ids)  # handed out twice, processed once


async def test_fan_out_to_50_chats_stays_within_telegrams_overall_rate(
    fake_api: FakeBotApi, bot: BotService
) -> None:
    """50 reps at once: replies go out no faster than about 30 messages per second overall.

    The limiter is a leaky bucket (python-telegram-bot's AIORateLimiter): a burst of 30, then 30 per
    second, so any k consecutive sends need at least (k − 30) / 30 seconds.
    """
    chats = [7400 + i for i in range(50)]
    for chat in chats:
        fake_api.push_text(chat, "/log calls 1")
    await fake_api.wait_until_async(lambda: all(log_totals(fake_api, c) for c in chats), timeout=60)
    times = sorted(m.time for c in chats for m in fake_api.sent(c))
    assert len(times) == len(chats)  # one reply each, none lost, none twice
    rate, burst, slack = 30.0, 30, 2
    for i in range(len(times)):
        for j in range(i + burst + slack, len(times)):
            sends = j - i + 1
            assert times[j] - times[i] >= (sends - burst - slack) / rate, (
                f"{sends} sends within {times[j] - times[i]:.2f}s")
    for chat in chats:  # and no chat gets more than one message per second
        sent = [m.time for m in fake_api.sent(chat)]
        assert all(b - a >= 1.0 for a, b in itertools.pairwise(sent))
