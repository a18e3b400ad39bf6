"""kill -9 in the middle of /prep: after a restart the rep carries on where they were."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from bot.config import REPO_ROOT
from tests.fakebot.server import FakeBotApi

REP = 7001


class BotProcess:
    """`salescoach run` as a real subprocess against the fake Bot API."""

    def __init__(self, api: FakeBotApi, database_url: str, log: Path, search_worker: bool = True) -> None:
        self.env = {**os.environ, **api.env(), "DATABASE_URL": database_url, "SALESCOACH_LOG_LEVEL": "INFO",
                    "SALESCOACH_SEARCH_WORKER": str(search_worker).lower()}
        self.log = log
        self.proc: subprocess.Popen[bytes] | None = None

    def start(self) -> None:
        with self.log.open("ab") as out:
            self.proc = subprocess.Popen(
                [sys.executable, "-m", "bot.cli", "run"], env=self.env, cwd=REPO_ROOT, stdout=out, stderr=out
            )

    def helpers(self) -> list[int]:
        """Process ids of the bot's children (its search helper)."""
        assert self.proc is not None
        tasks = Path(f"/proc/{self.proc.pid}/task")
        return [int(c) for t in tasks.iterdir() for c in (t / "children").read_text().split()] if tasks.exists() else []

    def kill9(self) -> None:
        assert self.proc is not None
        self.proc.send_signal(signal.SIGKILL)
        self.proc.wait(timeout=10)

    def stop(self) -> None:
        if self.proc is not None and self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.proc.kill()


@pytest.fixture
def bot_process(fake_api: FakeBotApi, database_url: str, tmp_path: Path) -> Iterator[BotProcess]:
    process = BotProcess(fake_api, database_url, tmp_path / "bot.log")
    process.start()
    try:
        yield process
    finally:
        process.stop()


def _alive(pid: int) -> bool:
    try:
        state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except OSError:
        return False
    return state != "Z"  # a zombie has exited; init reaps it


def say(api: FakeBotApi, text: str, expect: str, timeout: float = 20.0) -> None:
    mark = api.mark(REP)
    api.push_text(REP, text)
    api.wait_for(expect, chat_id=REP, since=mark, timeout=timeout)


def test_kill_9_mid_prep_then_restart_resumes(fake_api: FakeBotApi, bot_process: BotProcess) -> None:
    say(fake_api, "/prep", "拜访哪位客户", timeout=30)
    say(fake_api, "华为技术", "要见的是谁")
    helpers = bot_process.helpers()
    assert helpers  # the search helper runs beside the bot
    bot_process.kill9()
    for pid in helpers:  # … and leaves when the bot dies: its questions pipe is closed
        fake_api.wait_until(lambda pid=pid: not _alive(pid), timeout=30, message=f"helper {pid} still running")
    mark = fake_api.mark(REP)
    fake_api.push_text(REP, "王经理")  # sent while the bot is down
    bot_process.start()
    fake_api.wait_for("阶段", chat_id=REP, since=mark, timeout=30)
    say(fake_api, "2", "目的")


def test_update_acknowledged_before_a_crash_is_processed_after_restart(
    fake_api: FakeBotApi, bot_process: BotProcess
) -> None:
    say(fake_api, "/prep", "拜访哪位客户", timeout=30)
    for i in range(5):
        fake_api.push_text(REP, "/repeat")
        if i == 2:
            fake_api.wait_until(lambda: any(c.method == "getUpdates" for c in fake_api.calls()), timeout=5)
    bot_process.kill9()
    bot_process.start()
    mark = fake_api.mark(REP)
    say(fake_api, "中兴通讯", "要见的是谁", timeout=30)
    # every /repeat was answered exactly once in all (before or after the crash), and nothing twice
    repeats = [m for m in fake_api.sent(REP)[:mark] + fake_api.sent(REP)[mark:] if "拜访哪位客户" in (m.text or "")]
    assert 1 + 5 <= len(repeats) <= 1 + 5 + 1  # a reply sent just before the kill may be re-sent once
