"""Alembic stairway: every revision upgrades, downgrades and upgrades again on SQLite and PostgreSQL."""

from __future__ import annotations

import asyncio

from alembic.script import ScriptDirectory
from sqlalchemy import inspect

from db.session import alembic_config, create_engine, downgrade, upgrade


def revisions(url: str) -> list[str]:
    script = ScriptDirectory.from_config(alembic_config(url))
    return [r.revision for r in reversed(list(script.walk_revisions()))]


async def tables(url: str) -> set[str]:
    engine = create_engine(url)
    async with engine.connect() as conn:
        names = await conn.run_sync(lambda sync: set(inspect(sync).get_table_names()))
    await engine.dispose()
    return names


def test_stairway(database_url: str) -> None:
    revs = revisions(database_url)
    assert revs[0] == "0001"
    previous = "base"
    for rev in revs:
        upgrade(database_url, rev)
        downgrade(database_url, previous)
        upgrade(database_url, rev)
        previous = rev
    created = asyncio.run(tables(database_url))
    assert {"users", "teams", "memberships", "dialog_sessions", "customers", "activity_events", "update_inbox",
            "outbox"} <= created
    downgrade(database_url, "base")
    assert asyncio.run(tables(database_url)) <= {"alembic_version"}
