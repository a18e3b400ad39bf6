"""Reminders: scheduled in the database, claimed once, rendered in the rep's language.

Three kinds: the afternoon before a visit (`visit_eve`, 16:00 local: call to confirm), the morning of
it (`visit_day`, 08:30 local), and the weekly visit plan (`weekly_plan`, Friday 15:30 in the team's
time zone, two hours before the 17:30 deadline of prep.weekly_plan) for every rep seen in the last
30 days. A transport calls `due_messages` periodically inside one transaction and queues what it
returns; the conditional claim makes each reminder go out once however many processes run, and one
missed while the bot was down goes out late (marked as late), unless it is more than a week late.
"""

from __future__ import annotations

import logging
from datetime import date, datetime, time, timedelta
from typing import Any

from sqlalchemy import select

from bot.engine.events import OutboundMessage
from bot.engine.features.accounts import day_label, zone
from bot.engine.i18n import Messages, as_lang
from db.models import User
from db.store import CustomerInfo, Store, UserInfo
from db.store_reminders import Reminders

log = logging.getLogger(__name__)

VISIT_EVE_AT = time(16, 0)
VISIT_DAY_AT = time(8, 30)
WEEKLY_PLAN_DAY = 4  # Friday (Monday = 0, as datetime.weekday counts)
WEEKLY_PLAN_DEADLINE = time(17, 30)
WEEKLY_PLAN_LEAD = timedelta(hours=2)
ACTIVE_WINDOW = timedelta(days=30)
LATE_LIMIT = timedelta(days=7)
LATE_NOTE_AFTER = timedelta(minutes=10)
VISIT_KINDS = ("visit_eve", "visit_day")


def reminders(store: Store) -> Reminders:
    return Reminders(store.session, store.clock)


async def schedule_visit(
    store: Store, user: UserInfo, chat_id: int, customer: CustomerInfo, visit_day: date, now: datetime, *,
    purpose: str | None = None, next_flow: str = "visit2",
) -> list[datetime]:
    """Remind the rep of a visit (the afternoon before and that morning); earlier dates are cancelled.

    Returns the reminder times still ahead (none when the visit is already past)."""
    repo = reminders(store)
    tz = zone(user.timezone)
    times = {
        "visit_eve": datetime.combine(visit_day - timedelta(days=1), VISIT_EVE_AT, tzinfo=tz),
        "visit_day": datetime.combine(visit_day, VISIT_DAY_AT, tzinfo=tz),
    }
    keys = {kind: f"{kind}:{customer.id}:{visit_day.isoformat()}" for kind in times}
    await repo.cancel_customer_visits(user.id, customer.id, keep=frozenset(keys.values()))
    payload: dict[str, Any] = {"customer": customer.name, "contact": customer.contact, "date": visit_day.isoformat(),
                               "purpose": (purpose or "").strip()[:200], "flow": next_flow}
    ahead: list[datetime] = []
    for kind, when in times.items():
        if when <= now:
            continue
        if await repo.schedule(user_id=user.id, chat_id=chat_id, kind=kind, due_at=when, key=keys[kind],
                               payload=payload, customer_id=customer.id):
            ahead.append(when)
    return ahead


def next_weekly_due(now: datetime, timezone: str) -> tuple[date, datetime]:
    """The Friday whose plan reminder is still ahead of `now`, and when that reminder is due."""
    tz = zone(timezone)
    local = now.astimezone(tz)
    friday = local.date() + timedelta(days=(WEEKLY_PLAN_DAY - local.weekday()) % 7)
    due = datetime.combine(friday, WEEKLY_PLAN_DEADLINE, tzinfo=tz) - WEEKLY_PLAN_LEAD
    if due <= now:
        friday += timedelta(days=7)
        due = datetime.combine(friday, WEEKLY_PLAN_DEADLINE, tzinfo=tz) - WEEKLY_PLAN_LEAD
    return friday, due


async def schedule_weekly_plans(store: Store, now: datetime) -> int:
    """Make sure every rep seen in the last 30 days has their next weekly-plan reminder; returns how
    many were added. Idempotent: the key is per rep and Friday, so processes may race harmlessly."""
    repo = reminders(store)
    users = await repo.active_users(now - ACTIVE_WINDOW)
    existing = await repo.keys_since("weekly_plan", now)
    added = 0
    for user in users:
        if user.telegram_id <= 0:  # console users have no Telegram chat to remind
            continue
        friday, due = next_weekly_due(now, user.timezone)
        key = f"weekly_plan:{user.id}:{friday.isoformat()}"
        if key in existing:
            continue
        if await repo.schedule(user_id=user.id, chat_id=user.telegram_id, kind="weekly_plan", due_at=due, key=key,
                               payload={"deadline": friday.isoformat()}):
            added += 1
    return added


async def due_messages(
    store: Store, now: datetime, messages: Messages, *, chat_id: int | None = None, limit: int = 100,
) -> list[tuple[int, OutboundMessage]]:
    """Claim the reminders due at `now` and render them: (chat_id, message) pairs to queue.

    Call inside the transaction that queues the messages: a claim that is rolled back is retried
    later, one that commits is never sent again. More than a week late: dropped, with a log line."""
    repo = reminders(store)
    due = await repo.due(now, limit=limit, chat_id=chat_id)
    if not due:
        return []
    people = await _recipients(store, {r.user_id for r in due})
    out: list[tuple[int, OutboundMessage]] = []
    for item in due:
        language, timezone = people.get(item.user_id, ("zh", "Asia/Shanghai"))
        if now - item.due_at > LATE_LIMIT or item.kind not in (*VISIT_KINDS, "weekly_plan"):
            if await repo.drop(item.id, now):
                log.warning("dropped reminder %s (%s) for user %s: due %s, now %s", item.id, item.kind,
                            item.user_id, item.due_at.isoformat(), now.isoformat())
            continue
        if not await repo.claim(item.id, now):
            continue  # another process took it
        text = render(messages, as_lang(language), item.kind, item.payload, item.due_at, timezone, now)
        out.append((item.chat_id, OutboundMessage(text)))
    return out


def render(messages: Messages, lang: str, kind: str, payload: dict[str, Any], due_at: datetime, timezone: str,
           now: datetime) -> str:
    """The reminder text; a late one says when it was meant for."""
    tz = zone(timezone)
    if kind == "weekly_plan":
        body = messages(lang, "rem_weekly_plan", deadline=WEEKLY_PLAN_DEADLINE.strftime("%H:%M"))
    else:
        try:
            day = date.fromisoformat(str(payload.get("date")))
        except ValueError:
            day = due_at.astimezone(tz).date()
        flow = str(payload.get("flow") or "visit2")
        body = messages(lang, f"rem_{kind}", customer=str(payload.get("customer") or ""),
                        contact=str(payload.get("contact") or ""), purpose=str(payload.get("purpose") or ""),
                        day=day_label(day, lang), command="/" + (flow if flow in ("prep", "visit1", "visit2")
                                                                  else "visit2"))
    if now - due_at > LATE_NOTE_AFTER:
        body = messages(lang, "rem_late", when=due_at.astimezone(tz).strftime("%Y-%m-%d %H:%M")) + "\n" + body
    return body


async def _recipients(store: Store, user_ids: set[int]) -> dict[int, tuple[str, str]]:
    rows = await store.session.execute(select(User.id, User.language, User.timezone).where(User.id.in_(user_ids)))
    return {int(uid): (str(language), str(tz)) for uid, language, tz in rows}
