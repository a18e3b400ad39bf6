"""Two webhook workers on one PostgreSQL, hammered from many chats at once: order kept, each update counted once.

The workers of tests/telegram/test_workers.py, but with chats posting concurrently (one thread per chat,
each chat's updates in order, as Telegram sends them), every update to a random worker and a third of
them delivered again to a random worker at the same time. Each rep's /log replies must read 1, 2, …, n
in the order they arrive: none lost, none counted twice, none out of order, and no reply sent twice.
"""

from __future__ import annotations

import os
import random
import threading
from typing import Any

import pytest

from tests.fakebot.server import FakeBotApi
from tests.resilience.common import TOTAL, log_totals
from tests.telegram.test_workers import workers

pytestmark = pytest.mark.skipif(not os.environ.get("TEST_DATABASE_URL"), reason="needs TEST_DATABASE_URL")

__all__ = ["workers"]

CHATS = [9300 + i for i in range(8)]
PER_CHAT = 8


def test_concurrent_chats_through_two_workers_keep_order_and_count_once(
    workers: tuple[FakeBotApi, list[str], str],
) -> None:
    api, urls, secret = workers
    failures: list[str] = []

    def post(url: str, update: dict[str, Any], statuses: list[int]) -> None:
        statuses.append(api.post_update_to(url, update, secret))

    def chat_session(chat: int) -> None:
        rng = random.Random(chat)
        for _ in range(PER_CHAT):
            update = api.make_text_update(chat, "/log calls 1")
            deliveries = [rng.choice(urls)] + ([rng.choice(urls)] if rng.random() < 0.33 else [])
            statuses: list[int] = []
            threads = [threading.Thread(target=post, args=(url, update, statuses)) for url in deliveries]
            for thread in threads:
                thread.start()
            for thread in threads:
                thread.join()
            if statuses != [200] * len(deliveries):
                failures.append(f"chat {chat}: webhook answered {statuses}")

    sessions = [threading.Thread(target=chat_session, args=(chat,)) for chat in CHATS]
    for thread in sessions:
        thread.start()
    for thread in sessions:
        thread.join()
    assert not failures, failures
    api.wait_until(lambda: all(sum(log_totals(api, c).values()) >= PER_CHAT for c in CHATS), timeout=90,
                   message="not every /log was answered")
    for chat in CHATS:
        shown = [int(m.group(1)) for s in api.sent(chat) if (m := TOTAL.search(s.text or ""))]
        assert shown == list(range(1, PER_CHAT + 1)), (chat, shown)
