"""The runtime: settings, database and engine wired together; one transaction per inbound event.

Both adapters call `Runtime.process`; it opens a session, lets the engine handle the event, stores
the replies in the outbox (Telegram) and commits before anything is sent.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime

from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker

from bot.config import Settings
from bot.engine.answers import ASK_LIMIT
from bot.engine.content import Content
from bot.engine.core import Engine, EngineConfig
from bot.engine.events import InboundEvent, OutboundMessage
from bot.engine.features import install_all
from bot.kb.search import Hit
from bot.kb.worker import SearchWorker
from db.session import create_engine, make_sessionmaker, upgrade_async
from db.store import OutboxItem, Store

log = logging.getLogger(__name__)

MAX_ATTEMPTS = 3


@dataclass
class Processed:
    """The replies of one event; for Telegram also the outbox rows claimed for sending."""

    messages: list[OutboundMessage]
    duplicate: bool = False
    to_send: list[OutboxItem] = field(default_factory=list)


class Runtime:
    def __init__(
        self, settings: Settings, content: Content | None = None, clock: Callable[[], datetime] | None = None
    ) -> None:
        self.settings = settings
        self.content = content or Content.load(settings.knowledge_dir, settings.talk_dir)
        self.engine = Engine(
            self.content,
            EngineConfig(
                timezone=settings.timezone,
                flow_idle_days=settings.flow_idle_days,
                resume_after_minutes=settings.resume_after_minutes,
                admins=settings.admins,
            ),
            clock=clock,
        )
        install_all(self.engine)
        self.db: AsyncEngine = create_engine(settings.database_url)
        self.sessions: async_sessionmaker[AsyncSession] = make_sessionmaker(self.db)
        self.search_worker: SearchWorker | None = None  # the bot's helper process (start_search_worker)

    async def start_search_worker(self) -> None:
        """Knowledge searches in a helper process from now on (the Telegram bot; the console needs none)."""
        if self.search_worker is None:
            self.search_worker = SearchWorker(self.settings.knowledge_dir, self.settings.talk_dir,
                                              self.content.index)
            await self.search_worker.start()

    async def migrate(self) -> None:
        await upgrade_async(self.settings.database_url)

    async def close(self) -> None:
        if self.search_worker is not None:
            await self.search_worker.close()
            self.search_worker = None
        await self.db.dispose()

    async def _search_ahead(self, event: InboundEvent) -> dict[str, list[Hit]] | None:
        """Run the event's knowledge search in the helper before the transaction opens, so neither the
        transaction nor the event loop waits on it; unused when the rep turns out to be in a flow."""
        question = self.engine.question_in(event)
        if self.search_worker is None or question is None:
            return None
        try:
            hits = await self.search_worker.search(question, ASK_LIMIT)
        except Exception:  # the engine searches itself if it needs to, and meets the error there
            log.exception("searching ahead failed for update %s", event.update_id)
            return None
        if any(self.content.kb.get(hit.entry_id) is None for hit in hits):
            return None  # the helper read knowledge files that changed since the bot loaded them
        return {question: hits}

    async def process(self, event: InboundEvent, *, queue_for_chat: bool = False,
                      sender_token: str | None = None) -> Processed:
        """Handle one event in one transaction.

        With `queue_for_chat` (Telegram), the event must be in the inbox: it is skipped when already
        done (redelivery) or not yet its turn, marked done in the same transaction, and the replies go
        to the outbox; with a `sender_token` they are also claimed for that sender (`Processed.to_send`).
        On PostgreSQL the transaction opens only at the engine's first write (`Store.begin_update`).
        """
        primed = await self._search_ahead(event)
        async with self.sessions() as session:
            store = Store(session, self.engine.clock)
            try:
                update_id = event.update_id if queue_for_chat else None
                if update_id is not None and not await store.begin_update(update_id, event.user_id):
                    await store.rollback()
                    return Processed([], duplicate=True)
                messages = await self.engine.handle(store, event, primed)
                processed = Processed(messages)
                if queue_for_chat:
                    payloads = []
                    for message in messages:
                        payload = message.to_payload()
                        if message.edit and event.message_id is not None:
                            payload["edit_message_id"] = event.message_id
                        payloads.append(payload)
                    if update_id is None:
                        processed.to_send = await store.outbox.queue(event.chat_id, None, payloads, sender_token)
                    else:
                        to_send = await store.end_update(update_id, event.chat_id, payloads, sender_token)
                        if to_send is None:  # another worker processed it meanwhile
                            await store.rollback()
                            return Processed([], duplicate=True)
                        processed.to_send = to_send
                await store.commit()
                return processed
            except Exception:
                await store.rollback()
                raise

    async def record_failure(self, event: InboundEvent, error_text: str, sender_token: str | None = None) -> Processed:
        """After a handler error: count the attempt; on the last one give up with a ⚠️ reply queued."""
        async with self.sessions() as session:
            store = Store(session)
            attempts = MAX_ATTEMPTS
            if event.update_id is not None:
                if not await store.inbox.is_pending(event.update_id):
                    return Processed([])  # done after all (the commit went through, its answer was lost)
                attempts = await store.inbox.bump_attempts(event.update_id)
            processed = Processed([])
            if attempts >= MAX_ATTEMPTS:
                if event.update_id is not None:
                    await store.inbox.mark(event.update_id, "failed")
                processed.messages = [OutboundMessage(error_text)]
                processed.to_send = await store.outbox.queue(
                    event.chat_id, event.update_id, [processed.messages[0].to_payload()], sender_token)
            await store.commit()
            return processed

    def error_text(self, language_code: str | None) -> str:
        from bot.engine.i18n import pick_language

        return self.content.messages(pick_language(language_code), "error_generic")
