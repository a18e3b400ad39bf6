"""Two webhook workers sharing PostgreSQL: per-chat order, no duplicates, no loss."""

from __future__ import annotations

import os
import random
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from bot.config import REPO_ROOT, Settings
from bot.telegram.app import webhook_secret
from tests.fakebot.server import FakeBotApi
from tests.telegram.test_e2e import free_port

pytestmark = pytest.mark.skipif(not os.environ.get("TEST_DATABASE_URL"), reason="needs TEST_DATABASE_URL")

SCRIPT = [("/prep", "拜访哪位客户"), ("客户{chat}", "要见的是谁"), ("王经理", "阶段"), ("1", "目的"),
          ("了解需求", "现在用的是什么")]


@pytest.fixture
def workers(database_url: str, tmp_path: Path) -> Iterator[tuple[FakeBotApi, list[str], str]]:
    if not database_url.startswith("postgresql"):
        pytest.skip("several workers need PostgreSQL")
    api = FakeBotApi(webhook_auto_deliver=False)
    api.start()
    procs: list[subprocess.Popen[bytes]] = []
    urls: list[str] = []
    try:
        for i in range(2):
            port = free_port()
            url = f"http://127.0.0.1:{port}/telegram"
            env = {**os.environ, **api.env(), "DATABASE_URL": database_url,
                   "SALESCOACH_WEBHOOK_LISTEN": f"127.0.0.1:{port}", "SALESCOACH_LOG_LEVEL": "DEBUG"}
            log = (tmp_path / f"worker{i}.log").open("wb")
            procs.append(subprocess.Popen([sys.executable, "-m", "bot.cli", "run", "--webhook", url], env=env,
                                          cwd=REPO_ROOT, stdout=log, stderr=log))
            urls.append(url)
            api.wait_for_call("setWebhook", count=i + 1, timeout=60)
        secret = webhook_secret(Settings(TELEGRAM_BOT_TOKEN=api.token), api.token)  # type: ignore[call-arg]
        yield api, urls, secret
    finally:
        for proc in procs:
            proc.terminate()
        for proc in procs:
            proc.wait(timeout=15)
        api.stop()


def test_interleaved_updates_through_two_workers(workers: tuple[FakeBotApi, list[str], str]) -> None:
    api, urls, secret = workers
    chats = [9100 + i for i in range(6)]
    rng = random.Random(7)
    # each chat's messages in order; chats interleaved; each update to a random worker
    cursors = dict.fromkeys(chats, 0)
    deadline = time.time() + 90
    while any(c < len(SCRIPT) for c in cursors.values()):
        chat = rng.choice([c for c in chats if cursors[c] < len(SCRIPT)])
        text, _expect = SCRIPT[cursors[chat]]
        update = api.make_text_update(chat, text.format(chat=chat))
        assert api.post_update_to(rng.choice(urls), update, secret) == 200
        cursors[chat] += 1
        if rng.random() < 0.3:  # sometimes Telegram re-delivers the same update to the other worker
            assert api.post_update_to(rng.choice(urls), update, secret) == 200
    for chat in chats:
        api.wait_for(lambda m: "现在用的是什么" in (m.text or ""), chat_id=chat,
                     timeout=max(1.0, deadline - time.time()))
    for chat in chats:
        texts = [m.text or "" for m in api.sent(chat)]
        prompts = [next((i for i, (_t, expect) in enumerate(SCRIPT) if expect in text), None) for text in texts]
        order = [p for p in prompts if p is not None]
        assert order == list(range(len(SCRIPT))), (chat, [t[:12].replace("\n", " ") for t in texts])  # each prompt once, in order
