"""Keeps the delivery tables small: handled updates and sent replies are deleted after a week.

The inbox and the outbox only guard delivery (duplicates, order, crash recovery); once an update is a
week old Telegram will not send it again and its replies are long delivered. Every process runs the
pass (deleting is idempotent), in batches so no transaction holds many rows.
"""

from __future__ import annotations

import asyncio
import logging
from datetime import timedelta

from bot.runtime import Runtime
from db.store import Store, utcnow

log = logging.getLogger(__name__)

KEEP = timedelta(days=7)
EVERY = 3600.0  # seconds between passes
BATCH = 5000


class Tidy:
    def __init__(self, runtime: Runtime, keep: timedelta = KEEP, every: float = EVERY, batch: int = BATCH) -> None:
        self.runtime = runtime
        self.keep = keep
        self.every = every
        self.batch = batch

    async def tick(self) -> int:
        """One pass, batch after batch until nothing old is left; returns how many rows went."""
        before = utcnow() - self.keep  # real time, like the rows' own stamps
        total = 0
        while True:
            async with self.runtime.sessions() as session:
                store = Store(session)
                gone = await store.inbox.purge_done(before, self.batch)
                gone += await store.outbox.purge_sent(before, self.batch)
                await store.commit()
            total += gone
            if gone == 0:
                return total
            await asyncio.sleep(0)  # let updates in between batches

    async def run(self) -> None:
        while True:
            try:
                gone = await self.tick()
                if gone:
                    log.info("deleted %s handled updates and sent replies older than %s", gone, self.keep)
            except asyncio.CancelledError:
                raise
            except Exception:
                log.exception("tidying the inbox and outbox failed; retrying in %.0f s", self.every)
            await asyncio.sleep(self.every)
