"""End-to-end throughput and latency through the fake Bot API, SalesCoach side by side with a bare PTB echo bot.

Each bot runs as its own process (`salescoach run`, long polling; `benchmarks/echo_bot.py`) against the
tests' fake Bot API on 127.0.0.1, driven by the same harness: N concurrent reps (default 60) send a mix of
/week, free sales questions and /log (falling back to /help and /repeat while those commands are not
built; the header says which). Latency is the time from pushing an update into the fake to the moment
the last message of its reply is stored by the fake. Two phases per bot:

* saturated — every rep sends its next message as soon as the previous one is answered (closed loop):
  the throughput figure, and the ratio SalesCoach / echo (the bots take turns `--rounds` times, which
  one goes first alternating, and the ratio is of the median throughputs, so drift of a shared machine
  does not decide it);
* paced — every rep sends on average one message every `--interval` seconds (Poisson, open loop): the
  latency a rep feels at a busy but realistic load.

Goal: ratio ≥ 0.8 and p99 < 100 ms. The fake answers instantly and enforces no flood limits, so
SalesCoach runs with SALESCOACH_SEND_RATE=0 and SALESCOACH_CHAT_SEND_RATE=0 (no client-side limiters, as
the echo bot) unless `--send-rate` / `--chat-send-rate` say otherwise: the figure is the bot's own cost,
not Telegram's 30 messages/s overall and 1/s per chat.
Run: `python benchmarks/bench_e2e.py [--reps 60] [--duration 10] [--backends sqlite,postgresql]`.
"""

from __future__ import annotations

import argparse
import asyncio
import collections
import contextlib
import itertools
import os
import random
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
if str(REPO) not in sys.path:  # runnable as a plain script from anywhere
    sys.path.insert(0, str(REPO))

from benchmarks.common import TimedFakeBotApi, load_note, percentile, pg_schema, postgres_url, table  # noqa: E402

GOAL_RATIO = 0.8
GOAL_P99_MS = 100.0
FIRST_CHAT = 880_000_001
QUESTIONS = (
    "客户说太贵了怎么办",
    "怎么问出客户的真实需求",
    "第一次拜访要准备什么",
    "客户一直拖着不签单",
    "how do I ask for the next meeting",
    "什么是SPIN提问",
    "客户说要再考虑一下",
    "怎么介绍产品的好处",
)


def command_mix() -> tuple[list[str], str]:
    """The rep messages, using /week and /log when those features are installed; and a note saying which."""
    from bot.config import load_settings
    from bot.runtime import Runtime

    commands = Runtime(load_settings()).engine.commands
    week = "/week" if "week" in commands else "/help"
    log = ["/log calls 1", "/log cards 2"] if "log" in commands else ["/repeat"]
    note = f"mix: {week} + {len(QUESTIONS)} free questions + {' / '.join(log)}"
    if week == "/help" or log == ["/repeat"]:
        note += " (/week or /log not built yet: stand-ins used)"
    return [week, *QUESTIONS, *log], note


@dataclass
class Pending:
    target: int  # the chat's message count at which this input's reply is complete
    sent_at: float
    future: asyncio.Future[float]


@dataclass
class Driver:
    """Pushes updates and matches the bot's messages to them, per chat in order."""

    api: TimedFakeBotApi
    loop: asyncio.AbstractEventLoop
    expected: Callable[[str], int]
    arrivals: collections.Counter[int] = field(default_factory=collections.Counter)
    targets: collections.Counter[int] = field(default_factory=collections.Counter)
    waiting: dict[int, collections.deque[Pending]] = field(
        default_factory=lambda: collections.defaultdict(collections.deque))

    def __post_init__(self) -> None:
        def arrived(chat_id: int, at: float) -> None:  # on the fake's thread
            self.loop.call_soon_threadsafe(self._arrived, chat_id, at)

        self.api.on_sent = arrived

    def _arrived(self, chat_id: int, at: float) -> None:
        self.arrivals[chat_id] += 1
        queue = self.waiting[chat_id]
        while queue and self.arrivals[chat_id] >= queue[0].target:
            pending = queue.popleft()
            if not pending.future.done():
                pending.future.set_result(at - pending.sent_at)

    def send(self, chat_id: int, text: str) -> asyncio.Future[float]:
        """Push one message; the future gives its latency in seconds once the whole reply arrived."""
        self.targets[chat_id] += self.expected(text)
        future: asyncio.Future[float] = self.loop.create_future()
        pending = Pending(self.targets[chat_id], time.perf_counter(), future)
        self.waiting[chat_id].append(pending)
        self.api.push_text(chat_id, text, first_name=f"Rep{chat_id % 1000}", language_code="zh-hans")
        return future

    async def settle(self, quiet: float = 0.3, timeout: float = 30.0) -> None:  # noqa: ASYNC109
        """Wait until every reply is in and nothing more arrives for `quiet` seconds."""
        deadline = time.perf_counter() + timeout
        last = -1
        while time.perf_counter() < deadline:
            total = sum(self.arrivals.values())
            if total == last and all(not q for q in self.waiting.values()):
                return
            last = total
            await asyncio.sleep(quiet)
        raise TimeoutError("the bot stopped answering")


@dataclass
class PhaseResult:
    bot: str
    phase: str
    answered: int
    lost: int
    seconds: float
    latencies_ms: list[float]
    cpu_seconds: float | None = None  # the bot process's CPU time during the phase (Linux)
    db_cpu_seconds: float | None = None  # the local PostgreSQL server's, when there is one
    idle_cpus: float | None = None  # how many of the machine's CPUs were idle, on average
    round: int = 1

    def _per_message(self, seconds: float | None) -> float | None:
        return seconds * 1000 / self.answered if seconds is not None and self.answered else None

    @property
    def cpu_ms_per_message(self) -> float | None:
        return self._per_message(self.cpu_seconds)

    @property
    def db_cpu_ms_per_message(self) -> float | None:
        return self._per_message(self.db_cpu_seconds)

    @property
    def throughput(self) -> float:
        return self.answered / self.seconds if self.seconds else 0.0


class BotProcess:
    def __init__(self, name: str, argv: list[str], env: dict[str, str], log: Path) -> None:
        self.name = name
        with log.open("ab") as out:
            self.proc = subprocess.Popen(argv, env=env, cwd=REPO, stdout=out, stderr=out)
        self.log = log

    def stop(self) -> None:
        if self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(timeout=15)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()

    def cpu_seconds(self) -> float | None:
        """User + system CPU time so far of the bot and its helper processes, from /proc (None elsewhere)."""
        total = 0.0
        pending = [self.proc.pid]
        try:
            while pending:
                pid = pending.pop()
                total += process_cpu_seconds(Path(f"/proc/{pid}"))
                for task in Path(f"/proc/{pid}/task").iterdir():
                    pending += [int(c) for c in (task / "children").read_text().split()]
        except OSError:
            return None
        return total

    def check_alive(self) -> None:
        if self.proc.poll() is not None:
            tail = self.log.read_text(errors="replace")[-3000:]
            raise RuntimeError(f"{self.name} exited with {self.proc.returncode}:\n{tail}")


async def wait_ready(api: TimedFakeBotApi, bot: BotProcess, timeout: float = 60.0) -> None:  # noqa: ASYNC109
    """Ready once the bot long-polls (and, for SalesCoach, has set its menu)."""
    deadline = time.perf_counter() + timeout
    while time.perf_counter() < deadline:
        bot.check_alive()
        polled = any(c.method.lower() == "getupdates" for c in api.calls())
        menu = bot.name == "echo" or len(api.calls("setMyCommands")) >= 2
        if polled and menu:
            return
        await asyncio.sleep(0.1)
    raise TimeoutError(f"{bot.name} did not start within {timeout:.0f}s (log: {bot.log})")


async def calibrate(driver: Driver, mix: list[str], chat_id: int) -> dict[str, int]:
    """How many messages each input of the mix is answered with (one calibration rep, one input at a time)."""
    counts: dict[str, int] = {}
    driver.expected = lambda _text: 1
    for text in dict.fromkeys(mix):
        before = driver.arrivals[chat_id]
        future = driver.send(chat_id, text)
        await asyncio.wait_for(future, 30)
        await asyncio.sleep(0.4)  # the rest of a multi-message reply
        counts[text] = driver.arrivals[chat_id] - before
        driver.targets[chat_id] = driver.arrivals[chat_id]
    return counts


async def saturated(driver: Driver, bot: str, chats: list[int], mix: list[str], duration: float) -> PhaseResult:
    latencies: list[float] = []
    lost = 0
    started = time.perf_counter()
    deadline = started + duration
    last_done = started

    async def rep(chat_id: int, offset: int) -> None:
        nonlocal lost, last_done
        for text in itertools.islice(itertools.cycle(mix), offset, None):
            if time.perf_counter() >= deadline:
                return
            try:
                latencies.append(await asyncio.wait_for(driver.send(chat_id, text), 30) * 1000)
                last_done = time.perf_counter()
            except TimeoutError:
                lost += 1
                return

    await asyncio.gather(*(rep(chat, i) for i, chat in enumerate(chats)))
    return PhaseResult(bot, "saturated", len(latencies), lost, last_done - started, latencies)


async def paced(driver: Driver, bot: str, chats: list[int], mix: list[str], duration: float,
                interval: float, seed: int) -> PhaseResult:
    rng = random.Random(seed)
    futures: list[asyncio.Future[float]] = []
    started = time.perf_counter()
    deadline = started + duration

    async def rep(chat_id: int, offset: int) -> None:
        for text in itertools.islice(itertools.cycle(mix), offset, None):
            await asyncio.sleep(rng.expovariate(1.0 / interval))
            if time.perf_counter() >= deadline:
                return
            futures.append(driver.send(chat_id, text))

    await asyncio.gather(*(rep(chat, i) for i, chat in enumerate(chats)))
    done, not_done = await asyncio.wait(futures, timeout=30) if futures else (set(), set())
    latencies = [f.result() * 1000 for f in done]
    return PhaseResult(bot, "paced", len(latencies), len(not_done), duration, latencies)


@contextlib.contextmanager
def database(backend: str, tmp: Path) -> Iterator[str]:
    if backend == "sqlite":
        yield f"sqlite+aiosqlite:///{tmp / 'bench.db'}"
        return
    base = postgres_url()
    if base is None:
        raise SystemExit("no PostgreSQL: set TEST_DATABASE_URL or start a server on 127.0.0.1:5432")
    with pg_schema(base) as url:
        yield url


async def run_bot(name: str, backend: str | None, args: argparse.Namespace, mix: list[str],
                  tmp: Path) -> tuple[list[PhaseResult], dict[str, int]]:
    api = TimedFakeBotApi()
    api.start()
    loop = asyncio.get_running_loop()
    driver = Driver(api, loop, lambda _text: 1)
    label = name if backend is None else f"{name} ({backend})"
    log = tmp / f"{name}-{backend or 'none'}.log"
    with contextlib.ExitStack() as stack:
        if name == "echo":
            argv = [sys.executable, str(REPO / "benchmarks" / "echo_bot.py")]
            env = api.env()
        else:
            assert backend is not None
            url = stack.enter_context(database(backend, tmp))
            profile = ["-m", "cProfile", "-o", str(args.profile)] if args.profile else []
            argv = [sys.executable, *profile, "-m", "bot.cli", "run"]
            env = api.env(DATABASE_URL=url, SALESCOACH_LOG_LEVEL="WARNING",
                          SALESCOACH_SEND_RATE=str(args.send_rate), SALESCOACH_CHAT_SEND_RATE=str(args.chat_send_rate))
        bot = BotProcess(label, argv, env, log)
        try:
            await wait_ready(api, bot)
            counts = {text: 1 for text in mix}
            if name != "echo":
                counts = await calibrate(driver, mix, FIRST_CHAT - 1)
            driver.expected = lambda text: counts[text]
            chats = [FIRST_CHAT + i for i in range(args.reps)]
            for chat in chats:  # first contact (user rows, connections) is not what we measure
                driver.send(chat, mix[0])
            await driver.settle()
            usage = Usage.read(bot)
            results = [await saturated(driver, label, chats, mix, args.duration)]
            usage.spent(Usage.read(bot), results[-1])
            await driver.settle()
            usage = Usage.read(bot)
            results.append(await paced(driver, label, chats, mix, args.duration, args.interval, args.seed))
            await driver.settle(quiet=0.05)
            usage.spent(Usage.read(bot), results[-1])
            await driver.settle()
            bot.check_alive()
            problems = [line for line in log.read_text(errors="replace").splitlines()
                        if " ERROR " in line or " WARNING " in line or "Traceback" in line]
            if problems:
                print(f"note: {label} logged {len(problems)} warning(s)/error(s), e.g. {problems[0][:200]}")
            extra = sum(driver.arrivals.values()) - sum(driver.targets.values())
            if extra:
                print(f"note: {label} sent {extra} message(s) more than calibrated")
            return results, counts
        finally:
            bot.stop()
            api.stop()


def _used(before: float | None, after: float | None) -> float | None:
    return after - before if before is not None and after is not None else None


def process_cpu_seconds(proc_dir: Path) -> float:
    """User + system CPU time so far of one process, from its /proc/PID/stat (OSError once it is gone)."""
    fields = (proc_dir / "stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def postgres_cpu_seconds() -> float | None:
    """User + system CPU time so far of this machine's PostgreSQL server processes (Linux; None when
    there are none here): what the bot's queries cost the database, beside the bot's own CPU."""
    total, found = 0.0, False
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            if (entry / "comm").read_text().strip() != "postgres":
                continue
            total += process_cpu_seconds(entry)
        except OSError:
            continue  # gone meanwhile
        found = True
    return total if found else None


def idle_cpu_seconds() -> float | None:
    """Idle time so far of all this machine's CPUs together (/proc/stat: idle + iowait; None elsewhere)."""
    try:
        fields = Path("/proc/stat").read_text().split("\n", 1)[0].split()
    except OSError:
        return None
    return (int(fields[4]) + int(fields[5])) / os.sysconf("SC_CLK_TCK")


@dataclass
class Usage:
    """CPU readings at the start of a phase: the bot with its helper, PostgreSQL, the idle machine."""

    bot: float | None
    database: float | None
    idle: float | None
    at: float

    @classmethod
    def read(cls, bot: BotProcess) -> Usage:
        return cls(bot.cpu_seconds(), postgres_cpu_seconds(), idle_cpu_seconds(), time.perf_counter())

    def spent(self, now: Usage, result: PhaseResult) -> None:
        result.cpu_seconds = _used(self.bot, now.bot)
        result.db_cpu_seconds = _used(self.database, now.database)
        idle = _used(self.idle, now.idle)
        result.idle_cpus = idle / (now.at - self.at) if idle is not None and now.at > self.at else None


def report(results: list[PhaseResult], rounds: int) -> None:
    rows = []
    for r in results:
        lat = r.latencies_ms
        cpu, db = r.cpu_ms_per_message, r.db_cpu_ms_per_message
        rows.append([r.bot, r.phase, r.round, r.answered, r.lost, r.throughput, percentile(lat, 0.5),
                     percentile(lat, 0.99), max(lat) if lat else 0.0, "-" if cpu is None else cpu,
                     "-" if db is None or "postgresql" not in r.bot else db, "-" if r.idle_cpus is None else r.idle_cpus])
    print(table(["bot", "phase", "round", "answered", "lost", "msg/s", "p50 ms", "p99 ms", "max ms", "CPU ms/msg",
                 "DB CPU ms/msg", "idle CPUs"], rows))
    echo = [r.throughput for r in results if r.bot == "echo" and r.phase == "saturated"]
    print()
    for bot in dict.fromkeys(r.bot for r in results if r.bot != "echo"):
        ours = [r for r in results if r.bot == bot]
        sat = [r.throughput for r in ours if r.phase == "saturated"]
        if sat and echo:
            ratio = statistics.median(sat) / statistics.median(echo)
            per_round = [o / e for o, e in zip(sat, echo, strict=False)]
            spread = f"; per round {min(per_round):.2f}–{max(per_round):.2f}" if rounds > 1 else ""
            verdict = "met" if ratio >= GOAL_RATIO else "NOT met"
            print(f"{bot}: throughput ratio ours/echo = {ratio:.2f} (median of {len(sat)} round(s){spread}; "
                  f"goal ≥ {GOAL_RATIO}: {verdict})")
        paced_lat = [x for r in ours if r.phase == "paced" for x in r.latencies_ms]
        if paced_lat:
            p99 = percentile(paced_lat, 0.99)
            verdict = "met" if p99 < GOAL_P99_MS else "NOT met"
            print(f"{bot}: paced p99 = {p99:.1f} ms over every round (goal < {GOAL_P99_MS:.0f} ms: {verdict})")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--reps", type=int, default=60, help="concurrent reps (default 60)")
    parser.add_argument("--duration", type=float, default=10.0, help="seconds per phase (default 10)")
    parser.add_argument("--interval", type=float, default=2.0,
                        help="paced phase: mean seconds between one rep's messages (default 2)")
    parser.add_argument("--backends", default="auto",
                        help="sqlite, postgresql or both, comma-separated (default: PostgreSQL too when it answers)")
    parser.add_argument("--send-rate", type=float, default=0,
                        help="SALESCOACH_SEND_RATE for the bot (messages/s; 0 = no limiter, the default here)")
    parser.add_argument("--chat-send-rate", type=float, default=0,
                        help="SALESCOACH_CHAT_SEND_RATE for the bot (messages/s per chat; 0 = off, the default here)")
    parser.add_argument("--rounds", type=int, default=3,
                        help="echo and SalesCoach take turns this many times; the ratio is of the medians "
                             "(default 3: a shared machine drifts between runs)")
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--profile", type=Path, default=None,
                        help="write a cProfile of the SalesCoach process to this file (view with pstats)")
    args = parser.parse_args(argv)
    backends = (["sqlite", "postgresql"] if postgres_url() else ["sqlite"]) if args.backends == "auto" else [
        b.strip() for b in args.backends.split(",") if b.strip()]
    mix, note = command_mix()
    busy = load_note()

    async def go() -> tuple[list[PhaseResult], dict[str, int]]:
        results: list[PhaseResult] = []
        counts: dict[str, int] = {}
        for number in range(1, max(1, args.rounds) + 1):
            bots: list[tuple[str, str | None]] = [("echo", None), *(("salescoach", b) for b in backends)]
            if number % 2 == 0:  # every other round the other way round: a machine drifting during a round
                bots.reverse()   # favours neither bot
            with tempfile.TemporaryDirectory(prefix="bench-e2e-") as tmp:
                runs = []
                for name, backend in bots:
                    runs.append(await run_bot(name, backend, args, mix, Path(tmp)))
                    if name != "echo":
                        counts = runs[-1][1]
            for phases, _ in runs:
                for phase in phases:
                    phase.round = number
                    results.append(phase)
        return results, counts

    results, counts = asyncio.run(go())
    print(f"bench_e2e: {args.reps} reps, {args.duration:.0f} s per phase, {args.rounds} round(s), paced at one message per "
          f"{args.interval:g} s per rep; {os.cpu_count()} CPUs")
    print(note)
    print("replies per input (calibrated): " + ", ".join(f"{t[:12]}={n}" for t, n in counts.items()))
    if busy:
        print(busy)
    print()
    report(results, args.rounds)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
