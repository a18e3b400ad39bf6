"""Sends the outbox: replies are sent after the commit that queued them, retried, never lost on restart."""

from __future__ import annotations

import asyncio
import io
import logging
import uuid

from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker
from telegram import Bot
from telegram.error import BadRequest, Forbidden, NetworkError, RetryAfter, TimedOut

from bot.engine.events import OutboundMessage
from bot.telegram.convert import CAPTION_LIMIT, TELEGRAM_TEXT_LIMIT, keyboard, split_text
from db.store import OutboxItem, Store

log = logging.getLogger(__name__)

MAX_SEND_ATTEMPTS = 6
MAX_FLUSH_ROUNDS = 5


class OutboxSender:
    def __init__(self, bot: Bot, sessions: async_sessionmaker[AsyncSession]) -> None:
        self.bot = bot
        self.sessions = sessions
        self._locks: dict[int, asyncio.Lock] = {}
        self.token = uuid.uuid4().hex  # this worker's claim on outbox rows

    def _lock(self, chat_id: int) -> asyncio.Lock:
        return self._locks.setdefault(chat_id, asyncio.Lock())

    async def flush_chat(self, chat_id: int) -> None:
        """Send every unsent reply of one chat, in order; one sender per chat across all workers."""
        async with self._lock(chat_id):
            for _round in range(MAX_FLUSH_ROUNDS):  # replies queued while we were sending go out too
                if not await self._flush_claimed(chat_id):
                    break

    async def _flush_claimed(self, chat_id: int) -> bool:
        """Claim and send one batch; True when a whole batch went out (look again for newer replies)."""
        async with self.sessions() as session:
            store = Store(session)
            items = await store.outbox.claim_chat(chat_id, self.token)
            await store.commit()
        if not items:
            return False
        sent_all = False
        try:
            for index, item in enumerate(items):
                more = index + 1 < len(items)
                if not await self._deliver(item, renew_chat=chat_id if more else None):
                    break  # keep the order: the rest waits for the next flush
            else:
                sent_all = True
        finally:
            if not sent_all:  # give the rest back at once rather than when the lease runs out
                async with self.sessions() as session:
                    store = Store(session)
                    await store.outbox.release(chat_id, self.token)
                    await store.commit()
        return sent_all

    async def take_over(self) -> None:
        """A sole sender (long polling) clears claims left by a previous process that died mid-send."""
        async with self.sessions() as session:
            store = Store(session)
            await store.outbox.release_all()
            await store.commit()

    async def flush_all(self) -> None:
        async with self.sessions() as session:
            chats = await Store(session).outbox.chats_with_unsent()
        for chat_id in chats:
            await self.flush_chat(chat_id)

    async def _deliver(self, item: OutboxItem, renew_chat: int | None = None) -> bool:
        """True when the reply went out (or can never go out and is dropped); False to retry later."""
        message = OutboundMessage.from_payload(item.payload)
        edit_id = item.payload.get("edit_message_id")
        delay = 0.5
        for attempt in range(1, MAX_SEND_ATTEMPTS + 1):
            try:
                if isinstance(edit_id, int) and await self._edit(item.chat_id, edit_id, message):
                    break
                await self._send(item.chat_id, message)
                log.debug("sent reply %s to chat %s (sender %s)", item.id, item.chat_id, self.token[:8])
                break
            except RetryAfter as exc:
                wait = exc.retry_after if isinstance(exc.retry_after, int | float) else exc.retry_after.total_seconds()
                await asyncio.sleep(float(wait))
            except (BadRequest, Forbidden) as exc:
                log.warning("dropping reply %s to chat %s: %s", item.id, item.chat_id, exc.message)
                break
            except (TimedOut, NetworkError) as exc:
                log.info("send attempt %s for reply %s failed: %s", attempt, item.id, exc)
                await asyncio.sleep(delay)
                delay = min(delay * 2, 10)
        else:
            log.error("reply %s to chat %s not sent after %s attempts; kept for later", item.id, item.chat_id,
                      MAX_SEND_ATTEMPTS)
            return False
        async with self.sessions() as session:
            store = Store(session)
            await store.outbox.mark_sent([item.id])
            if renew_chat is not None:  # more to send: keep this chat's lease in the same transaction
                await store.outbox.renew(renew_chat, self.token)
            await store.commit()
        return True

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
            if message.attachment.kind == "photo":
                await self.bot.send_photo(chat_id, photo=data, caption=caption, filename=message.attachment.filename,
                                          reply_markup=markup if caption else None)
            else:
                await self.bot.send_document(chat_id, document=data, caption=caption,
                                             filename=message.attachment.filename,
                                             reply_markup=markup if caption else None)
            if caption is not None:
                return
        parts = split_text(message.text)
        for i, part in enumerate(parts):
            await self.bot.send_message(chat_id, part, reply_markup=markup if i == len(parts) - 1 else None)
