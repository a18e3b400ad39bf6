"""The search helper process: the same answers as searching in the bot, and never a rep left waiting."""

from __future__ import annotations

import asyncio
import os
import signal
from pathlib import Path

import pytest

from bot.config import REPO_ROOT
from bot.engine.content import Content
from bot.kb.worker import STUCK_AFTER, SearchWorker

QUESTIONS = ["客户说太贵了怎么办", "怎么问出客户的真实需求", "how do I ask for the next meeting", "客户一直拖着不签单",
             "什么是SPIN提问", "周末去哪儿玩"]


def _dirs() -> tuple[Path, Path]:
    return (Path(os.environ.get("SALESCOACH_KNOWLEDGE_DIR", REPO_ROOT / "knowledge")),
            Path(os.environ.get("SALESCOACH_TALK_DIR", REPO_ROOT / "scripts_talk")))


async def _ready(worker: SearchWorker) -> None:
    await asyncio.wait_for(worker.wait_ready(), 60)


async def test_the_helper_answers_as_the_bot_would(content: Content) -> None:
    worker = SearchWorker(*_dirs(), fallback=content.index)
    await worker.start()
    try:
        await _ready(worker)
        for question in QUESTIONS:
            theirs = await worker.search(question, 3)
            ours = content.index.search(question, limit=3)
            # the same entries, the same decision to answer outright; scores may differ in the last
            # decimals between processes (hash-seeded set order in float sums)
            assert [(h.entry_id, h.confident, h.guarded) for h in theirs] == [
                (h.entry_id, h.confident, h.guarded) for h in ours], question
            assert [h.score for h in theirs] == pytest.approx([h.score for h in ours], abs=0.2)
    finally:
        await worker.close()


async def test_a_helper_that_dies_costs_no_answer_and_comes_back(content: Content) -> None:
    worker = SearchWorker(*_dirs(), fallback=content.index)
    await worker.start()
    try:
        await _ready(worker)
        process = worker._process
        assert process is not None
        os.kill(process.pid, signal.SIGKILL)
        await process.wait()
        await asyncio.sleep(0.1)  # the reader notices the closed pipe
        hits = await worker.search("客户说太贵了怎么办", 3)  # answered in the bot process meanwhile
        assert hits and hits[0].entry_id == content.index.search("客户说太贵了怎么办", limit=3)[0].entry_id
        assert not worker.ready
        worker._next_start = 0.0  # no need to wait out the pause between restarts here
        await worker.search("客户说太贵了怎么办", 3)
        await _ready(worker)
        assert worker._process is not None and worker._process.pid != process.pid
    finally:
        await worker.close()
    assert worker._process is None


async def test_a_silent_helper_is_not_waited_for_long_and_is_replaced(content: Content) -> None:
    worker = SearchWorker(*_dirs(), fallback=content.index, timeout=0.2)
    await worker.start()
    try:
        await _ready(worker)
        process = worker._process
        assert process is not None
        os.kill(process.pid, signal.SIGSTOP)  # alive, but not answering
        try:
            for _ in range(STUCK_AFTER):
                async with asyncio.timeout(5):
                    hits = await worker.search("怎么问出客户的真实需求", 3)
                assert hits == content.index.search("怎么问出客户的真实需求", limit=3)
            await asyncio.wait_for(process.wait(), 5)  # given up on and killed
        finally:
            if process.returncode is None:
                os.kill(process.pid, signal.SIGCONT)
        worker._next_start = 0.0
        await worker.search("怎么问出客户的真实需求", 3)
        await _ready(worker)  # a new one answers
        assert worker._process is not None and worker._process.pid != process.pid
    finally:
        await worker.close()
