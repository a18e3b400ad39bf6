"""Pooled PostgreSQL connections: tested before use only after sitting idle (db/session.py)."""

from __future__ import annotations

import uuid

import pytest
import sqlalchemy as sa

import db.session
from bot.config import Settings
from bot.engine.content import Content
from bot.runtime import Runtime
from tests.helpers import Rep


async def _terminate(database_url: str, application_name: str) -> int:
    """End every backend of one application from a connection of its own (as a server restart would)."""
    engine = db.session.create_engine(database_url)
    try:
        async with engine.connect() as conn:
            rows = await conn.execute(
                sa.text("SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE application_name = :name"),
                {"name": application_name},
            )
            return sum(1 for (ok,) in rows if ok)
    finally:
        await engine.dispose()


async def _rep_on_own_connections(database_url: str, content: Content) -> tuple[Runtime, Rep, str]:
    name = "salescoach_idle_" + uuid.uuid4().hex[:8]
    url = sa.engine.make_url(database_url).update_query_dict({"application_name": name})
    settings = Settings(DATABASE_URL=url.render_as_string(hide_password=False),  # type: ignore[call-arg]
                        TELEGRAM_BOT_TOKEN=None)
    runtime = Runtime(settings, content=content)
    await runtime.migrate()
    return runtime, Rep(runtime, user_id=4242, name="韩梅梅", language_code="zh-hans"), name


@pytest.fixture
def pg_url(database_url: str) -> str:
    if not database_url.startswith("postgresql"):
        pytest.skip("pooled connections to a server: PostgreSQL")
    return database_url


async def test_a_connection_dropped_while_idle_is_replaced_before_the_rep_notices(
    pg_url: str, content: Content, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(db.session, "IDLE_PING_SECONDS", 0.0)  # every checkout counts as after a pause
    runtime, rep, name = await _rep_on_own_connections(pg_url, content)
    try:
        assert "电话" in (await rep.say("/log calls 1"))[0].text
        assert await _terminate(pg_url, name) >= 1  # the server restarted while the bot sat idle
        replies = await rep.say("/log calls 2")  # answered at once, not an error and a retry
        assert "电话" in replies[0].text and "⚠️" not in replies[0].text
    finally:
        await runtime.close()


async def test_a_busy_connection_is_not_tested_before_every_transaction(
    pg_url: str, content: Content, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The other side of the bargain: within the idle time the pool trusts its connections (no ping round
    trips); one that died anyway fails its transaction, which the inbox then takes up again."""
    monkeypatch.setattr(db.session, "IDLE_PING_SECONDS", 3600.0)
    runtime, rep, name = await _rep_on_own_connections(pg_url, content)
    try:
        await rep.say("/log calls 1")
        assert await _terminate(pg_url, name) >= 1
        with pytest.raises(sa.exc.DBAPIError):
            await rep.say("/log calls 2")
        assert "电话" in (await rep.say("/log calls 2"))[0].text  # the pool was renewed on the failure
    finally:
        await runtime.close()


@pytest.mark.parametrize(("statement", "writes"), [
    ("SELECT users.id FROM users WHERE users.telegram_id = $1", False),
    ("  select 1", False),
    ("SELECT pg_advisory_xact_lock($1)", True),
    ("SELECT outbox.id FROM outbox WHERE outbox.chat_id = $1 FOR UPDATE", True),
    ("WITH taken AS (UPDATE update_inbox SET status=$1 RETURNING chat_id) SELECT * FROM taken", True),
    ("INSERT INTO activity_events (user_id) VALUES ($1)", True),
    ("SAVEPOINT sa_savepoint_1", True),
    ("SELECT nextval('outbox_id_seq')", True),
])
def test_only_plain_reads_run_outside_a_transaction(statement: str, writes: bool) -> None:
    """PostgreSQL begins an update's transaction at its first statement that is not a plain read."""
    assert db.session.needs_transaction(statement) is writes
