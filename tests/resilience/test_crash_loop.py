"""kill -9 at random moments while updates stream in, several rounds, then restart: nothing lost, nothing twice.

Reps keep sending "/log calls 1" while the bot process is killed and restarted. Every update the fake
handed out (acknowledged or not) must end up processed exactly once: each rep's /log replies show the
running totals 1..n (no gap, nothing beyond n) and the activity table holds n events per rep. A reply
sent just before a kill may be sent again after the restart (its "sent" mark was not committed), at most
once per kill. A rep in the middle of /prep carries on where they were.
"""

from __future__ import annotations

import os
import random
import threading
import time
from pathlib import Path

import pytest
from sqlalchemy import func, select

from db.models import ActivityEvent, User
from db.session import create_engine
from tests.fakebot.server import FakeBotApi
from tests.resilience.common import log_totals, processed_exactly_once
from tests.telegram.test_crash import BotProcess

CHATS = [7501, 7502, 7503, 7504]
PER_CHAT = 10
ROUNDS = 4
PREP_CHAT = 7599


def polls(api: FakeBotApi) -> int:
    return len(api.calls("getUpdates"))


def wait_polling(api: FakeBotApi, before: int, timeout: float = 60.0) -> None:
    """Until the (re)started bot has asked for updates: it is up, its outbox recovered."""
    api.wait_until(lambda: polls(api) > before, timeout=timeout, message="the bot did not start polling")


async def activity_per_chat(database_url: str) -> dict[int, int]:
    engine = create_engine(database_url)
    try:
        async with engine.connect() as conn:
            rows = await conn.execute(
                select(User.telegram_id, func.count(ActivityEvent.id))
                .join(ActivityEvent, ActivityEvent.user_id == User.id)
                .group_by(User.telegram_id)
            )
            return {int(chat): int(n) for chat, n in rows}
    finally:
        await engine.dispose()


@pytest.fixture
def seed() -> int:
    value = int(os.environ.get("CRASH_LOOP_SEED", random.randrange(1_000_000)))
    print(f"CRASH_LOOP_SEED={value}")  # shown on failure: rerun with the same moments
    return value


def test_kill_9_in_a_loop_while_updates_stream_in(
    fake_api: FakeBotApi, database_url: str, tmp_path: Path, seed: int
) -> None:
    import asyncio

    rng = random.Random(seed)
    bot = BotProcess(fake_api, database_url, tmp_path / "bot.log", search_worker=False)  # restarts many times
    bot.start()
    try:
        wait_polling(fake_api, 0)
        mark = fake_api.mark(PREP_CHAT)
        fake_api.push_text(PREP_CHAT, "/prep")
        fake_api.wait_for("拜访哪位客户", chat_id=PREP_CHAT, since=mark, timeout=30)

        plan = [chat for chat in CHATS for _ in range(PER_CHAT)]
        rng.shuffle(plan)
        gaps = [rng.uniform(0.05, 0.45) for _ in plan]  # the stream outlasts most of the kills

        def feed() -> None:
            for chat, gap in zip(plan, gaps, strict=True):
                fake_api.push_text(chat, "/log calls 1")
                time.sleep(gap)

        feeder = threading.Thread(target=feed, name="feeder")
        feeder.start()
        for _ in range(ROUNDS):
            time.sleep(rng.uniform(0.05, 1.2))
            bot.kill9()
            before = polls(fake_api)
            bot.start()
            wait_polling(fake_api, before)
        feeder.join()

        fake_api.wait_until(lambda: all(set(range(1, PER_CHAT + 1)) <= set(log_totals(fake_api, c)) for c in CHATS),
                            timeout=60, message="not every /log was answered after the restarts")
        for chat in CHATS:
            totals = log_totals(fake_api, chat)
            assert processed_exactly_once(totals, PER_CHAT), (chat, totals)
            assert sum(totals.values()) - PER_CHAT <= ROUNDS, (chat, totals)  # re-sent at most once per kill
        assert not fake_api.pending_updates()

        mark = fake_api.mark(PREP_CHAT)  # the conversation resumes at the step it had reached
        fake_api.push_text(PREP_CHAT, "华为技术")
        fake_api.wait_for("要见的是谁", chat_id=PREP_CHAT, since=mark, timeout=30)
    finally:
        bot.stop()
    counts = asyncio.run(activity_per_chat(database_url))
    assert {chat: counts.get(chat, 0) for chat in CHATS} == dict.fromkeys(CHATS, PER_CHAT)
