"""Knowledge search in a helper process, so ranking entries does not hold up a busy bot's event loop.

Ranking a question costs the bot process about a fifth of its CPU per message under load
(benchmarks/bench_e2e.py); the helper runs it on another core while the bot goes on with other chats.
The bot asks before it opens the update's transaction (`Runtime.process`), so no transaction waits on it.

The helper (`python -m bot.kb.worker KNOWLEDGE_DIR TALK_DIR`) loads the same knowledge files, says
`ready`, then answers one JSON line per question: `[id, query, limit]` → `[id, [[entry, score, matched,
confident, guarded], …]]`. Until it is ready, when it is slow or gone, the bot searches in-process: a
rep never waits on the helper, and a helper that died is started again.
"""

from __future__ import annotations

import asyncio
import contextlib
import gc
import itertools
import json
import logging
import sys
from pathlib import Path
from typing import IO

from bot.kb.loader import load_knowledge
from bot.kb.search import Hit, KnowledgeIndex

log = logging.getLogger(__name__)

ANSWER_TIMEOUT = 2.0  # seconds; then the bot searches itself
RESTART_AFTER = 5.0  # seconds before starting a helper that died; doubled while it keeps dying, up to
MAX_RESTART_AFTER = 300.0
MAX_IN_FLIGHT = 32  # more questions waiting than this: the helper is behind, the bot searches itself
# (a burst from 60 reps kept more than 8 waiting, mostly answers not yet read by a busy bot)
STUCK_AFTER = 3  # unanswered questions in a row: the helper is replaced


class SearchWorker:
    """The bot's side: questions out, hits back, in-process search whenever the helper cannot answer."""

    def __init__(self, knowledge_dir: Path, talk_dir: Path, fallback: KnowledgeIndex,
                 timeout: float = ANSWER_TIMEOUT) -> None:
        self.knowledge_dir = knowledge_dir
        self.talk_dir = talk_dir
        self.fallback = fallback
        self.timeout = timeout
        self._process: asyncio.subprocess.Process | None = None
        self._reader: asyncio.Task[None] | None = None
        self._ready = asyncio.Event()  # set while the helper answers (binds to the loop on first use)
        self._pending: dict[int, asyncio.Future[list[Hit]]] = {}
        self._ids = itertools.count(1)
        self._next_start = 0.0
        self._restart_after = RESTART_AFTER
        self._missed = 0
        self._closed = False

    @property
    def ready(self) -> bool:
        return self._ready.is_set()

    async def wait_ready(self) -> None:
        """Until the helper answers questions (tests, benchmarks; the bot never waits for it)."""
        await self._ready.wait()

    async def start(self) -> None:
        """Start the helper; it loads the knowledge base on its own, meanwhile questions are answered here."""
        loop = asyncio.get_running_loop()
        self._next_start = loop.time() + self._restart_after
        self._restart_after = min(self._restart_after * 2, MAX_RESTART_AFTER)  # reset once it is ready
        self._missed = 0
        try:
            # its own session: a Ctrl+C or SIGTERM to the bot's process group leaves it to exit when the
            # bot closes the pipe, instead of dying first with a traceback
            process = await asyncio.create_subprocess_exec(
                sys.executable, "-m", "bot.kb.worker", str(self.knowledge_dir), str(self.talk_dir),
                stdin=asyncio.subprocess.PIPE, stdout=asyncio.subprocess.PIPE, start_new_session=True)
        except OSError as exc:
            log.warning("search helper could not start (%s); searching in the bot process", exc)
            return
        if self._closed:  # closed while it was starting
            process.kill()
            await process.wait()
            return
        self._process = process
        self._reader = asyncio.create_task(self._read(process))

    async def _read(self, process: asyncio.subprocess.Process) -> None:
        assert process.stdout is not None
        try:
            while line := await process.stdout.readline():
                if line == b"ready\n":
                    self._ready.set()
                    self._restart_after = RESTART_AFTER
                    continue
                number, found = json.loads(line)
                future = self._pending.pop(number, None)
                if future is None or future.done():
                    continue  # answered too late: the bot searched itself
                if found is None:
                    future.set_exception(LookupError("the helper's search failed"))
                else:
                    future.set_result([Hit(e, s, m, c, g) for e, s, m, c, g in found])
        except Exception:
            log.exception("search helper sent something unreadable; searching in the bot process")
        finally:
            self._ready.clear()
            for future in self._pending.values():
                if not future.done():
                    future.set_exception(ConnectionError("search helper gone"))
            self._pending.clear()
            if process.returncode is None:
                with contextlib.suppress(ProcessLookupError):
                    process.kill()
            if not self._closed:
                log.warning("search helper stopped; searching in the bot process until it is back")

    async def search(self, query: str, limit: int) -> list[Hit]:
        process = self._process
        if not self.ready or process is None or process.stdin is None:
            await self._restart_if_due()
            return self.fallback.search(query, limit=limit)
        if len(self._pending) >= MAX_IN_FLIGHT:  # behind: waiting would only add to the rep's wait
            return self.fallback.search(query, limit=limit)
        number = next(self._ids)
        future: asyncio.Future[list[Hit]] = asyncio.get_running_loop().create_future()
        self._pending[number] = future
        try:
            process.stdin.write(json.dumps([number, query, limit], ensure_ascii=False).encode() + b"\n")
            hits = await asyncio.wait_for(future, self.timeout)
            self._missed = 0
            return hits
        except Exception as exc:  # slow, gone or broken: the rep still gets an answer
            log.info("search helper did not answer (%r); searching in the bot process", exc)
            if isinstance(exc, TimeoutError):
                self._missed += 1
                if self._missed >= STUCK_AFTER and process.returncode is None:
                    log.warning("search helper stopped answering; starting a new one")
                    with contextlib.suppress(ProcessLookupError):
                        process.kill()  # its reader fails what is pending; the next question restarts it
            return self.fallback.search(query, limit=limit)
        finally:
            self._pending.pop(number, None)

    async def _restart_if_due(self) -> None:
        if self._closed or (self._process is not None and self._process.returncode is None):
            return
        if asyncio.get_running_loop().time() >= self._next_start:
            await self.start()

    async def close(self) -> None:
        self._closed = True
        process, self._process = self._process, None
        if process is not None:
            if process.stdin is not None:
                process.stdin.close()  # the helper's signal to stop
            try:
                await asyncio.wait_for(process.wait(), 5)
            except TimeoutError:
                with contextlib.suppress(ProcessLookupError):
                    process.kill()
                await process.wait()
        if self._reader is not None:
            await asyncio.gather(self._reader, return_exceptions=True)


def serve(knowledge_dir: Path, talk_dir: Path, stdin: IO[bytes], stdout: IO[bytes]) -> int:
    """The helper: load, say ready, answer each question line until the bot closes the pipe."""
    index = KnowledgeIndex(load_knowledge(knowledge_dir, talk_dir))
    gc.collect()
    gc.freeze()  # the index lives as long as the helper
    stdout.write(b"ready\n")
    stdout.flush()
    for line in stdin:
        number, query, limit = json.loads(line)
        try:
            found: list[list[object]] | None = [[h.entry_id, h.score, h.matched, h.confident, h.guarded]
                                                for h in index.search(query, limit=limit)]
        except Exception:  # the bot searches this one itself (and meets the error where it is handled)
            log.exception("search failed for one question")
            found = None
        stdout.write(json.dumps([number, found], ensure_ascii=False).encode() + b"\n")
        stdout.flush()
    return 0


if __name__ == "__main__":
    raise SystemExit(serve(Path(sys.argv[1]), Path(sys.argv[2]), sys.stdin.buffer, sys.stdout.buffer))
