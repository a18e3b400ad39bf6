"""Sends the outbox: replies are sent after the commit that queued them, retried, never lost on restart."""

from __future__ import annotations

import asyncio
import io
import logging
import time
import uuid
from collections.abc import Callable
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker
from telegram import InlineKeyboardMarkup
from telegram.error import BadRequest, Forbidden, NetworkError, RetryAfter, TimedOut
from telegram.ext import ExtBot

from bot.engine.events import OutboundMessage
from bot.telegram.convert import CAPTION_LIMIT, TELEGRAM_TEXT_LIMIT, keyboard, split_text
from db.store import OutboxItem, Store

log = logging.getLogger(__name__)


def retry_after_seconds(exc: RetryAfter) -> float:
    """RetryAfter's wait in seconds (an int in older PTB, a timedelta when configured so in newer)."""
    wait = exc._retry_after if hasattr(exc, "_retry_after") else exc.retry_after
    return float(wait.total_seconds() if hasattr(wait, "total_seconds") else wait)

class SendingBot(ExtBot[Any]):
    """PTB's bot, with a way to send text without reading Telegram's answer back into a `Message`.

    The outbox only needs to know that a reply went out; building the Message object (its chat, its
    sender, every attribute through TelegramObject's checks) was 6% of the bot's CPU per answered
    update in benchmarks/bench_e2e.py. Everything else of a send is PTB's: the request, parameter
    encoding, the rate limiter, errors → exceptions (RetryAfter, BadRequest, …).
    """

    async def send_text(self, chat_id: int, text: str, reply_markup: InlineKeyboardMarkup | None = None) -> None:
        await self._post("sendMessage", {"chat_id": chat_id, "text": text, "reply_markup": reply_markup})


MAX_SEND_ATTEMPTS = 6
MAX_FLUSH_ROUNDS = 5
SETTLE_WINDOW = 0.02  # seconds the sender gathers deliveries to record as sent in one transaction
SETTLE_BATCH = 32


class ChatPacer:
    """Telegram's per-chat limit: about one message a second, short bursts allowed (a token bucket).

    `rate` 0 turns it off (the benchmarks' fake Bot API has no flood limit).
    """

    def __init__(self, rate: float, burst: int = 3, clock: Callable[[], float] = time.monotonic) -> None:
        self.rate = rate
        self.burst = burst
        self.clock = clock
        self._buckets: dict[int, tuple[float, float]] = {}  # chat → (tokens, at)

    async def wait(self, chat_id: int) -> None:
        if self.rate <= 0:
            return
        now = self.clock()
        tokens, at = self._buckets.get(chat_id, (float(self.burst), now))
        tokens = min(float(self.burst), tokens + (now - at) * self.rate)
        if tokens < 1.0:
            await asyncio.sleep((1.0 - tokens) / self.rate)
            now = self.clock()
            tokens = 1.0
        self._buckets[chat_id] = (tokens - 1.0, now)
        if len(self._buckets) > 10_000:  # forget chats whose bucket is full again
            full = [c for c, (t, a) in self._buckets.items() if t + (now - a) * self.rate >= self.burst]
            for chat in full:
                del self._buckets[chat]


class Settler:
    """Marks sent replies in one transaction for every chat that finished sending meanwhile (group
    commit), and claims what else became unsent for those chats; one transaction per reply cost more
    than the engine's work for the update."""

    def __init__(self, sessions: async_sessionmaker[AsyncSession], token: str, window: float = SETTLE_WINDOW) -> None:
        self.sessions = sessions
        self.token = token
        self.window = window
        self.sole = False  # the only sender of the bot (long polling): Outbox.record_sent
        self._waiting: list[tuple[list[int], int, asyncio.Future[list[OutboxItem]]]] = []
        self._task: asyncio.Task[None] | None = None

    async def settle(self, sent_ids: list[int], chat_id: int) -> list[OutboxItem]:
        future: asyncio.Future[list[OutboxItem]] = asyncio.get_running_loop().create_future()
        self._waiting.append((sent_ids, chat_id, future))
        if self._task is None:
            self._task = asyncio.create_task(self._drain())
        return await future

    async def _drain(self) -> None:
        try:
            while self._waiting:
                if self.window and len(self._waiting) < SETTLE_BATCH:  # only the chat's next replies wait
                    await asyncio.sleep(self.window)
                batch, self._waiting = self._waiting, []
                try:
                    sent = [i for ids, _, _ in batch for i in ids]
                    chats = [chat for _, chat, _ in batch]
                    async with self.sessions() as session:
                        store = Store(session)
                        if self.sole:
                            chats = await store.outbox.record_sent(sent, chats)
                            await store.commit()
                            sent = []
                        more = await store.outbox.settle(sent, chats, self.token) if sent or chats else {}
                        await store.commit()
                except Exception as exc:
                    for _, _, future in batch:
                        if not future.done():
                            future.set_exception(exc)
                    continue
                for _, chat, future in batch:
                    if not future.done():
                        future.set_result(more.get(chat, []))
        finally:
            self._task = None


class OutboxSender:
    def __init__(self, bot: SendingBot, sessions: async_sessionmaker[AsyncSession], chat_rate: float = 0.0,
                 settle_window: float = SETTLE_WINDOW) -> None:
        self.bot = bot
        self.sessions = sessions
        self._locks: dict[int, tuple[asyncio.Lock, int]] = {}  # chat → (lock, tasks using it)
        self.token = uuid.uuid4().hex  # this worker's claim on outbox rows
        self.settler = Settler(sessions, self.token, settle_window)
        self.pacer = ChatPacer(chat_rate)
        self._background: set[asyncio.Task[None]] = set()

    async def _hold(self, chat_id: int) -> asyncio.Lock:
        """One sending task per chat in this process; the lock is forgotten when no task needs it."""
        lock, users = self._locks.get(chat_id, (asyncio.Lock(), 0))
        self._locks[chat_id] = (lock, users + 1)
        try:
            await lock.acquire()
        except BaseException:
            self._unhold(chat_id, lock, acquired=False)
            raise
        return lock

    def _unhold(self, chat_id: int, lock: asyncio.Lock, acquired: bool = True) -> None:
        if acquired:
            lock.release()
        _, users = self._locks[chat_id]
        if users <= 1:
            del self._locks[chat_id]
        else:
            self._locks[chat_id] = (lock, users - 1)

    async def deliver(self, chat_id: int, items: list[OutboxItem]) -> None:
        """Send replies already claimed for this sender (in the transaction that wrote them).

        Returns once they are out; marking them sent and sending whatever else waits for the chat
        continue in the background with the chat still held, so the chat's next update is processed
        meanwhile and its replies still go out after these.
        """
        lock = await self._hold(chat_id)
        try:
            sent = await self._send_once(chat_id, items)
        except BaseException:
            self._unhold(chat_id, lock)
            raise
        if not sent:
            self._unhold(chat_id, lock)
            return
        task = asyncio.create_task(self._finish(chat_id, lock, sent))
        self._background.add(task)
        task.add_done_callback(self._background.discard)

    async def _finish(self, chat_id: int, lock: asyncio.Lock, sent: list[int]) -> None:
        try:
            await self._send_rounds(chat_id, await self.settler.settle(sent, chat_id))
        except Exception:
            log.exception("could not record replies to chat %s as sent; they are sent again later", chat_id)
        finally:
            self._unhold(chat_id, lock)

    async def wait_idle(self) -> None:
        """Until replies sent are recorded (shutdown, tests)."""
        while self._background:
            await asyncio.gather(*self._background, return_exceptions=True)

    async def flush_chat(self, chat_id: int) -> None:
        """Send every unsent reply of one chat, in order (start-up, reminders, retries)."""
        lock = await self._hold(chat_id)
        try:
            async with self.sessions() as session:
                store = Store(session)
                items = await store.outbox.claim_chat(chat_id, self.token)
                await store.commit()
            await self._send_rounds(chat_id, items)
        finally:
            self._unhold(chat_id, lock)

    async def _send_rounds(self, chat_id: int, items: list[OutboxItem]) -> None:
        for _round in range(MAX_FLUSH_ROUNDS):  # replies queued while we were sending go out too
            sent = await self._send_once(chat_id, items)
            if not sent:
                return
            items = await self.settler.settle(sent, chat_id)

    async def _send_once(self, chat_id: int, items: list[OutboxItem]) -> list[int]:
        """Send claimed replies in order; all their ids, or [] when one could not go out (the rest is
        given back at once rather than when the lease runs out, and what went out is marked)."""
        sent: list[int] = []
        complete = False
        try:
            for item in items:
                if not await self._deliver(item):
                    break  # keep the order: the rest waits for the next flush
                sent.append(item.id)
            else:
                complete = True
        finally:
            if not complete:
                await self._release(chat_id, sent)
        return sent if complete else []

    async def _release(self, chat_id: int, sent: list[int]) -> None:
        async with self.sessions() as session:
            store = Store(session)
            await store.outbox.mark_sent(sent)
            await store.outbox.release(chat_id, self.token)
            await store.commit()

    async def take_over(self) -> None:
        """A sole sender (long polling) clears claims left by a previous process that died mid-send."""
        async with self.sessions() as session:
            store = Store(session)
            await store.outbox.release_all()
            await store.commit()
        self.settler.sole = True

    async def flush_all(self) -> None:
        async with self.sessions() as session:
            chats = await Store(session).outbox.chats_with_unsent()
        for chat_id in chats:
            await self.flush_chat(chat_id)

    async def _deliver(self, item: OutboxItem) -> bool:
        """True when the reply went out (or can never go out and is dropped); False to retry later."""
        message = OutboundMessage.from_payload(item.payload)
        edit_id = item.payload.get("edit_message_id")
        delay = 0.5
        for attempt in range(1, MAX_SEND_ATTEMPTS + 1):
            try:
                if isinstance(edit_id, int) and await self._edit(item.chat_id, edit_id, message):
                    return True
                await self._send(item.chat_id, message)
                log.debug("sent reply %s to chat %s (sender %s)", item.id, item.chat_id, self.token[:8])
                return True
            except RetryAfter as exc:
                await asyncio.sleep(retry_after_seconds(exc))
            except (BadRequest, Forbidden) as exc:
                log.warning("dropping reply %s to chat %s: %s", item.id, item.chat_id, exc.message)
                return True
            except (TimedOut, NetworkError) as exc:
                log.info("send attempt %s for reply %s failed: %s", attempt, item.id, exc)
                await asyncio.sleep(delay)
                delay = min(delay * 2, 10)
        log.error("reply %s to chat %s not sent after %s attempts; kept for later", item.id, item.chat_id,
                  MAX_SEND_ATTEMPTS)
        return False

    async def _edit(self, chat_id: int, message_id: int, message: OutboundMessage) -> bool:
        """Replace a message in place; False when Telegram refuses (too old, deleted): send it anew then."""
        if len(message.text) > TELEGRAM_TEXT_LIMIT:
            return False
        try:
            await self.bot.edit_message_text(message.text, chat_id=chat_id, message_id=message_id,
                                             reply_markup=keyboard(message))
        except BadRequest as exc:
            return "not modified" in exc.message.lower()
        return True

    async def _send(self, chat_id: int, message: OutboundMessage) -> None:
        markup = keyboard(message)
        if message.attachment is not None:
            caption = message.text if len(message.text) <= CAPTION_LIMIT else None
            data = io.BytesIO(message.attachment.content)
            await self.pacer.wait(chat_id)
            if message.attachment.kind == "photo":
                await self.bot.send_photo(
                    chat_id, photo=data, caption=caption, filename=message.attachment.filename,
                    reply_markup=markup if caption else None)
            else:
                await self.bot.send_document(
                    chat_id, document=data, caption=caption, filename=message.attachment.filename,
                    reply_markup=markup if caption else None)
            if caption is not None:
                return
        parts = split_text(message.text)
        for i, part in enumerate(parts):
            await self.pacer.wait(chat_id)
            await self.bot.send_text(chat_id, part, reply_markup=markup if i == len(parts) - 1 else None)
