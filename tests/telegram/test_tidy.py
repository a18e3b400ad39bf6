"""A week on, handled updates and sent replies are deleted; anything still to do is kept."""

from __future__ import annotations

from datetime import timedelta

import sqlalchemy as sa

from bot.runtime import Runtime
from bot.telegram.tidy import Tidy
from db.models import InboxUpdate, OutboxMessage
from db.store import Store, utcnow


async def test_a_week_old_handled_updates_and_sent_replies_go_and_the_rest_stays(runtime: Runtime) -> None:
    old = utcnow() - timedelta(days=8)
    async with runtime.sessions() as session:
        store = Store(session)
        await store.inbox.add_many([(u, 1, {"update_id": u}) for u in range(1, 8)])
        for update_id in range(1, 6):  # five handled a week ago …
            await store.inbox.mark(update_id, "done")
        await session.execute(sa.update(InboxUpdate).where(InboxUpdate.update_id <= 5).values(processed_at=old))
        await store.inbox.mark(6, "done")  # … one just now, one still pending (7)
        sent_long_ago = [await store.outbox.add(1, u, {"text": f"旧回复 {u}"}) for u in range(1, 6)]
        await store.outbox.mark_sent(sent_long_ago)
        await session.execute(sa.update(OutboxMessage).where(OutboxMessage.id.in_(sent_long_ago))
                              .values(sent_at=old))
        unsent = await store.outbox.add(1, 7, {"text": "还没发出的回复"})
        await store.commit()

    gone = await Tidy(runtime, batch=2).tick()  # several batches

    assert gone == 10
    async with runtime.sessions() as session:
        store = Store(session)
        assert [u for u, _c, _p in await store.inbox.pending()] == [7]
        assert await store.inbox.is_known(6)  # a recent update is still recognised if Telegram re-sends it
        assert [item.id for item in await store.outbox.unsent()] == [unsent]
        left = (await session.execute(sa.select(sa.func.count()).select_from(OutboxMessage))).scalar_one()
        assert left == 1
    assert await Tidy(runtime).tick() == 0
