"""Shared fixtures: content loaded once, a migrated database per test (SQLite, or PostgreSQL when
TEST_DATABASE_URL is set), a controllable clock, and a `Rep` who chats with the engine."""

from __future__ import annotations

import os
import uuid
from collections.abc import AsyncIterator, Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
import sqlalchemy as sa

from bot.config import REPO_ROOT, Settings
from bot.engine.content import Content
from bot.runtime import Runtime
from tests.helpers import Clock, Rep

pytest_plugins = ["tests.fakebot.fixtures"]

PG_URL = os.environ.get("TEST_DATABASE_URL", "")


def pytest_report_header() -> str:
    return f"database backends: sqlite{' + postgresql (' + PG_URL.split('@')[-1] + ')' if PG_URL else ''}"


@pytest.fixture(scope="session")
def content() -> Content:
    knowledge = Path(os.environ.get("SALESCOACH_KNOWLEDGE_DIR", REPO_ROOT / "knowledge"))
    talk = Path(os.environ.get("SALESCOACH_TALK_DIR", REPO_ROOT / "scripts_talk"))
    return Content.load(knowledge, talk)


@pytest.fixture(params=["sqlite", "postgresql"] if PG_URL else ["sqlite"])
def database_url(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    if request.param == "sqlite":
        yield f"sqlite+aiosqlite:///{tmp_path / 'test.db'}"
        return
    schema = "t_" + uuid.uuid4().hex[:12]
    yield from _pg_schema(PG_URL, schema)


def _pg_schema(base: str, schema: str) -> Iterator[str]:
    """A fresh schema per test, so tests never see each other's rows or leftovers."""
    import asyncio

    from db.session import create_engine

    async def run(sql: str) -> None:
        engine = create_engine(base)
        async with engine.begin() as conn:
            await conn.execute(sa.text(sql))
        await engine.dispose()

    asyncio.run(run(f'CREATE SCHEMA "{schema}"'))
    try:
        url = sa.engine.make_url(base).update_query_dict({"search_path": schema})
        yield url.render_as_string(hide_password=False)
    finally:
        asyncio.run(run(f'DROP SCHEMA "{schema}" CASCADE'))


@pytest.fixture
def clock() -> Clock:
    return Clock(datetime(2026, 11, 23, 2, 0, tzinfo=UTC))  # Monday 10:00 in Shanghai


@pytest.fixture
def settings(database_url: str) -> Settings:
    return Settings(DATABASE_URL=database_url, TELEGRAM_BOT_TOKEN=None)  # type: ignore[call-arg]


@pytest.fixture
async def runtime(settings: Settings, content: Content, clock: Clock) -> AsyncIterator[Runtime]:
    rt = Runtime(settings, content=content, clock=clock)
    await rt.migrate()
    try:
        yield rt
    finally:
        await rt.close()


@pytest.fixture
def rep(runtime: Runtime) -> Rep:
    return Rep(runtime, user_id=1001, name="李雷", language_code="zh-hans")


@pytest.fixture
def en_rep(runtime: Runtime) -> Rep:
    return Rep(runtime, user_id=2002, name="Alex", language_code="en")


__all__ = ["Clock", "Rep", "timedelta"]
