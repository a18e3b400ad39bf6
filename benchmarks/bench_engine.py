"""Engine-only latency per inbound event: `Runtime.process` called directly (no HTTP), SQLite and PostgreSQL.

Reps take turns sending a mix of events, one at a time: /week (or /help before /week exists), a free
sales question, /log (or /repeat before /log exists), a /prep step (flow text answer), a button press and
a sticker. Each event is measured twice:

* console — `Runtime.process(event)`: the engine and its one transaction;
* telegram — what the Telegram adapter adds around it: the update stored in the inbox first, then
  `Runtime.process(event, queue_for_chat=True, sender_token=…)` (inbox row taken, outbox rows written and
  claimed for the sender, one commit), then the sender's database work for the replies (marking them sent
  and looking for more) with a bot that sends nothing; the sender's part is also shown on its own.
  One event at a time, so the sender's group commit never groups anything here (its window is off).

PostgreSQL runs when TEST_DATABASE_URL is set or a server answers on 127.0.0.1:5432.
Run: `python benchmarks/bench_engine.py [--reps 20] [--rounds 5] [--backends sqlite,postgresql]`.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import sys
import tempfile
import time
from collections import defaultdict
from collections.abc import Iterator
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parents[1]
if str(REPO) not in sys.path:  # runnable as a plain script from anywhere
    sys.path.insert(0, str(REPO))

from benchmarks.common import load_note, percentile, pg_schema, postgres_url, table  # noqa: E402
from bot.config import Settings, load_settings  # noqa: E402
from bot.engine.content import Content  # noqa: E402
from bot.engine.events import InboundEvent  # noqa: E402
from bot.runtime import Runtime  # noqa: E402
from db.store import Store  # noqa: E402

GOAL_P99_MS = 50.0
FIRST_USER = 660_000_001
PREP_ANSWERS = ("华为技术", "王经理,采购部", "2", "了解测试需求", "上次演示了示波器", "老款示波器", "/skip")


class NullBot:
    """Stands in for telegram.Bot in the sender: every call succeeds at once."""

    async def send_text(self, *args: Any, **kwargs: Any) -> None:
        return None

    async def edit_message_text(self, *args: Any, **kwargs: Any) -> None:
        return None

    async def send_photo(self, *args: Any, **kwargs: Any) -> None:
        return None

    async def send_document(self, *args: Any, **kwargs: Any) -> None:
        return None


def events_for(user_id: int, round_no: int, commands: set[str]) -> list[tuple[str, InboundEvent]]:
    """One round of a rep's events, labelled by kind."""
    common: dict[str, Any] = {"name": f"Rep{user_id % 1000}", "language_code": "zh-hans"}

    def text(body: str) -> InboundEvent:
        return InboundEvent.from_text(user_id, user_id, body, **common)

    week = "/week" if "week" in commands else "/help"
    log = "/log calls 1" if "log" in commands else "/repeat"
    questions = ("客户说太贵了怎么办", "怎么问出客户的真实需求", "第一次拜访要准备什么", "客户说要再考虑一下")
    out: list[tuple[str, InboundEvent]] = [
        (week.split()[0], text(week)),
        ("question", text(questions[round_no % len(questions)])),
        (log.split()[0], text(log)),
        ("/prep start", text("/prep")),
    ]
    out += [("flow answer", text(answer)) for answer in PREP_ANSWERS]
    out += [
        ("button", InboundEvent(user_id=user_id, chat_id=user_id, kind="button", button="l:zh", **common)),
        ("sticker", InboundEvent(user_id=user_id, chat_id=user_id, kind="unsupported", media="sticker", **common)),
        ("/cancel", text("/cancel")),
    ]
    return out


async def measure(runtime: Runtime, reps: int, rounds: int) -> dict[str, dict[str, list[float]]]:
    """{mode: {kind: [ms, ...]}}; the first round warms caches and is not counted."""
    from bot.telegram.sender import OutboxSender

    sender = OutboxSender(NullBot(), runtime.sessions, settle_window=0)  # type: ignore[arg-type]
    commands = set(runtime.engine.commands)
    times: dict[str, dict[str, list[float]]] = {
        "console": defaultdict(list), "telegram": defaultdict(list), "  of which sender": defaultdict(list)}
    update_id = 1
    for round_no in range(rounds + 1):
        for mode in ("console", "telegram"):
            for rep in range(reps):
                user = FIRST_USER + rep + (0 if mode == "console" else 100_000)
                for kind, event in events_for(user, round_no, commands):
                    if mode == "console":
                        started = time.perf_counter()
                        await runtime.process(event)
                    else:
                        event = InboundEvent(**{**event.__dict__, "update_id": update_id})
                        payload = {"update_id": update_id}
                        started = time.perf_counter()
                        async with runtime.sessions() as session:
                            store = Store(session)
                            await store.inbox.add_many([(update_id, event.chat_id, payload)])
                            await store.commit()
                        processed = await runtime.process(event, queue_for_chat=True, sender_token=sender.token)
                        flushing = time.perf_counter()
                        await sender.deliver(event.chat_id, processed.to_send)
                        await sender.wait_idle()
                        update_id += 1
                        if round_no:
                            times["  of which sender"][kind].append((time.perf_counter() - flushing) * 1000)
                    if round_no:
                        times[mode][kind].append((time.perf_counter() - started) * 1000)
    return times


@contextlib.contextmanager
def database(backend: str, tmp: Path) -> Iterator[str]:
    if backend == "sqlite":
        yield f"sqlite+aiosqlite:///{tmp / 'engine.db'}"
        return
    base = postgres_url()
    if base is None:
        raise SystemExit("no PostgreSQL: set TEST_DATABASE_URL or start a server on 127.0.0.1:5432")
    with pg_schema(base) as url:
        yield url


def run_backend(backend: str, base_settings: Settings, content: Content, reps: int,
                rounds: int) -> dict[str, dict[str, list[float]]]:
    with tempfile.TemporaryDirectory(prefix="bench-engine-") as tmp, database(backend, Path(tmp)) as url:
        settings = base_settings.model_copy(update={"database_url": url})

        async def go() -> dict[str, dict[str, list[float]]]:
            runtime = Runtime(settings, content=content)
            await runtime.migrate()
            try:
                return await measure(runtime, reps, rounds)
            finally:
                await runtime.close()

        return asyncio.run(go())


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--reps", type=int, default=20, help="reps taking turns (default 20)")
    parser.add_argument("--rounds", type=int, default=5, help="measured rounds per rep (default 5)")
    parser.add_argument("--backends", default="auto",
                        help="sqlite, postgresql or both, comma-separated (default: PostgreSQL too when it answers)")
    args = parser.parse_args(argv)
    backends = (["sqlite", "postgresql"] if postgres_url() else ["sqlite"]) if args.backends == "auto" else [
        b.strip() for b in args.backends.split(",") if b.strip()]
    settings = load_settings()
    started = time.perf_counter()
    content = Content.load(settings.knowledge_dir, settings.talk_dir)
    load_ms = (time.perf_counter() - started) * 1000
    busy = load_note()
    rows: list[list[object]] = []
    overall: dict[tuple[str, str], list[float]] = {}
    for backend in backends:
        result = run_backend(backend, settings, content, args.reps, args.rounds)
        for mode, kinds in result.items():
            every = [t for values in kinds.values() for t in values]
            overall[(backend, mode)] = every
            for kind, values in kinds.items():
                rows.append([backend, mode, kind, len(values), percentile(values, 0.5), percentile(values, 0.99),
                             max(values)])
            rows.append([backend, mode, "ALL", len(every), percentile(every, 0.5), percentile(every, 0.99),
                         max(every)])
    print(f"bench_engine: {args.reps} reps × {args.rounds} rounds, one event at a time; content loaded in "
          f"{load_ms:.0f} ms (once per process)")
    if busy:
        print(busy)
    print()
    print(table(["backend", "mode", "event", "n", "p50 ms", "p99 ms", "max ms"], rows))
    print()
    for (backend, mode), values in overall.items():
        p99 = percentile(values, 0.99)
        print(f"{backend} {mode}: p50 {percentile(values, 0.5):.2f} ms, p99 {p99:.2f} ms "
              f"(goal p99 < {GOAL_P99_MS:.0f} ms: {'met' if p99 < GOAL_P99_MS else 'NOT met'})")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
