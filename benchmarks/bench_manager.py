"""How fast the manager's views answer on a big team: 200 reps × 52 weeks of activity events.

Seeds one team (200 reps, one manager, 20 customers per rep, ~25 events per rep per week ≈ 260,000
events) and times /team, /funnel and /rep through the whole engine (one update, one transaction, every
query of the command), on SQLite and, when TEST_DATABASE_URL is set or PostgreSQL answers on
127.0.0.1:5432, on PostgreSQL in a throw-away schema. Goal: each under 300 ms.

    .venv/bin/python benchmarks/bench_manager.py [--reps 200] [--weeks 52] [--runs 15]
"""

from __future__ import annotations

import argparse
import asyncio
import os
import random
import socket
import statistics
import sys
import tempfile
import time
import uuid
from datetime import UTC, datetime, timedelta
from pathlib import Path

import sqlalchemy as sa

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bot.config import Settings
from bot.engine.content import Content
from bot.engine.events import InboundEvent
from bot.runtime import Runtime
from db.models import ActivityEvent, Customer, Membership, Team, User
from db.session import create_engine

GOAL_MS = 300
NOW = datetime(2026, 11, 27, 8, 0, tzinfo=UTC)  # a Friday afternoon in Shanghai
MANAGER = 900_000
KINDS = [("calls", 8, 6), ("visits_first", 3, 3), ("visits_second", 2, 2), ("cards", 3, 3), ("next_meetings", 2, 2),
         ("leads", 3, 4), ("effective_leads", 1, 2), ("quasi_customers", 1, 1), ("deals", 1, 1),
         ("inside_contacts", 1, 1)]  # (metric, events per week, max amount per event)


def postgres_url() -> str | None:
    url = os.environ.get("TEST_DATABASE_URL")
    if url:
        return url
    with socket.socket() as sock:
        sock.settimeout(0.5)
        if sock.connect_ex(("127.0.0.1", 5432)) == 0:
            return "postgresql+asyncpg://postgres@127.0.0.1:5432/test"
    return None


async def seed(url: str, reps: int, weeks: int) -> int:
    """Insert the team directly (bulk inserts); returns the number of activity events."""
    rng = random.Random(42)
    engine = create_engine(url)
    start = NOW - timedelta(weeks=weeks)
    async with engine.begin() as conn:
        team_id = (await conn.execute(sa.insert(Team).values(name="华东大区", timezone="Asia/Shanghai",
                                                             created_at=start).returning(Team.id))).scalar_one()
        users = [{"telegram_id": 100_000 + i, "name": f"销售{i:03d}", "language": "zh", "language_chosen": True,
                  "timezone": "Asia/Shanghai", "created_at": start, "last_seen_at": NOW} for i in range(reps)]
        users.append({"telegram_id": MANAGER, "name": "经理", "language": "zh", "language_chosen": True,
                      "timezone": "Asia/Shanghai", "created_at": start, "last_seen_at": NOW})
        await conn.execute(sa.insert(User), users)
        ids = {int(t): int(u) for t, u in await conn.execute(sa.select(User.telegram_id, User.id))}
        rep_ids = [ids[100_000 + i] for i in range(reps)]
        await conn.execute(sa.insert(Membership), [
            {"team_id": team_id, "user_id": uid, "role": "rep", "created_at": start} for uid in rep_ids
        ] + [{"team_id": team_id, "user_id": ids[MANAGER], "role": "manager", "created_at": start}])
        await conn.execute(sa.insert(Customer), [
            {"owner_id": uid, "name": f"客户{uid}-{c}", "contact": "", "stage": rng.choice(["lead", "effective", "quasi"]),
             "relationship": "C", "value_tier": "", "attitude": "", "created_at": start, "updated_at": start}
            for uid in rep_ids for c in range(20)
        ])
        customers: dict[int, list[int]] = {}
        for cid, owner in await conn.execute(sa.select(Customer.id, Customer.owner_id)):
            customers.setdefault(owner, []).append(cid)
        batch: list[dict[str, object]] = []
        total = 0
        for uid in rep_ids:
            for week in range(weeks):
                monday = start + timedelta(weeks=week)
                for kind, count, most in KINDS:
                    for _ in range(rng.randint(0, count * 2)):
                        at = monday + timedelta(seconds=rng.randint(0, 7 * 86400 - 1))
                        customer = rng.choice(customers[uid]) if kind.startswith("visits") else None
                        batch.append({"user_id": uid, "kind": kind, "amount": rng.randint(1, most),
                                      "customer_id": customer, "source": "log", "occurred_at": at, "created_at": at})
                if len(batch) >= 20_000:
                    await conn.execute(sa.insert(ActivityEvent), batch)
                    total += len(batch)
                    batch = []
        if batch:
            await conn.execute(sa.insert(ActivityEvent), batch)
            total += len(batch)
    if engine.dialect.name == "postgresql":
        async with engine.connect() as conn:
            await conn.execution_options(isolation_level="AUTOCOMMIT")
            await conn.execute(sa.text("ANALYZE"))
    else:
        async with engine.begin() as conn:
            await conn.execute(sa.text("ANALYZE"))
    await engine.dispose()
    return total


async def time_commands(url: str, content: Content, runs: int) -> dict[str, list[float]]:
    settings = Settings(DATABASE_URL=url, TELEGRAM_BOT_TOKEN=None)  # type: ignore[call-arg]
    runtime = Runtime(settings, content=content, clock=lambda: NOW)
    timings: dict[str, list[float]] = {}
    try:
        for command in ("/team", "/funnel", "/rep 销售042"):
            samples = []
            for i in range(runs + 2):
                event = InboundEvent.from_text(MANAGER, MANAGER, command, name="经理", language_code="zh-hans")
                began = time.perf_counter()
                replies = (await runtime.process(event)).messages
                elapsed = (time.perf_counter() - began) * 1000
                assert replies and not replies[0].text.startswith("⚠️"), replies[0].text[:200]
                if i >= 2:  # the first runs warm caches and prepared statements
                    samples.append(elapsed)
            timings[command.split()[0]] = samples
    finally:
        await runtime.close()
    return timings


async def run_backend(name: str, url: str, content: Content, reps: int, weeks: int, runs: int) -> list[str]:
    from db.session import upgrade_async

    await upgrade_async(url)
    began = time.perf_counter()
    events = await seed(url, reps, weeks)
    seeded = time.perf_counter() - began
    timings = await time_commands(url, content, runs)
    rows = [f"{name:<10} seeded {events:,} events for {reps} reps × {weeks} weeks in {seeded:.1f} s"]
    for command, samples in timings.items():
        median = statistics.median(samples)
        p95 = sorted(samples)[max(0, int(len(samples) * 0.95) - 1)]
        verdict = "ok" if p95 < GOAL_MS else "SLOW"
        rows.append(f"{name:<10} {command:<8} {median:8.1f} {p95:8.1f} {median / GOAL_MS:8.2f}  {verdict}")
    return rows


async def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--reps", type=int, default=200)
    parser.add_argument("--weeks", type=int, default=52)
    parser.add_argument("--runs", type=int, default=15)
    args = parser.parse_args()
    settings = Settings(TELEGRAM_BOT_TOKEN=None)  # type: ignore[call-arg]
    content = Content.load(settings.knowledge_dir, settings.talk_dir)
    lines = [f"{'backend':<10} {'command':<8} {'median':>8} {'p95':>8} {'÷300ms':>8}  goal <{GOAL_MS} ms"]
    with tempfile.TemporaryDirectory() as tmp:
        sqlite_url = f"sqlite+aiosqlite:///{Path(tmp) / 'bench.db'}"
        lines += await run_backend("sqlite", sqlite_url, content, args.reps, args.weeks, args.runs)
    pg = postgres_url()
    if pg:
        schema = "bench_" + uuid.uuid4().hex[:10]
        admin = create_engine(pg)
        async with admin.begin() as conn:
            await conn.execute(sa.text(f'CREATE SCHEMA "{schema}"'))
        try:
            url = sa.engine.make_url(pg).update_query_dict({"search_path": schema}).render_as_string(
                hide_password=False)
            lines += await run_backend("postgresql", url, content, args.reps, args.weeks, args.runs)
        finally:
            async with admin.begin() as conn:
                await conn.execute(sa.text(f'DROP SCHEMA "{schema}" CASCADE'))
            await admin.dispose()
    else:
        lines.append("postgresql: not available (set TEST_DATABASE_URL or start a server on 127.0.0.1:5432)")
    print("\n".join(lines))


if __name__ == "__main__":
    asyncio.run(main())
