"""The weekly self-check (knowledge/flows/weekcheck.yaml): its answers become activity events.

The rep answers with the week's totals. Visits, calls and commitments may already have been recorded
during the week (/log, the visit debriefs), so only the difference to what is recorded is added —
running the check twice, or after logging, never counts anything twice.
"""

from __future__ import annotations

from datetime import datetime, time, timedelta
from typing import TYPE_CHECKING
from zoneinfo import ZoneInfo

from bot.engine.events import OutboundMessage
from bot.engine.flowdefs import Flow, FlowError
from db.store import DialogState

if TYPE_CHECKING:
    from bot.engine.core import Engine, Turn

FLOW = "weekcheck"
SOURCE = "weekcheck"
METRIC_KEYS = frozenset({
    "visits_first", "visits_second", "service_visits", "calls", "cards", "next_meetings", "reapproaches",
    "purchase_asks", "referrals_asked", "leads", "effective_leads", "quasi_customers", "inside_contacts", "deals",
    "roleplays",
})
"""The metric keys of the brief (DESIGN.md, "Activity and metrics")."""


def metric_steps(flow: Flow) -> list[str]:
    """The number steps of the flow: each id must be a metric key, or the flow file is wrong."""
    steps = [s.id for s in flow.steps if s.kind == "number"]
    for step_id in steps:
        if step_id not in METRIC_KEYS:
            raise FlowError(f"knowledge/flows/{flow.id}.yaml: steps.{step_id}: a number step's id must be a "
                            f"metric key ({', '.join(sorted(METRIC_KEYS))})")
        step = flow.step(step_id)
        if step is None or not step.integer:
            raise FlowError(f"knowledge/flows/{flow.id}.yaml: steps.{step_id}.integer: counts must be integers")
    return steps


def week_bounds(moment: datetime, tz: str) -> tuple[datetime, datetime]:
    """The ISO week (Monday 00:00 to the next Monday, local time) that contains `moment`, in UTC."""
    zone = ZoneInfo(tz)
    local = moment.astimezone(zone).date()
    monday = local - timedelta(days=local.weekday())
    start = datetime.combine(monday, time(0, 0), tzinfo=zone)
    return start, start + timedelta(days=7)


def install(engine: Engine) -> None:
    t = engine.t
    flow = engine.content.flows.get(FLOW)
    steps = metric_steps(flow) if flow is not None else []

    async def completed(turn: Turn, flow: Flow, dialog: DialogState, customer_id: int | None) -> list[OutboundMessage]:
        when = turn.now - timedelta(days=7) if dialog.slots.get("week") == "last" else turn.now
        start, end = week_bounds(when, turn.user.timezone)
        recorded = await turn.store.activity.totals(turn.user.id, start, end)
        added: list[str] = []
        kept: list[str] = []
        for key in steps:
            value = dialog.slots.get(key)
            if not isinstance(value, int | float) or value <= 0:
                continue
            before = recorded.get(key, 0)
            label = t(turn.lang, f"weekcheck_metric_{key}")
            delta = int(value) - before
            if delta > 0:
                await turn.store.activity.add(turn.user.id, key, delta, source=SOURCE, occurred_at=when)
                added.append(t(turn.lang, "weekcheck_added_item", metric=label, n=delta, before=before))
            elif before > value:
                kept.append(t(turn.lang, "weekcheck_kept_item", metric=label, before=before, said=int(value)))
        iso = when.astimezone(ZoneInfo(turn.user.timezone)).isocalendar()
        week = f"{iso.year}-W{iso.week:02d}"
        lines = [t(turn.lang, "weekcheck_added" if added else "weekcheck_nothing_added", week=week)]
        lines += added + kept
        lines.append(t(turn.lang, "weekcheck_next"))
        return [OutboundMessage("\n".join(lines))]

    engine.on_complete(FLOW, completed)
