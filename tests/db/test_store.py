"""The store on SQLite and PostgreSQL: inbox de-duplication, outbox order, per-user isolation."""

from __future__ import annotations

from bot.runtime import Runtime
from db.store import Store


async def test_inbox_ignores_redelivered_updates(runtime: Runtime) -> None:
    async with runtime.sessions() as session:
        store = Store(session)
        await store.inbox.add_many([(10, 1, {"update_id": 10}), (11, 1, {"update_id": 11})])
        await store.commit()
    async with runtime.sessions() as session:
        store = Store(session)
        await store.inbox.add_many([(10, 1, {"update_id": 10}), (12, 2, {"update_id": 12})])
        await store.commit()
        pending = await store.inbox.pending()
    assert [u for u, _c, _p in pending] == [10, 11, 12]


async def test_take_is_false_once_done(runtime: Runtime) -> None:
    async with runtime.sessions() as session:
        store = Store(session)
        await store.inbox.add_many([(20, 1, {"update_id": 20})])
        await store.commit()
        assert await store.inbox.take(20)
        await store.commit()
        assert not await store.inbox.take(20)
        assert not await store.inbox.take(999)  # never stored: not ours to process


async def test_outbox_keeps_order_and_marks_sent(runtime: Runtime) -> None:
    async with runtime.sessions() as session:
        store = Store(session)
        first = await store.outbox.add(5, 1, {"text": "一"})
        second = await store.outbox.add(5, 1, {"text": "二"})
        await store.outbox.add(6, 2, {"text": "other chat"})
        await store.commit()
        assert [i.payload["text"] for i in await store.outbox.unsent(chat_id=5)] == ["一", "二"]
        await store.outbox.mark_sent([first])
        await store.commit()
        assert [i.id for i in await store.outbox.unsent(chat_id=5)] == [second]


async def test_customers_are_private_to_their_owner(runtime: Runtime) -> None:
    async with runtime.sessions() as session:
        store = Store(session)
        alice = await store.users.ensure(1, "Alice", "zh", "Asia/Shanghai")
        bob = await store.users.ensure(2, "Bob", "en", "Asia/Shanghai")
        acme = await store.customers.ensure(alice.id, "Acme")
        await store.commit()
        assert await store.customers.get(bob.id, acme.id) is None
        assert await store.customers.list_for(bob.id) == []
        assert [c.name for c in await store.customers.list_for(alice.id)] == ["Acme"]
