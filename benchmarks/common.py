"""Helpers shared by the benchmarks: percentiles, tables, database URLs and a fake Bot API that timestamps.

Benchmarks print figures; they never assert on time (the tests do not time anything either).
"""

from __future__ import annotations

import asyncio
import concurrent.futures
import contextlib
import os
import socket
import sys
import time
import uuid
from collections.abc import Callable, Iterator, Sequence
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parents[1]
if str(REPO) not in sys.path:  # runnable as a plain script from anywhere
    sys.path.insert(0, str(REPO))

from tests.fakebot.server import FakeBotApi  # noqa: E402

DEFAULT_PG = "postgresql+asyncpg://postgres@127.0.0.1:5432/test"


def percentile(values: Sequence[float], fraction: float) -> float:
    """Nearest-rank percentile of unsorted values (0.0 when there are none)."""
    if not values:
        return 0.0
    ordered = sorted(values)
    index = min(len(ordered) - 1, max(0, round(fraction * (len(ordered) - 1))))
    return ordered[index]


def table(headers: Sequence[str], rows: Sequence[Sequence[object]]) -> str:
    """A plain-text table: first column left-aligned, the others right-aligned; floats with 1–3 decimals."""

    def cell(value: object) -> str:
        if isinstance(value, float):
            return f"{value:.3f}" if abs(value) < 10 else f"{value:.1f}"
        return str(value)

    cells = [[cell(v) for v in row] for row in rows]
    widths = [max(len(h), *(len(r[i]) for r in cells)) if cells else len(h) for i, h in enumerate(headers)]
    lines = ["  ".join(h.ljust(w) if i == 0 else h.rjust(w) for i, (h, w) in enumerate(zip(headers, widths,
                                                                                             strict=True)))]
    lines.append("  ".join("-" * w for w in widths))
    for row in cells:
        lines.append("  ".join(v.ljust(w) if i == 0 else v.rjust(w) for i, (v, w) in enumerate(zip(row, widths,
                                                                                                  strict=True))))
    return "\n".join(lines)


def postgres_url() -> str | None:
    """TEST_DATABASE_URL, or the local server when one answers on 127.0.0.1:5432; None otherwise."""
    url = os.environ.get("TEST_DATABASE_URL")
    if url:
        return url
    with socket.socket() as sock:
        sock.settimeout(0.3)
        if sock.connect_ex(("127.0.0.1", 5432)) == 0:
            return DEFAULT_PG
    return None


@contextlib.contextmanager
def pg_schema(base: str) -> Iterator[str]:
    """A throw-away schema in the PostgreSQL database `base`; yields a URL whose search_path is that schema."""
    import sqlalchemy as sa

    from db.session import create_engine

    schema = "bench_" + uuid.uuid4().hex[:12]

    async def run(sql: str) -> None:
        engine = create_engine(base)
        async with engine.begin() as conn:
            await conn.execute(sa.text(sql))
        await engine.dispose()

    def execute(sql: str) -> None:  # in a thread of its own: callers may be inside an event loop
        with concurrent.futures.ThreadPoolExecutor(1) as pool:
            pool.submit(asyncio.run, run(sql)).result()

    execute(f'CREATE SCHEMA "{schema}"')
    try:
        yield sa.engine.make_url(base).update_query_dict({"search_path": schema}).render_as_string(
            hide_password=False)
    finally:
        execute(f'DROP SCHEMA "{schema}" CASCADE')


class TimedFakeBotApi(FakeBotApi):
    """The tests' fake Bot API, calling `on_sent(chat_id, perf_counter)` the moment a bot message is stored."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.on_sent: Callable[[int, float], None] | None = None

    def _store_bot_message(self, method: str, kind: str, chat_id: int, p: dict[str, Any], body: dict[str, Any],
                           **kwargs: Any) -> dict[str, Any]:
        message = super()._store_bot_message(method, kind, chat_id, p, body, **kwargs)
        if self.on_sent is not None:
            self.on_sent(chat_id, time.perf_counter())
        return message


def load_note() -> str | None:
    """A warning when the machine is busy with something else (figures then include its time)."""
    if not hasattr(os, "getloadavg"):
        return None
    load, cpus = os.getloadavg()[0], os.cpu_count() or 1
    if load > cpus * 0.75:
        return f"note: load average {load:.1f} on {cpus} CPUs before the run: figures include other processes' time"
    return None
