"""The reminder pass of a bot process: every `interval` seconds, claim what is due and send it.

Each pass runs in one transaction: schedule the weekly-plan reminders that are missing, claim the due
reminders (a conditional UPDATE, so a reminder goes to exactly one process), queue their messages
in the outbox, commit; then the outbox sender delivers them. A crash after the commit re-sends from
the outbox at start-up; a crash before it leaves the reminders pending for the next pass.
"""

from __future__ import annotations

import asyncio
import logging

from bot.engine.features.reminders import due_messages, schedule_weekly_plans
from bot.runtime import Runtime
from bot.telegram.sender import OutboxSender
from db.store import Store

log = logging.getLogger(__name__)

DEFAULT_INTERVAL = 30.0


class ReminderLoop:
    def __init__(self, runtime: Runtime, sender: OutboxSender, interval: float = DEFAULT_INTERVAL) -> None:
        self.runtime = runtime
        self.sender = sender
        self.interval = interval

    async def tick(self) -> int:
        """One pass; returns how many reminders were queued."""
        async with self.runtime.sessions() as session:
            store = Store(session, self.runtime.engine.clock)
            try:
                now = store.clock()
                await schedule_weekly_plans(store, now)
                due = await due_messages(store, now, self.runtime.content.messages)
                for chat_id, message in due:
                    await store.outbox.add(chat_id, None, message.to_payload())
                await store.commit()
            except Exception:
                await store.rollback()
                raise
        for chat_id in dict.fromkeys(chat for chat, _ in due):
            await self.sender.flush_chat(chat_id)
        return len(due)

    async def run(self) -> None:
        """Forever (until cancelled): a failed pass is logged and retried at the next one."""
        while True:
            try:
                await self.tick()
            except asyncio.CancelledError:
                raise
            except Exception:
                log.exception("reminder pass failed; retrying in %.0f s", self.interval)
            await asyncio.sleep(self.interval)
