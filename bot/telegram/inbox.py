"""The update inbox: long polling that stores updates before confirming them, and the dispatcher.

getUpdates confirms the previous batch through its offset, so the offset only moves past updates
that are committed to the inbox. The dispatcher feeds pending updates to the Application in order
per chat (chats run concurrently); the handler marks each one done in its own transaction.
"""

from __future__ import annotations

import asyncio
import collections
import contextlib
import logging
from collections.abc import Awaitable, Callable
from datetime import datetime, timedelta
from typing import Any

from telegram import Update
from telegram.error import Conflict, InvalidToken, NetworkError, RetryAfter, TimedOut
from telegram.ext import Application

from bot.runtime import Runtime
from bot.telegram.convert import chat_id_of
from bot.telegram.http import UpdatesRequest
from bot.telegram.sender import retry_after_seconds
from db.store import Store, utcnow

log = logging.getLogger(__name__)


RESCAN_SECONDS = 1.0
RESCAN_AGE = timedelta(seconds=2)  # pending updates older than this and not queued here are taken up again


class Dispatcher:
    """Feeds updates to the Application, in order per chat, chats concurrently.

    Updates reach it right after they are committed to the inbox (`store`), so the inbox is read
    back only to take up what is not queued here: at start, after a failed attempt, and — with
    `shared` (several webhook workers on one database) — updates of a chat that another worker
    received while this one was busy with the chat.
    """

    def __init__(self, application: Application[Any, Any, Any, Any, Any, Any], runtime: Runtime,
                 shared: bool = False) -> None:
        self.application = application
        self.runtime = runtime
        self.shared = shared
        self.wake = asyncio.Event()
        self._queues: dict[int, collections.deque[tuple[int, Update | dict[str, Any]]]] = {}
        self._known: set[int] = set()  # update ids queued or being processed here
        self._tasks: set[asyncio.Task[None]] = set()
        self._stopping = False
        self.retry_outbox: Callable[[], Awaitable[None]] | None = None  # re-send replies left unsent

    async def store(self, payloads: list[dict[str, Any]]) -> None:
        """Commit raw updates (a webhook's bodies) to the inbox; only then may they be acknowledged."""
        await self.store_updates([(Update.de_json(p, self.application.bot), p) for p in payloads])

    async def store_updates(self, updates: list[tuple[Update, dict[str, Any]]]) -> None:
        """Commit updates with their raw payloads to the inbox (duplicates ignored), then queue them."""
        rows = [(update.update_id, chat_id_of(update), payload) for update, payload in updates]
        async with self.runtime.sessions() as session:
            store = Store(session)
            await store.inbox.add_many(rows)
            await store.commit()
        self._enqueue([(update.update_id, chat_id, update) for (update, _), (_, chat_id, _) in zip(updates, rows,
                                                                                                strict=True)])

    def _enqueue(self, items: list[tuple[int, int, Update | dict[str, Any]]]) -> None:
        if self._stopping:
            return
        for update_id, chat_id, update in items:
            if update_id in self._known:
                continue
            self._known.add(update_id)
            queue = self._queues.get(chat_id)
            if queue is None:
                queue = self._queues[chat_id] = collections.deque()
                task = asyncio.create_task(self._run_chat(chat_id, queue))
                self._tasks.add(task)
                task.add_done_callback(self._tasks.discard)
            queue.append((update_id, update))

    async def _run_chat(self, chat_id: int, queue: collections.deque[tuple[int, Update | dict[str, Any]]]) -> None:
        try:
            while queue and not self._stopping:
                update_id, item = queue.popleft()
                try:
                    update = item if isinstance(item, Update) else Update.de_json(item, self.application.bot)
                    await self.application.process_update(update)
                except Exception:
                    log.exception("processing update %s of chat %s failed", update_id, chat_id)
                finally:
                    self._known.discard(update_id)
        finally:
            for update_id, _ in queue:
                self._known.discard(update_id)
            if self._queues.get(chat_id) is queue:
                del self._queues[chat_id]
        if self.shared and not self._stopping:
            try:
                await self._take_up(chat_id=chat_id)
            except Exception:
                log.exception("could not look for more updates of chat %s; the next scan will", chat_id)

    async def _take_up(self, chat_id: int | None = None, received_before: datetime | None = None) -> None:
        """Queue pending updates from the inbox that are not queued here (their payloads read once)."""
        async with self.runtime.sessions() as session:
            store = Store(session)
            if chat_id is not None:
                ids = [(u, chat_id) for u in await store.inbox.pending_of_chat(chat_id)]
            else:
                ids = await store.inbox.pending_ids(received_before)
            ids = [(u, c) for u, c in ids if u not in self._known]
            payloads = await store.inbox.payloads([u for u, _ in ids])
        self._enqueue([(u, c, payloads[u]) for u, c in ids if u in payloads])

    async def run(self) -> None:
        first = True
        while not self._stopping:
            try:
                await self._take_up(received_before=None if first else utcnow() - RESCAN_AGE)
                first = False
                if self.retry_outbox is not None and not self._tasks:
                    await self.retry_outbox()
            except Exception:
                log.exception("dispatcher could not read the inbox; retrying")
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self.wake.wait(), timeout=RESCAN_SECONDS)
            self.wake.clear()

    async def wait_idle(self) -> None:
        """Until every queued update has been processed (tests, shutdown)."""
        while self._tasks:
            await asyncio.gather(*self._tasks, return_exceptions=True)

    async def drain(self) -> None:
        self._stopping = True
        self.wake.set()
        if self._tasks:
            await asyncio.gather(*self._tasks, return_exceptions=True)


class Poller:
    """Long polling with the offset advanced only after the batch is in the inbox."""

    def __init__(self, application: Application[Any, Any, Any, Any, Any, Any], dispatcher: Dispatcher,
                 timeout: int = 25) -> None:
        self.application = application
        self.dispatcher = dispatcher
        self.timeout = timeout
        self._stopping = False

    async def run(self) -> None:
        bot = self.application.bot
        delay = 1.0
        offset = await self._resume_offset()
        while not self._stopping:
            try:
                updates = await bot.get_updates(
                    offset=offset, timeout=self.timeout, allowed_updates=["message", "callback_query"]
                )
            except RetryAfter as exc:
                await asyncio.sleep(retry_after_seconds(exc))
                continue
            except InvalidToken:
                log.error("Telegram rejected TELEGRAM_BOT_TOKEN; stopping")
                raise
            except Conflict:
                log.warning("another getUpdates or a webhook is active for this token; retrying")
                await asyncio.sleep(delay)
                delay = min(delay * 2, 30)
                continue
            except (TimedOut, NetworkError) as exc:
                log.info("getUpdates failed (%s); retrying in %.1fs", exc, delay)
                await asyncio.sleep(delay)
                delay = min(delay * 2, 30)
                continue
            delay = 1.0
            if not updates:
                continue
            batch = list(zip(updates, self._payloads(updates), strict=True))
            while True:
                try:
                    await self.dispatcher.store_updates(batch)
                    break
                except Exception:
                    log.exception("could not store updates in the inbox; retrying before confirming them")
                    await asyncio.sleep(delay)
                    delay = min(delay * 2, 30)
            offset = max(u.update_id for u in updates) + 1

    def _payloads(self, updates: tuple[Update, ...]) -> list[dict[str, Any]]:
        """The updates as Telegram sent them, for the inbox (PTB's parse re-serialised as a fallback)."""
        source = self.application.bot_data.get("updates_request")
        raw = source.last_updates if isinstance(source, UpdatesRequest) else None
        if raw is not None and [p.get("update_id") for p in raw] == [u.update_id for u in updates]:
            return raw
        return [u.to_dict() for u in updates]

    async def _resume_offset(self) -> int | None:
        """Continue after the newest stored update; a database outage at start-up is waited out."""
        delay = 1.0
        while True:
            try:
                async with self.dispatcher.runtime.sessions() as session:
                    last = await Store(session).inbox.max_update_id()
                return last + 1 if last is not None else None
            except Exception:
                log.exception("cannot read the inbox to resume polling; retrying in %.0fs", delay)
                await asyncio.sleep(delay)
                delay = min(delay * 2, 30)

    def stop(self) -> None:
        self._stopping = True
