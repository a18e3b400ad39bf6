"""Reminders: due when the clock passes them, claimed exactly once across processes, late ones still
sent (with a note), hopelessly late ones dropped, weekly-plan reminders for active reps."""

from __future__ import annotations

import asyncio
import io
import logging
from datetime import UTC, date, datetime, timedelta

import pytest
from sqlalchemy import select, update

from bot.config import Settings
from bot.console.console import Console
from bot.engine.content import Content
from bot.engine.events import OutboundMessage
from bot.engine.features.reminders import due_messages, next_weekly_due, schedule_visit, schedule_weekly_plans
from bot.runtime import Runtime
from db.models import Membership, Team, User
from db.models_flows import Reminder
from db.store import Store
from db.store_reminders import Reminders
from tests.helpers import Clock, Rep


async def deliver(runtime: Runtime, chat_id: int | None = None) -> list[tuple[int, OutboundMessage]]:
    """One pass of what a bot process does: claim what is due and commit."""
    async with runtime.sessions() as session:
        store = Store(session, runtime.engine.clock)
        out = await due_messages(store, store.clock(), runtime.content.messages, chat_id=chat_id)
        await store.commit()
    return out


async def book_next_visit(rep: Rep, day: str = "下周二") -> None:
    await rep.say("/debrief1")
    await rep.say("华为技术")
    await rep.press("达到了")
    await rep.press("完成")
    await rep.press("否")
    await rep.say("1")
    await rep.press("普通信息")
    await rep.press("是")
    await rep.say(day)
    await rep.say("带供货方案来汇报")
    await rep.say("/skip")
    await rep.press("保存")
    assert rep.replies[0].text.startswith("✅")


async def test_visit_reminders_fire_when_the_clock_passes_them(rep: Rep, runtime: Runtime, clock: Clock) -> None:
    await book_next_visit(rep)  # Tuesday 2026-12-01; now is Monday 2026-11-23 10:00 in Shanghai
    assert await deliver(runtime) == []
    clock.now = datetime(2026, 11, 30, 7, 59, tzinfo=UTC)  # 15:59 Shanghai, the day before
    assert await deliver(runtime) == []
    clock.advance(minutes=1)
    [(chat, eve)] = await deliver(runtime)
    assert chat == rep.user_id
    assert "明天" in eve.text and "华为技术" in eve.text and "带供货方案来汇报" in eve.text and "电话" in eve.text
    assert "晚到" not in eve.text
    assert await deliver(runtime) == []  # sent once
    clock.now = datetime(2026, 12, 1, 0, 30, tzinfo=UTC)  # 08:30 Shanghai on the day
    [(_, morning)] = await deliver(runtime)
    assert "今天" in morning.text and "华为技术" in morning.text and "/visit2" in morning.text
    assert await deliver(runtime) == []


async def test_reminder_is_in_the_reps_language(en_rep: Rep, runtime: Runtime, clock: Clock) -> None:
    await en_rep.say("/debrief1")
    await en_rep.say("Acme Labs")
    await en_rep.press("Yes: needs clear")
    await en_rep.press("Done")
    await en_rep.press("Yes")
    await en_rep.say("3")
    await en_rep.press("General lead")
    await en_rep.press("Yes")
    await en_rep.say("tomorrow")
    await en_rep.say("/skip")
    await en_rep.say("/skip")
    await en_rep.press("Save")
    assert "Reminders set" in en_rep.last
    clock.now = datetime(2026, 11, 23, 8, 0, tzinfo=UTC)  # 16:00 Shanghai, the day before
    [(_, message)] = await deliver(runtime)
    assert message.text.startswith("📅 Tomorrow") and "Acme Labs" in message.text and "Call today" in message.text
    clock.now = datetime(2026, 11, 24, 0, 30, tzinfo=UTC)
    [(_, message)] = await deliver(runtime)
    assert message.text.startswith("⏰ Today") and "Acme Labs" in message.text


async def test_two_processes_claim_each_reminder_exactly_once(
    rep: Rep, runtime: Runtime, settings: Settings, content: Content, clock: Clock
) -> None:
    await book_next_visit(rep)
    other = Runtime(settings, content=content, clock=clock)  # a second bot process on the same database
    try:
        clock.now = datetime(2026, 12, 1, 1, 0, tzinfo=UTC)  # both reminders are due
        results = await asyncio.gather(*(deliver(rt) for rt in (runtime, other, runtime, other)))
    finally:
        await other.close()
    sent = [message.text for batch in results for _, message in batch]
    assert len(sent) == 2 and len(set(sent)) == 2
    async with runtime.sessions() as session:
        rows = (await session.scalars(select(Reminder))).all()
    assert {r.status for r in rows} == {"sent"} and all(r.sent_at is not None for r in rows)


async def test_a_rolled_back_claim_stays_pending(rep: Rep, runtime: Runtime, clock: Clock) -> None:
    await book_next_visit(rep)
    clock.now = datetime(2026, 12, 1, 1, 0, tzinfo=UTC)
    async with runtime.sessions() as session:
        store = Store(session, clock)
        assert len(await due_messages(store, clock(), runtime.content.messages)) == 2
        await store.rollback()  # e.g. the process crashed before committing the outbox
    assert len(await deliver(runtime)) == 2


async def test_late_reminders_are_sent_late_and_very_late_ones_dropped(
    rep: Rep, runtime: Runtime, clock: Clock, caplog: pytest.LogCaptureFixture
) -> None:
    await book_next_visit(rep)
    clock.now = datetime(2026, 12, 2, 3, 0, tzinfo=UTC)  # the bot was down for two days
    late = await deliver(runtime)
    assert [("晚到" in m.text, "2026-11-30 16:00" in m.text, "2026-12-01 08:30" in m.text) for _, m in late] == [
        (True, True, False), (True, False, True)]
    await book_next_visit(rep, "2026-12-10")
    clock.now = datetime(2026, 12, 20, 0, 0, tzinfo=UTC)  # more than a week after both
    with caplog.at_level(logging.WARNING, logger="bot.engine.features.reminders"):
        assert await deliver(runtime) == []
    assert "dropped reminder" in caplog.text
    async with runtime.sessions() as session:
        statuses = sorted(r.status for r in (await session.scalars(select(Reminder))).all())
    assert statuses == ["dropped", "dropped", "sent", "sent"]


async def test_moving_the_next_visit_cancels_the_old_reminders(rep: Rep, runtime: Runtime, clock: Clock) -> None:
    await book_next_visit(rep, "下周二")
    await book_next_visit(rep, "下周四")
    async with runtime.sessions() as session:
        rows = (await session.scalars(select(Reminder).order_by(Reminder.id))).all()
    assert [(r.payload["date"], r.status) for r in rows] == [
        ("2026-12-01", "cancelled"), ("2026-12-01", "cancelled"), ("2026-12-03", "pending"), ("2026-12-03", "pending")]
    await book_next_visit(rep, "下周二")  # moved back: the same reminders come back, not duplicates
    async with runtime.sessions() as session:
        rows = (await session.scalars(select(Reminder).where(Reminder.status == "pending"))).all()
    assert sorted(r.payload["date"] for r in rows) == ["2026-12-01", "2026-12-01"]


async def test_prep_visit_date_gets_a_reminder_too(rep: Rep, runtime: Runtime, clock: Clock) -> None:
    await rep.say("/prep")
    await rep.say("中兴通讯")
    await rep.say("李工")
    await rep.press("普通信息")
    await rep.say("了解测试需求")
    for _ in range(3):
        await rep.say("/skip")
    await rep.say("李工")
    await rep.say("/skip")
    await rep.say("频谱仪")
    await rep.press("完成")
    await rep.say("明天")
    await rep.press("保存")
    clock.now = datetime(2026, 11, 24, 0, 30, tzinfo=UTC)
    eve, morning = [message.text for _, message in await deliver(runtime)]
    assert "明天" in eve and "晚到" in eve  # the afternoon-before note, sent late rather than never
    assert "今天" in morning and "中兴通讯" in morning and "/visit1" in morning  # no first visit yet: prepare it


async def test_weekly_plan_reminder_for_active_reps_on_friday(
    rep: Rep, en_rep: Rep, runtime: Runtime, clock: Clock
) -> None:
    await rep.say("/start")
    clock.advance(days=1)
    await en_rep.say("/start")
    async with runtime.sessions() as session:  # en_rep's team works on Berlin time
        team = Team(name="EU", timezone="Europe/Berlin", created_at=clock())
        session.add(team)
        await session.flush()
        en_id = await session.scalar(select(User.id).where(User.telegram_id == en_rep.user_id))
        session.add(Membership(team_id=team.id, user_id=en_id, role="rep", created_at=clock()))
        await session.commit()

    async def schedule() -> int:
        async with runtime.sessions() as session:
            store = Store(session, clock)
            added = await schedule_weekly_plans(store, clock())
            await store.commit()
        return added

    assert await schedule() == 2
    assert await schedule() == 0  # idempotent
    clock.now = datetime(2026, 11, 27, 7, 29, tzinfo=UTC)  # Friday 15:29 Shanghai
    assert await deliver(runtime) == []
    clock.advance(minutes=1)
    [(chat, message)] = await deliver(runtime)
    assert chat == rep.user_id and "17:30" in message.text and "/plan" in message.text
    clock.now = datetime(2026, 11, 27, 14, 30, tzinfo=UTC)  # Friday 15:30 Berlin
    [(chat, message)] = await deliver(runtime)
    assert chat == en_rep.user_id and "due today by 17:30" in message.text


async def test_reps_silent_for_a_month_get_no_weekly_reminder(rep: Rep, runtime: Runtime, clock: Clock) -> None:
    await rep.say("/start")
    clock.advance(days=31)
    async with runtime.sessions() as session:
        store = Store(session, clock)
        assert await schedule_weekly_plans(store, clock()) == 0


def test_next_weekly_due_rolls_over_after_the_reminder_time() -> None:
    friday, due = next_weekly_due(datetime(2026, 11, 27, 7, 30, tzinfo=UTC), "Asia/Shanghai")
    assert friday.isoformat() == "2026-12-04" and due == datetime(2026, 12, 4, 7, 30, tzinfo=UTC)
    friday, due = next_weekly_due(datetime(2026, 11, 27, 7, 29, tzinfo=UTC), "Asia/Shanghai")
    assert friday.isoformat() == "2026-11-27"
    friday, _ = next_weekly_due(datetime(2026, 11, 28, 0, 0, tzinfo=UTC), "Not/AZone")  # bad zone: default
    assert friday.isoformat() == "2026-12-04"


async def test_claim_is_a_conditional_update(runtime: Runtime, rep: Rep, clock: Clock) -> None:
    await book_next_visit(rep)
    async with runtime.sessions() as session:
        repo = Reminders(session, clock)
        first = (await repo.due(clock() + timedelta(days=30)))[0]
        assert await repo.claim(first.id, clock())
        assert not await repo.claim(first.id, clock())  # already claimed in this transaction
        assert not await repo.drop(first.id, clock())
        await session.execute(update(Reminder).where(Reminder.id == first.id).values(sent_at=None))
        await session.rollback()


async def test_console_shows_due_reminders_with_the_next_reply(runtime: Runtime, clock: Clock) -> None:
    out = io.StringIO()
    console = Console(runtime, "demo", "zh", out)
    await console.send("/start")
    async with runtime.sessions() as session:
        store = Store(session, clock)
        user = await store.users.get_by_telegram(console.user_id)
        assert user is not None
        customer = await store.customers.ensure(user.id, "华为技术")
        await schedule_visit(store, user, console.user_id, customer, date(2026, 11, 25), clock())
        await store.commit()
    await console.send("/help")
    assert "华为技术" not in out.getvalue()
    clock.now = datetime(2026, 11, 24, 8, 0, tzinfo=UTC)
    await console.send("/help")
    assert "明天" in out.getvalue() and "华为技术" in out.getvalue()
