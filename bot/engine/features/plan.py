"""/plan — next week's visit plan: the `plan_visits` checker, saving the visits as customer records,
and showing or clearing the week's plan.

The checker does more than comment: it keeps only lines that parse (customer, a day of next week,
purpose), rewritten in canonical form, and drops the rest with a ⚠️ saying why, so that the saved
plan never holds a visit it cannot place on a day.
"""

from __future__ import annotations

from collections import Counter
from datetime import UTC, date, datetime, time, timedelta
from typing import TYPE_CHECKING, Any
from zoneinfo import ZoneInfo

from bot.engine.events import Button, Lang, OutboundMessage
from bot.engine.features.plan_parse import LineError, Visit, next_week, parse_canonical, parse_line
from bot.engine.flowdefs import Flow, Step
from bot.engine.i18n import Messages
from db.store import DialogState
from db.store_coaching import CoachingRecords, CustomerRecordInfo

if TYPE_CHECKING:
    from bot.engine.core import Engine, Turn

FLOW = "plan"
KIND = "plan"
PREFIX = "pl"  # pl:add · pl:clear:<week> · pl:clearok:<week>
WEEK_SLOT = "_plan_monday"  # the Monday of the week being planned, fixed when the first line is checked
MAX_PER_DAY = 6
DUE = "prep.weekly_plan"


def iso_week(monday: date) -> str:
    iso = monday.isocalendar()
    return f"{iso.year}-W{iso.week:02d}"


def check_lines(t: Messages, lang: str, new: list[str], draft: list[str], monday: date) -> list[str]:
    """Validate the lines just added to `draft` (its tail) in place; the notes to show."""
    today = monday - timedelta(days=7)
    kept = draft[: len(draft) - len(new)]
    seen = {(v.customer, v.day) for v in (parse_canonical(x) for x in kept) if v is not None}
    errors: list[str] = []
    for line in new:
        result = parse_line(line, today)
        if isinstance(result, LineError):
            errors.append(t(lang, result.code, line=result.line[:80]))
            continue
        if (result.customer, result.day) in seen:
            errors.append(t(lang, "plan_duplicate", line=line[:80]))
            continue
        seen.add((result.customer, result.day))
        kept.append(result.canonical(lang))
    draft[:] = kept
    notes: list[str] = []
    if errors:
        sunday = monday + timedelta(days=6)
        notes.append("\n".join([t(lang, "plan_lines_refused", n=len(errors)), *errors,
                                t(lang, "plan_example", start=monday.isoformat(), end=sunday.isoformat())]))
    per_day = Counter(v.day for v in (parse_canonical(x) for x in kept) if v is not None)
    busy = [d for d, n in per_day.items() if n > MAX_PER_DAY]
    if busy:
        notes.append(t(lang, "plan_busy_day", day=min(busy).isoformat(), n=per_day[min(busy)], limit=MAX_PER_DAY))
    return notes


def install(engine: Engine) -> None:
    t = engine.t

    def local_today() -> date:
        return engine.clock().astimezone(ZoneInfo(engine.config.timezone)).date()

    def check(lang: Lang, step: Step, value: Any, slots: dict[str, Any]) -> list[str]:
        new = [str(v) for v in value] if isinstance(value, list) else []
        draft = slots.get(f"_{step.id}_draft")
        if not new or not isinstance(draft, list):
            return []
        if WEEK_SLOT not in slots:
            slots[WEEK_SLOT] = next_week(local_today())[0].isoformat()
        return check_lines(t, lang, new, draft, date.fromisoformat(str(slots[WEEK_SLOT])))

    def card(lang: Lang, visits: list[Visit], title: str | None = None) -> str:
        return engine.content.talk.render("plan_card", lang, visits=[v.canonical(lang) for v in visits],
                                          title=title)

    async def saved(turn: Turn, monday: date) -> list[CustomerRecordInfo]:
        return await CoachingRecords(turn.store.session, turn.store.clock).for_week(turn.user.id, KIND, iso_week(monday))

    def visits_of(records: list[CustomerRecordInfo]) -> list[Visit]:
        out = []
        for r in records:
            try:
                out.append(Visit(r.customer, date.fromisoformat(str(r.data.get("date"))), str(r.data.get("purpose", ""))))
            except ValueError:
                continue
        return out

    def week_range(monday: date) -> dict[str, str]:
        return {"start": monday.isoformat(), "end": (monday + timedelta(days=6)).isoformat(), "week": iso_week(monday)}

    async def command(turn: Turn, dialog: DialogState | None) -> list[OutboundMessage]:
        if dialog is not None:
            return await engine.open_flow(turn, dialog, FLOW)
        lang = turn.lang
        arg = turn.event.args.strip().lower()
        if arg in ("本周", "这周", "this", "this week", "current"):
            monday = turn.today - timedelta(days=turn.today.weekday())
            records = await saved(turn, monday)
            if not records:
                return [OutboundMessage(t(lang, "plan_this_week_empty", **week_range(monday)))]
            return [OutboundMessage(card(lang, visits_of(records), t(lang, "plan_this_week_title", **week_range(monday))))]
        if arg:
            return [OutboundMessage(t(lang, "plan_usage"))]
        monday = next_week(turn.today)[0]
        records = await saved(turn, monday)
        if records:
            week = iso_week(monday)
            return [OutboundMessage(
                t(lang, "plan_saved_header", **week_range(monday)) + "\n\n" + card(lang, visits_of(records)),
                buttons=[[Button(t(lang, "plan_add_button"), f"{PREFIX}:add")],
                         [Button(t(lang, "plan_clear_button"), f"{PREFIX}:clear:{week}")]],
            )]
        return [OutboundMessage(t(lang, "plan_intro_week", **week_range(monday)))] + await engine.open_flow(
            turn, dialog, FLOW)

    async def button(turn: Turn, dialog: DialogState | None, rest: str) -> list[OutboundMessage] | None:
        lang = turn.lang
        monday = next_week(turn.today)[0]
        week = iso_week(monday)
        if rest == "add":
            return await engine.open_flow(turn, dialog, FLOW)
        if rest == f"clear:{week}":
            return [OutboundMessage(t(lang, "plan_clear_confirm", **week_range(monday)),
                                    buttons=[[Button(t(lang, "plan_clear_yes"), f"{PREFIX}:clearok:{week}")]])]
        if rest == f"clearok:{week}":
            records = await saved(turn, monday)
            await CoachingRecords(turn.store.session, turn.store.clock).delete(turn.user.id, [r.id for r in records])
            return [OutboundMessage(t(lang, "plan_cleared", n=len(records), **week_range(monday)))] + (
                await engine.open_flow(turn, dialog, FLOW))
        return None  # forged, or a stale week

    async def completed(turn: Turn, flow: Flow, dialog: DialogState, customer_id: int | None) -> list[OutboundMessage]:
        stored = dialog.slots.get(WEEK_SLOT)
        monday = date.fromisoformat(str(stored)) if stored else next_week(turn.today)[0]
        week = iso_week(monday)
        visits = [v for v in (parse_canonical(str(x)) for x in dialog.slots.get("visits") or []) if v is not None]
        existing = await saved(turn, monday)
        known = {(r.customer, str(r.data.get("date")), str(r.data.get("purpose"))) for r in existing}
        zone = ZoneInfo(turn.user.timezone)
        added = 0
        first_visit: dict[int, tuple[datetime | None, date]] = {}
        for visit in sorted(visits, key=lambda v: v.day):
            if (visit.customer, visit.day.isoformat(), visit.purpose) in known:
                continue
            customer = await turn.store.customers.ensure(turn.user.id, visit.customer)
            await turn.store.records.add(customer.id, turn.user.id, KIND,
                                         {"week": week, "date": visit.day.isoformat(), "purpose": visit.purpose})
            added += 1
            first_visit.setdefault(customer.id, (customer.next_visit_at, visit.day))
        for customer_id, (current, day) in first_visit.items():
            if current is None or current < turn.now:  # a planned visit is the customer's next one
                at = datetime.combine(day, time(9, 0), tzinfo=zone).astimezone(UTC)
                await turn.store.customers.update(turn.user.id, customer_id, next_visit_at=at)
        total = len(existing) + added
        rows = [[Button("📖 " + entry.title_in(turn.lang)[:56], f"k:{DUE}")]] if (
            entry := engine.content.kb.get(DUE)) is not None else []
        return [OutboundMessage(t(turn.lang, "plan_saved_note", total=total, earlier=len(existing),
                                  **week_range(monday)), buttons=rows)]

    async def context(turn: Turn, dialog: DialogState) -> dict[str, Any]:
        """The dates of the week being planned, for the prompt."""
        stored = dialog.slots.get(WEEK_SLOT)
        monday = date.fromisoformat(str(stored)) if stored else next_week(turn.today)[0]
        return {"week_start": monday.isoformat(), "week_end": (monday + timedelta(days=6)).isoformat()}

    engine.add_context(FLOW, context)
    engine.add_checker("plan_visits", check)
    engine.add_command("plan", command)
    engine.add_button(PREFIX, button)
    engine.on_complete(FLOW, completed)
