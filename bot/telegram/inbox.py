"""The update inbox: long polling that stores updates before confirming them, and the dispatcher.

getUpdates confirms the previous batch through its offset, so the offset only moves past updates
that are committed to the inbox. The dispatcher feeds pending updates to the Application in order
per chat (chats run concurrently); the handler marks each one done in its own transaction.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections import defaultdict
from collections.abc import Awaitable, Callable
from typing import Any

from telegram import Update
from telegram.error import Conflict, InvalidToken, NetworkError, RetryAfter, TimedOut
from telegram.ext import Application

from bot.runtime import Runtime
from bot.telegram.convert import chat_id_of
from db.store import Store

log = logging.getLogger(__name__)


class Dispatcher:
    def __init__(self, application: Application[Any, Any, Any, Any, Any, Any], runtime: Runtime) -> None:
        self.application = application
        self.runtime = runtime
        self.wake = asyncio.Event()
        self._busy: set[int] = set()
        self._tasks: set[asyncio.Task[None]] = set()
        self._stopping = False
        self.retry_outbox: Callable[[], Awaitable[None]] | None = None  # re-send replies left unsent

    async def store(self, payloads: list[dict[str, Any]]) -> None:
        """Commit raw updates to the inbox (duplicates ignored); only then may they be acknowledged."""
        rows = []
        for payload in payloads:
            update = Update.de_json(payload, self.application.bot)
            rows.append((update.update_id, chat_id_of(update), payload))
        async with self.runtime.sessions() as session:
            store = Store(session)
            await store.inbox.add_many(rows)
            await store.commit()
        self.wake.set()

    async def run(self) -> None:
        while not self._stopping:
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self.wake.wait(), timeout=1.0)
            self.wake.clear()
            try:
                await self.dispatch_pending()
                if self.retry_outbox is not None and not self._busy:
                    await self.retry_outbox()
            except Exception:
                log.exception("dispatcher could not read the inbox; retrying")
                await asyncio.sleep(1.0)

    async def dispatch_pending(self) -> None:
        async with self.runtime.sessions() as session:
            pending = await Store(session).inbox.pending()
        by_chat: dict[int, list[dict[str, Any]]] = defaultdict(list)
        for _update_id, chat_id, payload in pending:
            by_chat[chat_id].append(payload)
        for chat_id, payloads in by_chat.items():
            if chat_id in self._busy:
                continue
            self._busy.add(chat_id)
            task = asyncio.create_task(self._run_chat(chat_id, payloads))
            self._tasks.add(task)
            task.add_done_callback(self._tasks.discard)

    async def _run_chat(self, chat_id: int, payloads: list[dict[str, Any]]) -> None:
        try:
            for payload in payloads:
                update = Update.de_json(payload, self.application.bot)
                await self.application.process_update(update)
        except Exception:
            log.exception("processing chat %s failed", chat_id)
        finally:
            self._busy.discard(chat_id)
            self.wake.set()

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
                wait = exc.retry_after if isinstance(exc.retry_after, int | float) else exc.retry_after.total_seconds()
                await asyncio.sleep(float(wait))
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
            payloads = [u.to_dict() for u in updates]
            if not payloads:
                continue
            while True:
                try:
                    await self.dispatcher.store(payloads)
                    break
                except Exception:
                    log.exception("could not store updates in the inbox; retrying before confirming them")
                    await asyncio.sleep(delay)
                    delay = min(delay * 2, 30)
            offset = max(int(p["update_id"]) for p in payloads) + 1

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
