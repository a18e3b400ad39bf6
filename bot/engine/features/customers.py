"""/customers — the rep's own customers: stage, relationship level, value × attitude cell and what
to do about it (customers.value_attitude_matrix), next visit; one customer's records; value,
attitude and relationship set by buttons.

Buttons (`cu:` + …, validated here against the rep's own customers, anything else → ⚠️):
  cu:p:<page>                 list page
  cu:o:<id>                   one customer
  cu:v:<id>:<large|medium|small> · cu:a:<id>:<good|neutral|poor> · cu:r:<id>:<C|B|A>   set a field
"""

from __future__ import annotations

from datetime import datetime
from typing import TYPE_CHECKING, Any

from bot.engine.events import Button, OutboundMessage
from bot.engine.features.accounts import (
    ATTITUDES,
    RECORD_KINDS,
    RELATIONSHIPS,
    VALUE_TIERS,
    Saved,
    attitude_label,
    cell_action,
    day_label,
    grid_cell,
    latest_saved,
    local_day,
    relationship_label,
    short_day,
    stage_label,
    text_list,
    value_label,
    zone,
)
from bot.engine.i18n import Messages
from bot.text.normalize import squash
from db.store import CustomerInfo, DialogState
from db.store_reminders import Reminders

if TYPE_CHECKING:
    from bot.engine.core import Engine, Turn

PREFIX = "cu"
PAGE_SIZE = 8
MAX_CUSTOMERS = 500
NAME_WIDTH = 32
SETTERS = {"v": ("value_tier", VALUE_TIERS), "a": ("attitude", ATTITUDES), "r": ("relationship", RELATIONSHIPS)}


def _short(text: str, width: int = NAME_WIDTH) -> str:
    text = " ".join(text.split())
    return text if len(text) <= width else text[: width - 1] + "…"


def ordered(customers: list[CustomerInfo], now: datetime) -> list[CustomerInfo]:
    """Upcoming visits first (soonest first), then the rest, most recently touched first."""
    upcoming = sorted((c for c in customers if c.next_visit_at and c.next_visit_at >= now),
                      key=lambda c: c.next_visit_at or now)
    rest = sorted((c for c in customers if not (c.next_visit_at and c.next_visit_at >= now)),
                  key=lambda c: c.updated_at, reverse=True)
    return upcoming + rest


class CustomerViews:
    """Renders the list and one customer; reads only the asking rep's rows."""

    def __init__(self, t: Messages) -> None:
        self.t = t

    def next_visit(self, turn: Turn, customer: CustomerInfo) -> str:
        if customer.next_visit_at is None:
            return self.t(turn.lang, "cust_no_next_visit")
        day = local_day(customer.next_visit_at, turn.user.timezone)
        label = day_label(day, turn.lang)
        return label if day >= turn.today else self.t(turn.lang, "cust_visit_past", day=label)

    def summary_line(self, turn: Turn, n: int, customer: CustomerInfo) -> str:
        lang, t = turn.lang, self.t
        cell = grid_cell(customer.value_tier, customer.attitude)
        return t(lang, "cust_line", n=n, name=_short(customer.name), stage=stage_label(t, lang, customer.stage),
                 relationship=relationship_label(customer.relationship),
                 value=value_label(t, lang, customer.value_tier), attitude=attitude_label(t, lang, customer.attitude),
                 cell=cell or "", action=cell_action(t, lang, cell), next_visit=self.next_visit(turn, customer))

    def listing(self, turn: Turn, customers: list[CustomerInfo], page: int, query: str = "") -> OutboundMessage:
        lang, t = turn.lang, self.t
        pages = max(1, -(-len(customers) // PAGE_SIZE))
        page = min(max(page, 0), pages - 1)
        shown = customers[page * PAGE_SIZE:(page + 1) * PAGE_SIZE]
        cells = [grid_cell(c.value_tier, c.attitude) for c in customers]
        header = t(lang, "cust_header", total=len(customers), page=page + 1, pages=pages, query=query,
                   focus=sum(1 for c in cells if c in (4, 5)), unset=sum(1 for c in cells if c is None))
        lines = [self.summary_line(turn, page * PAGE_SIZE + i + 1, c) for i, c in enumerate(shown)]
        rows = [[Button(f"{page * PAGE_SIZE + i + 1}. {_short(c.name, 28)}", f"{PREFIX}:o:{c.id}")]
                for i, c in enumerate(shown)]
        nav: list[Button] = []
        if page > 0:
            nav.append(Button(t(lang, "cust_prev"), f"{PREFIX}:p:{page - 1}"))
        if page < pages - 1:
            nav.append(Button(t(lang, "cust_next"), f"{PREFIX}:p:{page + 1}"))
        if nav:
            rows.append(nav)
        return OutboundMessage("\n\n".join([header, *lines, t(lang, "cust_list_hint")]), buttons=rows)

    async def detail(self, turn: Turn, customer: CustomerInfo) -> OutboundMessage:
        lang, t = turn.lang, self.t
        cell = grid_cell(customer.value_tier, customer.attitude)
        parts = [t(lang, "cust_detail", name=customer.name, contact=customer.contact,
                   stage=stage_label(t, lang, customer.stage), relationship=relationship_label(customer.relationship),
                   value=value_label(t, lang, customer.value_tier), attitude=attitude_label(t, lang, customer.attitude),
                   cell=cell or "", action=cell_action(t, lang, cell), next_visit=self.next_visit(turn, customer))]
        pending = await Reminders(turn.store.session, turn.store.clock).pending_for(turn.user.id, customer.id)
        if pending:
            tz = zone(turn.user.timezone)
            parts.append(t(lang, "cust_reminders", times=", ".join(
                day_label(r.due_at.astimezone(tz).date(), lang) + " " + r.due_at.astimezone(tz).strftime("%H:%M")
                for r in pending[:4])))
        records = []
        for kind in RECORD_KINDS:
            saved = await latest_saved(turn.store, turn.user.id, customer.id, kind)
            if saved is not None:
                records.append(self.record_line(turn, saved))
        parts.append("\n".join(records) if records else t(lang, "cust_no_records"))
        return OutboundMessage("\n\n".join(parts), buttons=self.setter_rows(turn, customer))

    def record_line(self, turn: Turn, saved: Saved) -> str:
        a, lang = saved.answers, turn.lang
        day = short_day(local_day(saved.created_at, turn.user.timezone), lang)
        sep = "、" if lang == "zh" else "; "
        values: dict[str, Any] = {"day": day, "objective": _short(str(a.get("objective") or ""), 60),
                                  "visit_date": a.get("visit_date") or "",
                                  "needs": sep.join(_short(n, 40) for n in text_list(a.get("needs"))[:5]),
                                  "outcome": a.get("outcome") or "", "stage": a.get("stage") or "",
                                  "next_date": a.get("next_date") or "", "inside": a.get("inside"),
                                  "next_time": _short(str(a.get("next_time") or ""), 40),
                                  "signals": len(a.get("signals") or []),
                                  "questions": len(text_list(a.get("questions")))}
        if a.get("stage"):
            values["stage"] = stage_label(self.t, lang, str(a.get("stage")))
        return self.t(lang, f"cust_record_{saved.kind}", **values)

    def setter_rows(self, turn: Turn, customer: CustomerInfo) -> list[list[Button]]:
        lang, t = turn.lang, self.t

        def mark(current: str, value: str, label: str) -> str:
            return ("✅ " if current == value else "") + label

        rows = [
            [Button(mark(customer.value_tier, v, t(lang, "cust_value_button", value=value_label(t, lang, v))),
                    f"{PREFIX}:v:{customer.id}:{v}") for v in VALUE_TIERS],
            [Button(mark(customer.attitude, a, t(lang, "cust_attitude_button", attitude=attitude_label(t, lang, a))),
                    f"{PREFIX}:a:{customer.id}:{a}") for a in ATTITUDES],
            [Button(mark(relationship_label(customer.relationship), r, t(lang, "cust_relationship_button", level=r)),
                    f"{PREFIX}:r:{customer.id}:{r}") for r in RELATIONSHIPS],
            [Button(t(lang, "cust_back"), f"{PREFIX}:p:0")],
        ]
        return rows


def install(engine: Engine) -> None:
    t = engine.t
    views = CustomerViews(t)

    def busy_note(turn: Turn, dialog: DialogState | None) -> list[OutboundMessage]:
        if dialog is None or dialog.flow not in engine.content.flows:
            return []
        return [OutboundMessage(t(turn.lang, "cust_flow_waiting",
                                  title=engine.content.flows[dialog.flow].title.get(turn.lang)))]

    async def mine(turn: Turn, query: str = "") -> list[CustomerInfo]:
        customers = await turn.store.customers.list_for(turn.user.id, limit=MAX_CUSTOMERS)
        if query:
            wanted = squash(query)
            customers = [c for c in customers if wanted in squash(c.name) or wanted in squash(c.contact)]
        return ordered(customers, turn.now)

    async def command(turn: Turn, dialog: DialogState | None) -> list[OutboundMessage]:
        query = turn.event.args.strip()
        if len(query) > 100:
            return [OutboundMessage(t(turn.lang, "cust_query_too_long")), *busy_note(turn, dialog)]
        customers = await mine(turn, query)
        if not customers:
            key = "cust_none_match" if query else "cust_none"
            return [OutboundMessage(t(turn.lang, key, query=query)), *busy_note(turn, dialog)]
        if len(customers) == 1 and query:
            return [await views.detail(turn, customers[0]), *busy_note(turn, dialog)]
        return [views.listing(turn, customers, 0, query), *busy_note(turn, dialog)]

    async def button(turn: Turn, dialog: DialogState | None, rest: str) -> list[OutboundMessage] | None:
        parts = rest.split(":")
        action = parts[0]
        if action == "p" and len(parts) == 2 and parts[1].isdigit() and len(parts[1]) <= 4:
            customers = await mine(turn)
            if not customers:
                return [OutboundMessage(t(turn.lang, "cust_none", query=""))]
            message = views.listing(turn, customers, int(parts[1]))
            message.edit = True
            return [message]
        if len(parts) < 2 or not parts[1].isdigit() or len(parts[1]) > 12:
            return None
        customer = await turn.store.customers.get(turn.user.id, int(parts[1]))
        if customer is None:
            return None  # not this rep's customer (or gone): the engine answers ⚠️
        if action == "o" and len(parts) == 2:
            message = await views.detail(turn, customer)
            message.edit = True
            return [message]
        if action in SETTERS and len(parts) == 3:
            column, allowed = SETTERS[action]
            if parts[2] not in allowed:
                return None
            await turn.store.customers.update(turn.user.id, customer.id, **{column: parts[2]})
            updated = await turn.store.customers.get(turn.user.id, customer.id)
            assert updated is not None
            message = await views.detail(turn, updated)
            message.edit = True
            return [message]
        return None

    engine.add_command("customers", command)
    engine.add_button(PREFIX, button)
