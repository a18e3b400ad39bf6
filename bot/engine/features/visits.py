"""First and second visits (/visit1, /visit2) and their debriefs (/debrief1, /debrief2).

The flows are data (knowledge/flows/visit*.yaml). What needs code lives here:
- template values for the scripted lines: the customer's contact and objective from a saved /prep
  plan, the needs confirmed at the first visit, the agreed appointment (context providers);
- coaching checks on what the rep drafts: `closed_question` (closed questions get an open rewrite),
  `visit1_role`, `visit1_greeting` (greeting, self-introduction, thanks), `fab_line`;
- what a debrief does besides the data-declared activity: business cards, stage moves
  (effective_leads / quasi_customers / deals), the customer's stage, and next-visit reminders.
"""

from __future__ import annotations

import re
from collections.abc import Awaitable, Callable
from datetime import date
from typing import TYPE_CHECKING, Any

from bot.engine.classifier import classify, rewrite_closed
from bot.engine.events import Button, Lang, OutboundMessage
from bot.engine.features.accounts import (
    BLANK,
    RELATIONSHIPS,
    STAGE_EVENTS,
    STAGES,
    chosen_customer,
    day_label,
    latest_saved,
    local_day,
    stage_label,
    stage_of,
    stage_rank,
    text_list,
)
from bot.engine.features.reminders import schedule_visit
from bot.engine.flowdefs import Flow, Step
from bot.engine.i18n import Messages
from db.store import CustomerInfo, DialogState

if TYPE_CHECKING:
    from bot.engine.core import CompletionFn, ContextFn, Engine, Turn

CLOSED_CHECK = "closed_question"
DEBRIEF_PREFIX = "vd"  # buttons vd:1 / vd:2 open the first / second visit debrief
DEBRIEFS = {"1": "visit1_debrief", "2": "visit2_debrief"}
NEXT_FLOW = {"visit1_debrief": "visit2", "visit2_debrief": "prep"}


# ----- coaching checks (pure: language, step, value → notes) -------------------------------------

def _quote(text: str, limit: int = 80) -> str:
    text = " ".join(text.split())
    return text if len(text) <= limit else text[: limit - 1] + "…"


def closed_question_notes(t: Messages, lang: str, new: list[str], drafted: list[str]) -> list[str]:
    """One note on the questions just added: closed ones with an open rewrite, statements, order."""
    lines: list[str] = []
    fine = 0
    for item in new:
        result = classify(item)
        if not result.question:
            lines.append(t(lang, "visits_note_not_question", text=_quote(item)))
        elif result.closed:
            rewrite = rewrite_closed(item)
            if rewrite is not None:
                lines.append(t(lang, "visits_note_closed", question=_quote(item), rewrite=rewrite))
            else:
                fine += 1  # a check that is meant to be yes/no (您看可以吗?)
        else:
            fine += 1
    if new and len(drafted) == len(new):  # the first questions of the list: broad ones come first
        first = classify(new[0])
        if first.question and first.spin in ("I", "N"):
            lines.append(t(lang, "visits_note_broad_first"))
    if not lines and fine:
        lines.append(t(lang, "visits_note_open_ok", n=fine))
    return ["\n".join(lines)] if lines else []


def greeting_notes(t: Messages, lang: str, text: str) -> list[str]:
    """The first three sentences: greeting, self-introduction (name, company, card), thanks."""
    result = classify(text)
    missing = [t(lang, f"visits_part_{part}") for part, present in
               (("greeting", result.greeting), ("self_intro", result.self_intro), ("thanks", result.thanks))
               if not present]
    notes: list[str] = []
    if missing:
        notes.append(t(lang, "visits_note_lines_missing", missing=("、" if lang == "zh" else ", ").join(missing)))
    if result.price_talk or result.feature_dump:
        notes.append(t(lang, "visits_note_lines_pitch"))
    if not notes:
        notes.append(t(lang, "visits_note_lines_ok"))
    return ["\n".join(notes)]


def fab_line_notes(t: Messages, lang: str, new: list[str]) -> list[str]:
    """Need-by-need answers should be FAB statements whose benefit speaks of the customer."""
    lines: list[str] = []
    for item in new:
        result = classify(item)
        if not result.fab:
            lines.append(t(lang, "visits_note_fab_missing", text=_quote(item)))
        elif not result.customer_focus:
            lines.append(t(lang, "visits_note_fab_customer", text=_quote(item)))
    if not lines and new:
        lines.append(t(lang, "visits_note_fab_ok"))
    return ["\n".join(lines)] if lines else []


# ----- template values for prompts, scripted lines and cards -------------------------------------

async def _known(turn: Turn, dialog: DialogState) -> tuple[CustomerInfo | None, dict[str, Any]]:
    """The chosen customer and the answers of its latest saved plans and debriefs."""
    customer = await chosen_customer(turn.store, turn.user.id, dialog.slots)
    saved: dict[str, Any] = {}
    if customer is not None:
        for kind in ("prep", "visit1_plan", "visit1_debrief"):
            record = await latest_saved(turn.store, turn.user.id, customer.id, kind)
            saved[kind] = record.answers if record else {}
    return customer, saved


def salutation(contact: str) -> str:
    """王经理,采购部 → 王经理; Ms Wang (purchasing) → Ms Wang: the scripted lines greet a person."""
    head = re.split(r"[,,、;;((/]|\s[-–—]\s", contact.strip(), maxsplit=1)[0].strip()
    return head or contact.strip()


def _first(*values: Any) -> Any:
    return next((v for v in values if v not in (None, "", [])), None)


def _base(
    t: Messages, turn: Turn, dialog: DialogState, customer: CustomerInfo | None, saved: dict[str, Any]
) -> dict[str, Any]:
    chosen = dialog.slots.get("customer")
    known = _first((saved.get("prep") or {}).get("contact"), customer.contact if customer else None)
    meet = _first(dialog.slots.get("meet"), known)
    return {
        "rep": turn.user.name or None,
        "customer_name": chosen.get("name") if isinstance(chosen, dict) else None,
        "contact": salutation(str(meet)) if meet else None,  # how the scripted lines address them
        "known_contact": known,
        "current_stage_label": None if customer is None else stage_label(t, turn.lang, customer.stage),
    }


async def visit1_context(t: Messages, turn: Turn, dialog: DialogState) -> dict[str, Any]:
    customer, saved = await _known(turn, dialog)
    ctx = _base(t, turn, dialog, customer, saved)
    purpose = (saved.get("prep") or {}).get("objective")
    ctx.update(purpose=purpose, known_purpose=purpose, needs=[BLANK[turn.lang]] * 3)
    questions = text_list(dialog.slots.get("questions"))
    ctx["questions_checked"] = [{"q": q, "rewrite": rewrite_closed(q)} for q in questions]
    return ctx


async def visit2_context(t: Messages, turn: Turn, dialog: DialogState) -> dict[str, Any]:
    customer, saved = await _known(turn, dialog)
    ctx = _base(t, turn, dialog, customer, saved)
    plan, debrief, prep = saved.get("visit1_plan") or {}, saved.get("visit1_debrief") or {}, saved.get("prep") or {}
    known_needs = text_list(debrief.get("needs")) or text_list(plan.get("needs"))
    known_time = None
    if customer is not None and customer.next_visit_at is not None:
        day = local_day(customer.next_visit_at, turn.user.timezone)
        if day >= turn.today:
            known_time = day_label(day, turn.lang)
    known_time = _first(known_time, plan.get("next_time"))
    known_purpose = _first(debrief.get("next_purpose"), plan.get("next_purpose"), prep.get("objective"))
    blank = BLANK[turn.lang]
    ctx.update(
        known_needs=known_needs, needs=known_needs or [blank] * 3, product=plan.get("product"),
        known_appt_time=known_time, known_appt_purpose=known_purpose,
        appt_time=known_time or blank, appt_purpose=known_purpose or blank,
        # the phone confirmation speaks of this visit's appointment (next_time/next_purpose in its script)
        next_time=_first(dialog.slots.get("appt_time"), known_time),
        next_purpose=_first(dialog.slots.get("appt_purpose"), known_purpose),
    )
    return ctx


async def debrief_context(t: Messages, turn: Turn, dialog: DialogState) -> dict[str, Any]:
    customer, saved = await _known(turn, dialog)
    return _base(t, turn, dialog, customer, saved)


# ----- installation ------------------------------------------------------------------------------

def install(engine: Engine) -> None:
    t = engine.t

    def closed_question(lang: Lang, step: Step, value: Any, slots: dict[str, Any]) -> list[str]:
        drafted = text_list(slots.get(f"_{step.id}_draft")) or text_list(slots.get(step.id))
        return closed_question_notes(t, lang, text_list(value), drafted)

    def role(lang: Lang, step: Step, value: Any, slots: dict[str, Any]) -> list[str]:
        return [t(lang, "visits_note_role_pitch")] if value == "pitch" else []

    def greeting(lang: Lang, step: Step, value: Any, slots: dict[str, Any]) -> list[str]:
        text = str(value or "").strip()
        return greeting_notes(t, lang, text) if text else []

    def fab_line(lang: Lang, step: Step, value: Any, slots: dict[str, Any]) -> list[str]:
        return fab_line_notes(t, lang, text_list(value))

    async def open_debrief(turn: Turn, dialog: DialogState | None, rest: str) -> list[OutboundMessage] | None:
        flow_id = DEBRIEFS.get(rest)
        if flow_id is None or flow_id not in engine.content.flows:
            return None
        return await engine.open_flow(turn, dialog, flow_id)

    def provider(fn: Callable[[Messages, Turn, DialogState], Awaitable[dict[str, Any]]]) -> ContextFn:
        async def values(turn: Turn, dialog: DialogState) -> dict[str, Any]:
            return await fn(t, turn, dialog)
        return values

    def after_plan(number: str) -> CompletionFn:
        async def hook(turn: Turn, flow: Flow, dialog: DialogState, customer_id: int | None) -> list[OutboundMessage]:
            return [OutboundMessage(t(turn.lang, f"visits_after_visit{number}"),
                                    buttons=[[Button(t(turn.lang, "visits_debrief_button"), f"{DEBRIEF_PREFIX}:{number}")]])]
        return hook

    async def debrief_done(turn: Turn, flow: Flow, dialog: DialogState, customer_id: int | None) -> list[OutboundMessage]:
        if customer_id is None:
            return []
        return await _record_debrief(engine, turn, flow, dialog, customer_id)

    async def prep_done(turn: Turn, flow: Flow, dialog: DialogState, customer_id: int | None) -> list[OutboundMessage]:
        """A visit date in /prep gets the same reminders as one fixed in a debrief (silently)."""
        raw = dialog.slots.get("visit_date")
        if customer_id is None or not raw:
            return []
        customer = await turn.store.customers.get(turn.user.id, customer_id)
        if customer is None:
            return []
        met = await latest_saved(turn.store, turn.user.id, customer_id, "visit1_debrief")
        await schedule_visit(turn.store, turn.user, turn.event.chat_id, customer, date.fromisoformat(str(raw)),
                             turn.now, purpose=str(dialog.slots.get("objective") or ""),
                             next_flow="visit2" if met else "visit1")
        return []

    engine.add_checker(CLOSED_CHECK, closed_question)
    engine.add_checker("visit1_role", role)
    engine.add_checker("visit1_greeting", greeting)
    engine.add_checker("fab_line", fab_line)
    engine.add_button(DEBRIEF_PREFIX, open_debrief)
    engine.add_context("visit1", provider(visit1_context))
    engine.add_context("visit2", provider(visit2_context))
    engine.add_context("visit1_debrief", provider(debrief_context))
    engine.add_context("visit2_debrief", provider(debrief_context))
    engine.on_complete("visit1", after_plan("1"))
    engine.on_complete("visit2", after_plan("2"))
    engine.on_complete("visit1_debrief", debrief_done)
    engine.on_complete("visit2_debrief", debrief_done)
    engine.on_complete("prep", prep_done)


async def _record_debrief(
    engine: Engine, turn: Turn, flow: Flow, dialog: DialogState, customer_id: int
) -> list[OutboundMessage]:
    """Cards, stage and reminders of a saved debrief, and one message saying what was recorded."""
    t, store, lang, slots = engine.t, turn.store, turn.lang, dialog.slots
    customer = await store.customers.get(turn.user.id, customer_id)
    if customer is None:
        return []
    recorded: list[tuple[str, int]] = [(a.metric, a.amount) for a in flow.complete.activity
                                       if a.when is None or a.when.holds(slots)]
    cards = slots.get("cards")
    if isinstance(cards, int | float) and not isinstance(cards, bool) and cards >= 1:
        await store.activity.add(turn.user.id, "cards", int(cards), customer_id=customer_id, source="flow",
                                 occurred_at=turn.now)
        recorded.append(("cards", int(cards)))
    lines: list[str] = []
    new_stage = slots.get("stage")
    if new_stage in STAGES and new_stage != stage_of(customer.stage):
        if stage_rank(new_stage) > stage_rank(customer.stage):
            metric = STAGE_EVENTS[str(new_stage)]
            await store.activity.add(turn.user.id, metric, 1, customer_id=customer_id, source="flow",
                                     occurred_at=turn.now)
            recorded.append((metric, 1))
            lines.append(t(lang, "visits_stage_moved", customer=customer.name, old=stage_label(t, lang, customer.stage),
                           new=stage_label(t, lang, str(new_stage))))
        await store.customers.update(turn.user.id, customer_id, stage=str(new_stage))
    level = str(slots.get("relationship") or "").upper()
    if level in RELATIONSHIPS:
        await store.customers.update(turn.user.id, customer_id, relationship=level)
    metrics = engine.content.metrics
    names = []
    for key, amount in recorded:
        known = metrics.get(key)
        names.append(f"{known.label(lang) if known else key} {amount}")
    lines.insert(0, t(lang, "visits_recorded", items=("、" if lang == "zh" else ", ").join(names)))
    raw_day = slots.get("next_date") if slots.get("next_meeting") else None
    if raw_day:
        day = date.fromisoformat(str(raw_day))
        ahead = await schedule_visit(store, turn.user, turn.event.chat_id, customer, day, turn.now,
                                     purpose=str(slots.get("next_purpose") or ""),
                                     next_flow=NEXT_FLOW.get(flow.id, "prep"))
        if ahead:
            zone_name = turn.user.timezone
            times = [day_label(local_day(w, zone_name), lang) + " " + w.strftime("%H:%M") for w in ahead]
            lines.append(t(lang, "visits_reminders_set", times=("、" if lang == "zh" else ", ").join(times)))
        else:
            lines.append(t(lang, "visits_reminder_past", day=day_label(day, lang)))
    lines.append(t(lang, f"visits_next_{flow.id}", stage=str(new_stage or "")))
    return [OutboundMessage("\n".join(lines))]
