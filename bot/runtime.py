"""The runtime: settings, database and engine wired together; one transaction per inbound event.

Both adapters call `Runtime.process`; it opens a session, lets the engine handle the event, stores
the replies in the outbox (Telegram) and commits before anything is sent.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker

from bot.config import Settings
from bot.engine.content import Content
from bot.engine.core import Engine, EngineConfig
from bot.engine.events import InboundEvent, OutboundMessage
from bot.engine.features import install_all
from db.session import create_engine, make_sessionmaker, upgrade_async
from db.store import Store

log = logging.getLogger(__name__)

MAX_ATTEMPTS = 3


@dataclass
class Processed:
    """The replies of one event, and their outbox ids when they were queued for Telegram."""

    messages: list[OutboundMessage]
    outbox_ids: list[int]
    duplicate: bool = False


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

    async def migrate(self) -> None:
        await upgrade_async(self.settings.database_url)

    async def close(self) -> None:
        await self.db.dispose()

    async def process(self, event: InboundEvent, *, queue_for_chat: bool = False) -> Processed:
        """Handle one event in one transaction.

        With `queue_for_chat` (Telegram), the event must be in the inbox: it is skipped when already
        done (redelivery), marked done in the same transaction, and the replies go to the outbox.
        """
        async with self.sessions() as session:
            store = Store(session, self.engine.clock)
            try:
                if queue_for_chat and event.update_id is not None and not await store.inbox.claim(event.update_id):
                    await store.rollback()
                    return Processed([], [], duplicate=True)
                messages = await self.engine.handle(store, event)
                ids: list[int] = []
                if queue_for_chat:
                    for message in messages:
                        payload = message.to_payload()
                        if message.edit and event.message_id is not None:
                            payload["edit_message_id"] = event.message_id
                        ids.append(await store.outbox.add(event.chat_id, event.update_id, payload))
                    if event.update_id is not None:
                        await store.inbox.mark(event.update_id, "done")
                await store.commit()
                return Processed(messages, ids)
            except Exception:
                await store.rollback()
                raise

    async def record_failure(self, event: InboundEvent, error_text: str) -> Processed:
        """After a handler error: count the attempt; on the last one give up with a ⚠️ reply queued."""
        async with self.sessions() as session:
            store = Store(session)
            attempts = MAX_ATTEMPTS
            if event.update_id is not None:
                if not await store.inbox.is_pending(event.update_id):
                    return Processed([], [])  # done after all (the commit went through, its answer was lost)
                attempts = await store.inbox.bump_attempts(event.update_id)
            ids: list[int] = []
            messages: list[OutboundMessage] = []
            if attempts >= MAX_ATTEMPTS:
                if event.update_id is not None:
                    await store.inbox.mark(event.update_id, "failed")
                messages = [OutboundMessage(error_text)]
                ids = [await store.outbox.add(event.chat_id, event.update_id, messages[0].to_payload())]
            await store.commit()
            return Processed(messages, ids)

    def error_text(self, language_code: str | None) -> str:
        from bot.engine.i18n import pick_language

        return self.content.messages(pick_language(language_code), "error_generic")
