"""The store on SQLite and PostgreSQL: inbox de-duplication, outbox order, per-user isolation."""

from __future__ import annotations

import asyncio
from typing import Any

import pytest
from sqlalchemy import select

from bot.engine.events import InboundEvent
from bot.runtime import Runtime
from db.models import OutboxMessage
from db.store import Store
from db.store_teams import Teams


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
        alice = (await store.users.arrive(1, "Alice", "zh", "Asia/Shanghai")).user
        bob = (await store.users.arrive(2, "Bob", "en", "Asia/Shanghai")).user
        acme = await store.customers.ensure(alice.id, "Acme")
        await store.commit()
        assert await store.customers.get(bob.id, acme.id) is None
        assert await store.customers.list_for(bob.id) == []
        assert [c.name for c in await store.customers.list_for(alice.id)] == ["Acme"]


async def _inbox_update(runtime: Runtime, update_id: int, chat_id: int) -> None:
    async with runtime.sessions() as session:
        store = Store(session)
        await store.inbox.add_many([(update_id, chat_id, {"update_id": update_id})])
        await store.commit()


async def test_a_reminder_waiting_for_the_chat_goes_out_before_the_replies(runtime: Runtime) -> None:
    """Taking the update also looks at the chat's outbox (on PostgreSQL in the same statement): a
    reminder queued meanwhile is claimed with the replies, ahead of them."""
    async with runtime.sessions() as session:
        store = Store(session)
        await store.outbox.add(31, None, {"text": "⏰ 提醒：明天拜访华东医疗"})
        await store.commit()
    await _inbox_update(runtime, 300, 31)
    event = InboundEvent.from_text(31, 31, "/week", name="王芳", language_code="zh-hans", update_id=300)
    processed = await runtime.process(event, queue_for_chat=True, sender_token="worker-a")
    texts = [item.payload["text"] for item in processed.to_send]
    assert texts[0].startswith("⏰") and len(texts) == 1 + len(processed.messages)
    # nothing is left for the next update of the chat to claim again
    await _inbox_update(runtime, 301, 31)
    event = InboundEvent.from_text(31, 31, "/week", name="王芳", language_code="zh-hans", update_id=301)
    again = await runtime.process(event, queue_for_chat=True, sender_token="worker-a")
    assert not any(item.payload["text"].startswith("⏰") for item in again.to_send)


async def test_a_chat_held_by_another_sender_gets_its_replies_queued_unclaimed(runtime: Runtime) -> None:
    await _inbox_update(runtime, 310, 32)
    first = await runtime.process(
        InboundEvent.from_text(32, 32, "/week", name="王芳", language_code="zh-hans", update_id=310),
        queue_for_chat=True, sender_token="worker-a")
    assert first.to_send  # worker-a holds the chat until it records them sent
    await _inbox_update(runtime, 311, 32)
    second = await runtime.process(
        InboundEvent.from_text(32, 32, "/week", name="王芳", language_code="zh-hans", update_id=311),
        queue_for_chat=True, sender_token="worker-b")
    assert second.messages and second.to_send == []  # worker-a sends them after its own
    async with runtime.sessions() as session:
        unsent = await Store(session).outbox.unsent(chat_id=32)
    assert len(unsent) == len(first.to_send) + len(second.messages)


async def test_a_user_in_a_flow_is_found_in_it_when_the_update_is_taken(runtime: Runtime) -> None:
    await _inbox_update(runtime, 320, 33)
    await runtime.process(
        InboundEvent.from_text(33, 33, "/prep", name="王芳", language_code="zh-hans", update_id=320),
        queue_for_chat=True, sender_token="worker-a")
    await _inbox_update(runtime, 321, 33)
    processed = await runtime.process(
        InboundEvent.from_text(33, 33, "/week", name="王芳", language_code="zh-hans", update_id=321),
        queue_for_chat=True, sender_token="worker-a")
    async with runtime.sessions() as session:
        store = Store(session)
        user = await store.users.get_by_telegram(33)
        assert user is not None
        dialog = await store.dialogs.active(user.id)
    assert dialog is not None and dialog.flow == "prep"  # /week answered without losing the prep flow
    assert processed.messages


async def test_a_reply_queued_while_the_sender_records_the_last_one_is_not_overtaken(runtime: Runtime) -> None:
    """Worker A has sent reply 一 and is recording it when worker B queues 二 for the same chat (A
    holds the chat, so B leaves 二 for A), and then A's next update queues 三. 二 must go out before
    三: no sender may hold a reply while an older one of the chat waits with nobody to send it, which
    would leave it to the next retry pass, a second later and after 三."""
    if runtime.settings.database_url.startswith("sqlite"):
        pytest.skip("one connection: SQLite's transactions never interleave")
    chat = 34

    async def queue(token: str, text: str) -> list[Any]:
        async with runtime.sessions() as session:
            store = Store(session)
            claimed = await store.outbox.queue(chat, None, [{"text": text}], token=token)
            await store.commit()
            return claimed

    [one] = await queue("worker-a", "一")
    async with runtime.sessions() as session:
        settling = Store(session)
        await settling.outbox.settle([one.id], [chat], "worker-a")  # A's recording, not committed yet
        two = asyncio.create_task(queue("worker-b", "二"))
        done, _ = await asyncio.wait([two], timeout=0.5)
        three = asyncio.create_task(queue("worker-a", "三")) if done else None
        if three is not None:
            await asyncio.wait([three], timeout=0.5)
        await settling.commit()
    await two
    if three is None:
        await queue("worker-a", "三")
    else:
        await three
    async with runtime.sessions() as session:
        rows = (await session.execute(
            select(OutboxMessage.payload, OutboxMessage.claim_token)
            .where(OutboxMessage.chat_id == chat, OutboxMessage.sent_at.is_(None)).order_by(OutboxMessage.id)
        )).all()
    holders = [(row.payload["text"], row.claim_token) for row in rows]
    for i, (_text, holder) in enumerate(holders):
        if holder is not None:
            assert all(earlier is not None for _t, earlier in holders[:i]), holders
    assert [text for text, _holder in holders] == ["二", "三"]


async def test_the_reps_team_comes_with_the_arrival_and_follows_a_change_of_team(runtime: Runtime) -> None:
    """The team is read with the user when an update arrives (no query per /week or /log); a rep who
    joins or leaves a team in that same update is counted in the new team's weeks at once."""
    async with runtime.sessions() as session:
        store = Store(session)
        east = await Teams(session, store.clock).create("华东一组", "Asia/Shanghai")
        west = await Teams(session, store.clock).create("West", "America/Los_Angeles")
        rep = (await store.users.arrive(42, "王芳", "zh", "Asia/Shanghai")).user
        await Teams(session, store.clock).add_member(east.id, rep.id, "rep")
        await store.commit()
    async with runtime.sessions() as session:
        store = Store(session)
        await store.users.arrive(42, "王芳", "zh", "Asia/Shanghai")
        teams = Teams(session, store.clock, store.prefetched)
        team = await teams.rep_team(rep.id)
        assert team is not None and team.name == "华东一组"
        await teams.remove_member(east.id, rep.id)
        await teams.add_member(west.id, rep.id, "rep")
        moved = await teams.rep_team(rep.id)
        assert moved is not None and moved.timezone == "America/Los_Angeles"
        await teams.remove_member(west.id, rep.id)
        assert await teams.rep_team(rep.id) is None


async def test_the_only_sender_records_replies_sent_and_finds_a_reminder_waiting(runtime: Runtime) -> None:
    """Long polling: one sender, so recording a delivery needs no chat lock (on PostgreSQL it runs
    outside a transaction). The replies stay recorded as sent, and a reminder queued for the chat
    meanwhile is found and claimed to go out next."""
    async with runtime.sessions() as session:
        store = Store(session)
        [reply] = await store.outbox.queue(35, None, [{"text": "✅ 已记录"}], token="solo")
        await store.outbox.add(35, None, {"text": "⏰ 提醒：明天拜访华东医疗"})
        await store.commit()
    async with runtime.sessions() as session:
        store = Store(session)
        waiting = await store.outbox.record_sent([reply.id], [35, 36])
        await store.commit()
        assert waiting == [35]
        more = await store.outbox.settle([], waiting, "solo")
        await store.commit()
    assert [item.payload["text"] for item in more[35]] == ["⏰ 提醒：明天拜访华东医疗"]
    async with runtime.sessions() as session:
        unsent = await Store(session).outbox.unsent(chat_id=35)
    assert [item.payload["text"] for item in unsent] == ["⏰ 提醒：明天拜访华东医疗"]  # the reply stays sent


async def test_logging_an_activity_returns_the_weeks_total_with_it(runtime: Runtime) -> None:
    """/log answers with the running total: this week's events of that kind, the new one included;
    last week's, other kinds and other reps' are not."""
    from datetime import UTC, datetime

    week = (datetime(2026, 11, 30, tzinfo=UTC), datetime(2026, 12, 7, tzinfo=UTC))
    async with runtime.sessions() as session:
        store = Store(session)
        me = (await store.users.arrive(43, "王芳", "zh", "Asia/Shanghai")).user
        other = (await store.users.arrive(44, "李雷", "zh", "Asia/Shanghai")).user
        await store.activity.add(me.id, "calls", 2, occurred_at=datetime(2026, 12, 1, 9, tzinfo=UTC))
        await store.activity.add(me.id, "calls", 5, occurred_at=datetime(2026, 11, 29, 9, tzinfo=UTC))  # last week
        await store.activity.add(me.id, "visits", 1, occurred_at=datetime(2026, 12, 1, 10, tzinfo=UTC))
        await store.activity.add(other.id, "calls", 4, occurred_at=datetime(2026, 12, 1, 11, tzinfo=UTC))
        total = await store.activity.add_counting(me.id, "calls", 3, since=week[0], until=week[1],
                                                  occurred_at=datetime(2026, 12, 2, 9, tzinfo=UTC))
        assert total == 5
        late = await store.activity.add_counting(me.id, "calls", 1, since=week[0], until=week[1],
                                                 occurred_at=datetime(2026, 12, 8, 9, tzinfo=UTC))
        assert late == 5  # an event outside the week is stored but not in this week's total
        await store.commit()


@pytest.mark.parametrize("text", ["/log calls 3", "/week"])
async def test_an_update_another_worker_finished_meanwhile_leaves_nothing_behind(
    runtime: Runtime, monkeypatch: pytest.MonkeyPatch, text: str
) -> None:
    """On PostgreSQL the update is taken at the end of its handling, together with writing the replies
    (Store.end_update). If another worker finished the same update in between, nothing of this attempt
    stays: not the rep's first arrival, not the logged calls, not a second reply."""
    if runtime.settings.database_url.startswith("sqlite"):
        pytest.skip("SQLite takes the update first, and its one connection lets no other worker in between")
    await _inbox_update(runtime, 330, 37)
    handle = runtime.engine.handle

    async def handle_while_another_worker_finishes_it(store: Store, event: InboundEvent, primed: Any = None) -> Any:
        messages = await handle(store, event, primed)
        async with runtime.sessions() as session:
            other = Store(session)
            assert await other.inbox.take(330)
            await other.commit()
        return messages

    monkeypatch.setattr(runtime.engine, "handle", handle_while_another_worker_finishes_it)
    processed = await runtime.process(
        InboundEvent.from_text(37, 37, text, name="王芳", language_code="zh-hans", update_id=330),
        queue_for_chat=True, sender_token="worker-a")
    assert processed.duplicate and processed.to_send == []
    async with runtime.sessions() as session:
        store = Store(session)
        assert await store.users.get_by_telegram(37) is None
        assert await store.outbox.unsent(chat_id=37) == []


async def test_a_connection_goes_back_to_the_pool_ready_for_transactions(runtime: Runtime) -> None:
    """PostgreSQL handles an update outside a transaction until its first write. Whichever way it went,
    the next session on that connection has its writes rolled back with it, as before."""
    if runtime.settings.database_url.startswith("sqlite"):
        pytest.skip("SQLite handles every update in one transaction")
    from db.session import create_engine, make_sessionmaker

    engine = create_engine(runtime.settings.database_url, pool_size=1)  # every session on the same connection
    sessions = make_sessionmaker(engine)
    try:
        for update_id, writes in ((340, False), (341, True)):
            async with sessions() as session:
                store = Store(session)
                await store.inbox.add_many([(update_id, 38, {"update_id": update_id})])
                await store.commit()
            async with sessions() as session:
                store = Store(session)
                assert await store.begin_update(update_id, 38)
                if writes:
                    await store.users.arrive(38, "王芳", "zh", "Asia/Shanghai")
                assert await store.end_update(update_id, 38, [{"text": "本周"}], "worker-a") is not None
                await store.commit()
            async with sessions() as session:
                store = Store(session)
                await store.outbox.add(38, None, {"text": "never sent"})
                await store.rollback()
            async with sessions() as session:
                assert [i.payload["text"] for i in await Store(session).outbox.unsent(chat_id=38)] == (
                    ["本周"] if update_id == 340 else ["本周", "本周"])
    finally:
        await engine.dispose()
