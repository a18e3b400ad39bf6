"""A runtime on its own event loop and SQLite file, shared by all examples of a module (migrating per
example would make fuzzing slow); examples use distinct user ids so they do not see each other."""

from __future__ import annotations

import asyncio
import itertools
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

import pytest
from sqlalchemy import select

from bot.config import Settings
from bot.engine.content import Content
from bot.runtime import Runtime
from db.models import DialogSession, InboxUpdate
from tests.helpers import Clock


@dataclass
class Harness:
    loop: asyncio.AbstractEventLoop
    runtime: Runtime
    clock: Clock
    ids: itertools.count[int]

    def run(self, coro):  # type: ignore[no-untyped-def]
        return self.loop.run_until_complete(coro)

    def impossible_dialogs(self) -> list[str]:
        """Active dialogs whose flow or step does not exist: a state the engine could never resume."""

        async def query() -> list[str]:
            async with self.runtime.sessions() as session:
                rows = (await session.scalars(select(DialogSession).where(DialogSession.status == "active"))).all()
            flows = self.runtime.content.flows
            return [f"{r.flow}/{r.step}" for r in rows if r.flow not in flows or flows[r.flow].step(r.step) is None]

        return self.run(query())  # type: ignore[no-any-return]

    def inbox_status(self, update_id: int) -> str | None:
        async def query() -> str | None:
            async with self.runtime.sessions() as session:
                return await session.scalar(select(InboxUpdate.status).where(InboxUpdate.update_id == update_id))

        return self.run(query())  # type: ignore[no-any-return]


@pytest.fixture(scope="module")
def harness(tmp_path_factory: pytest.TempPathFactory, content: Content) -> Iterator[Harness]:
    path: Path = tmp_path_factory.mktemp("fuzz") / "fuzz.db"
    settings = Settings(DATABASE_URL=f"sqlite+aiosqlite:///{path}", TELEGRAM_BOT_TOKEN=None)  # type: ignore[call-arg]
    loop = asyncio.new_event_loop()
    clock = Clock(datetime(2026, 11, 23, 2, 0, tzinfo=UTC))
    runtime = Runtime(settings, content=content, clock=clock)
    loop.run_until_complete(runtime.migrate())
    try:
        yield Harness(loop, runtime, clock, itertools.count(1))
    finally:
        loop.run_until_complete(runtime.close())
        loop.close()
