"""The weekly self-check: eight questions, answered with numbers and yes/no, become activity events."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from sqlalchemy import select

from bot.engine.content import Content
from bot.engine.features.weekcheck import METRIC_KEYS, metric_steps
from bot.engine.flowdefs import FlowError
from bot.runtime import Runtime
from db.models import ActivityEvent
from db.store import Store
from tests.helpers import Clock, Rep

# Monday 2026-11-23 is the clock's day: this ISO week runs 11-23 … 11-29 (Asia/Shanghai)
THIS_WEEK = (datetime(2026, 11, 22, 16, 0, tzinfo=UTC), datetime(2026, 11, 29, 16, 0, tzinfo=UTC))
LAST_WEEK = (datetime(2026, 11, 15, 16, 0, tzinfo=UTC), datetime(2026, 11, 22, 16, 0, tzinfo=UTC))


async def events(runtime: Runtime) -> dict[str, int]:
    async with runtime.sessions() as session:
        rows = (await session.execute(select(ActivityEvent.kind, ActivityEvent.amount))).all()
    totals: dict[str, int] = {}
    for kind, amount in rows:
        totals[kind] = totals.get(kind, 0) + amount
    return totals


async def answer_zh(rep: Rep, week: str = "本周") -> None:
    await rep.say("/weekcheck")
    assert "自查哪一周" in rep.last
    await rep.press(week)
    for number in ("3", "2", "1", "12"):  # first visits, follow-ups, service visits, calls
        await rep.say(number)
    await rep.press("是")  # service promise explained
    await rep.say("8")  # cards
    await rep.say("4")  # next-meeting commitments
    await rep.press("是")  # re-approached after a refusal
    await rep.say("2")
    await rep.press("否")  # did not ask for the order
    await rep.press("是")  # asked for a referral
    await rep.say("1")
    assert "请核对" in rep.last


async def test_answers_are_recorded_under_the_metric_keys(rep: Rep, runtime: Runtime) -> None:
    await answer_zh(rep)
    await rep.press("保存")
    card = rep.replies[0].text
    assert card.startswith("✅")
    assert "拜访客户 5 个" in card
    assert "明确请客户购买:否" in card and "下周改进" in card and "好吗?" in card  # one action per "no"
    assert "首次拜访 +3" in rep.last and "问候电话 +12" in rep.last
    assert await events(runtime) == {
        "visits_first": 3, "visits_second": 2, "service_visits": 1, "calls": 12, "cards": 8,
        "next_meetings": 4, "reapproaches": 2, "referrals_asked": 1,
    }
    async with runtime.sessions() as session:
        times = (await session.scalars(select(ActivityEvent.occurred_at))).all()
        sources = set((await session.scalars(select(ActivityEvent.source))).all())
    assert all(THIS_WEEK[0] <= t < THIS_WEEK[1] for t in times)
    assert sources == {"weekcheck"}


async def test_what_was_already_logged_is_not_counted_twice(rep: Rep, runtime: Runtime, clock: Clock) -> None:
    await rep.say("/start")  # the rep exists
    async with runtime.sessions() as session:
        store = Store(session, clock)
        user = await store.users.get_by_telegram(rep.user_id)
        assert user is not None
        await store.activity.add(user.id, "calls", 5, occurred_at=clock())
        await store.activity.add(user.id, "visits_first", 4, occurred_at=clock())  # more than the rep will say
        await store.commit()
    await answer_zh(rep)
    await rep.press("保存")
    assert "问候电话 +7" in rep.last and "之前已记 5" in rep.last
    assert "已经记了 4" in rep.last
    totals = await events(runtime)
    assert totals["calls"] == 12 and totals["visits_first"] == 4
    await answer_zh(rep)  # running the check twice adds nothing
    await rep.press("保存")
    assert "没有新增" in rep.last
    assert await events(runtime) == totals


async def test_last_week_is_recorded_in_last_week(rep: Rep, runtime: Runtime) -> None:
    await answer_zh(rep, week="上周")
    await rep.press("保存")
    assert "2026-W47" in rep.last
    async with runtime.sessions() as session:
        times = (await session.scalars(select(ActivityEvent.occurred_at))).all()
    assert times and all(LAST_WEEK[0] <= t < LAST_WEEK[1] for t in times)


async def test_counts_must_be_whole_and_sensible(rep: Rep) -> None:
    await rep.say("/weekcheck")
    await rep.press("本周")
    for bad in ("2.5", "-1", "十几个", "100000"):
        await rep.say(bad)
        assert rep.replies[0].text.startswith("⚠️"), bad
        assert "第一次拜访" in rep.last  # the same question again
    await rep.say("0")
    assert "第二次" in rep.last


async def test_week_offers_the_check_with_a_button(rep: Rep) -> None:
    await rep.press_data("x:weekcheck")
    assert "自查哪一周" in rep.last


async def test_english_rep_completes_the_check(en_rep: Rep, runtime: Runtime) -> None:
    await en_rep.say("/weekcheck")
    await en_rep.press("This week")
    for number in ("1", "0", "0", "6"):
        await en_rep.say(number)
    await en_rep.press("No")
    await en_rep.say("2")
    await en_rep.say("1")
    await en_rep.press("No")
    await en_rep.press("Yes")
    await en_rep.say("3")
    await en_rep.press("No")
    await en_rep.press("Save")
    card = en_rep.replies[0].text
    assert card.startswith("✅") and "Customers visited: 1" in card
    assert "Next week" in card and "service promise" in card
    assert "courtesy calls +6" in en_rep.last
    assert await events(runtime) == {"visits_first": 1, "calls": 6, "cards": 2, "next_meetings": 1,
                                     "purchase_asks": 3}


def test_a_number_step_must_name_a_metric(content: Content) -> None:
    flow = content.flows["weekcheck"]
    assert set(metric_steps(flow)) <= METRIC_KEYS
    wrong = flow.model_copy(update={"steps": [*flow.steps[:1], flow.steps[1].model_copy(update={"id": "visits"})]})
    with pytest.raises(FlowError, match=r"weekcheck\.yaml: steps\.visits"):
        metric_steps(wrong)
