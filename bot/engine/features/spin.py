"""/spin — the SPIN coach: the flow (knowledge/flows/spin.yaml), its `spin_question` checker, the
quality summary after saving, and the recall of saved plans (a rep preparing a second meeting wants
last time's questions back, not a blank page)."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any
from zoneinfo import ZoneInfo

from bot.engine.events import Button, Lang, OutboundMessage
from bot.engine.features.cues import load_cues
from bot.engine.features.spin_check import check_new_drafts, quality_summary, review_plan
from bot.engine.flowdefs import Flow, Step
from bot.text.normalize import squash
from db.store import DialogState
from db.store_coaching import CoachingRecords, CustomerRecordInfo

if TYPE_CHECKING:
    from bot.engine.core import Engine, Turn

FLOW = "spin"
KIND = "spin"  # customer record kind
PREFIX = "sp"  # buttons: sp:new · sp:v<record id>
MAX_LISTED = 8


def install(engine: Engine) -> None:
    cues = load_cues()
    t = engine.t

    def check(lang: Lang, step: Step, value: Any, slots: dict[str, Any]) -> list[str]:
        new = value if isinstance(value, list) else [value] if value else []
        return check_new_drafts(t, cues, lang, step.id, [str(v) for v in new], slots)

    def date_of(turn: Turn, record: CustomerRecordInfo) -> str:
        return record.created_at.astimezone(ZoneInfo(turn.user.timezone)).strftime("%Y-%m-%d")

    def show(turn: Turn, record: CustomerRecordInfo) -> list[OutboundMessage]:
        answers = dict(record.data.get("answers") or {})
        answers["customer"] = {"id": record.customer_id, "name": record.customer}
        card = engine.content.talk.render("spin_card", turn.lang, **answers)
        header = t(turn.lang, "spin_saved_header", date=date_of(turn, record))
        summary = quality_summary(t, turn.lang, review_plan(answers, cues))
        return [OutboundMessage(f"{header}\n\n{card}"),
                OutboundMessage(summary, buttons=[[Button(t(turn.lang, "spin_new_button"), f"{PREFIX}:new")]])]

    async def command(turn: Turn, dialog: DialogState | None) -> list[OutboundMessage]:
        if dialog is not None:
            return await engine.open_flow(turn, dialog, FLOW)
        records = CoachingRecords(turn.store.session, turn.store.clock)
        wanted = turn.event.args.strip()
        if wanted:
            customers = await turn.store.customers.list_for(turn.user.id, limit=200)
            found = next((c for c in customers if squash(c.name) == squash(wanted)), None)
            if found is None:
                found = next((c for c in customers if squash(wanted) and squash(wanted) in squash(c.name)), None)
            record = await records.latest_for_customer(turn.user.id, found.id, KIND) if found else None
            if record is None:
                name = found.name if found else wanted[:60]
                return [OutboundMessage(t(turn.lang, "spin_no_plan_for", customer=name))] + (
                    await engine.open_flow(turn, dialog, FLOW))
            return [OutboundMessage(t(turn.lang, "spin_saved_for", customer=record.customer, date=date_of(turn, record))), *show(turn, record)]
        saved = await records.latest_per_customer(turn.user.id, KIND, limit=MAX_LISTED)
        if not saved:
            return await engine.open_flow(turn, dialog, FLOW)
        rows = [[Button(t(turn.lang, "spin_view_button", customer=r.customer[:30], date=date_of(turn, r)),
                        f"{PREFIX}:v{r.id}")] for r in saved]
        rows.append([Button(t(turn.lang, "spin_new_button"), f"{PREFIX}:new")])
        return [OutboundMessage(t(turn.lang, "spin_saved_list"), buttons=rows)]

    async def button(turn: Turn, dialog: DialogState | None, rest: str) -> list[OutboundMessage] | None:
        if rest == "new":
            return await engine.open_flow(turn, dialog, FLOW)
        if rest.startswith("v") and rest[1:].isdigit() and len(rest) <= 12:
            record = await CoachingRecords(turn.store.session, turn.store.clock).get(turn.user.id, int(rest[1:]), KIND)
            return show(turn, record) if record is not None else None
        return None

    async def completed(turn: Turn, flow: Flow, dialog: DialogState, customer_id: int | None) -> list[OutboundMessage]:
        answers = {k: v for k, v in dialog.slots.items() if not k.startswith("_")}
        return [OutboundMessage(quality_summary(t, turn.lang, review_plan(answers, cues)))]

    engine.add_checker("spin_question", check)
    engine.add_command("spin", command)
    engine.add_button(PREFIX, button)
    engine.on_complete(FLOW, completed)
