"""The generic flow runner: walks a data-declared flow, one typed answer at a time.

State lives in a DialogState that the caller loads from and saves to the store within the same
transaction as the reply, so a restart resumes exactly where the rep stopped.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import date
from typing import Any

from bot.engine.events import Button, InboundEvent, OutboundMessage
from bot.engine.flowdefs import Flow, Step
from bot.engine.i18n import Messages
from bot.engine.inputs import parse_date, parse_indices, parse_number, parse_yesno
from bot.text.normalize import squash
from db.store import CustomerInfo, DialogState

_LIST_MARK = re.compile(r"^\s*(?:[-•·*]+|\(?\d{1,2}[.、)](?!\d))\s*")
"""A bullet or list number a rep types before an item ("1. ", "2、", "- "), not digits of the item itself."""
MAX_CUSTOMER_BUTTONS = 8
MAX_LIST_ITEMS = 20


@dataclass
class FlowOutcome:
    """What the runner decided: messages to send, and whether the flow finished or stopped."""

    messages: list[OutboundMessage] = field(default_factory=list)
    completed: bool = False
    cancelled: bool = False
    new_customer: str | None = None  # a customer name typed at a customer step, to be created
    accepted: str | None = None  # the step whose answer was just taken (for coaching checks)
    accepted_value: Any = None  # for list steps: just the newly added items


class FlowRunner:
    def __init__(self, flows: dict[str, Flow], messages: Messages) -> None:
        self.flows = flows
        self.t = messages

    # ----- navigation -------------------------------------------------------------------------
    def applicable(self, flow: Flow, slots: dict[str, Any]) -> list[Step]:
        return [s for s in flow.steps if s.when is None or s.when.holds(slots)]

    def next_step(self, flow: Flow, slots: dict[str, Any], after: str | None) -> Step | None:
        """The next step to ask after `after` (or the first), skipping those whose condition fails."""
        started = after is None
        for step in flow.steps:
            if started and (step.when is None or step.when.holds(slots)):
                return step
            if step.id == after:
                started = True
        return None

    def first_unanswered(self, flow: Flow, slots: dict[str, Any]) -> Step | None:
        return next((s for s in self.applicable(flow, slots) if s.id not in slots), None)

    def start(self, flow: Flow, user_id: int, chat_id: int) -> DialogState:
        first = self.next_step(flow, {}, None)
        assert first is not None  # a flow has at least one step
        return DialogState(id=None, user_id=user_id, chat_id=chat_id, flow=flow.id, step=first.id,
                           meta={"stack": []})

    # ----- rendering --------------------------------------------------------------------------
    def context(self, flow: Flow, state: DialogState, lang: str) -> dict[str, Any]:
        """Slots plus display helpers (`<id>_label`, `<id>_labels`, `<id>_missing`) for templates."""
        ctx: dict[str, Any] = {}
        applicable = {s.id for s in self.applicable(flow, state.slots)}
        for step in flow.steps:
            value = state.slots.get(step.id) if step.id in applicable else None
            ctx[step.id] = value
            if step.kind == "choice" and value is not None:
                ctx[f"{step.id}_label"] = self.option_label(step, str(value), lang)
            if step.kind == "multi":
                ticked = value or []
                ctx[f"{step.id}_labels"] = [o.label.get(lang) for o in step.options if o.value in ticked]
                ctx[f"{step.id}_missing"] = [o.label.get(lang) for o in step.options if o.value not in ticked]
            if step.kind == "yesno" and value is not None:
                ctx[f"{step.id}_label"] = self.t(lang, "answer_yes" if value else "answer_no")
        return ctx

    @staticmethod
    def option_label(step: Step, value: str, lang: str) -> str:
        return next((o.label.get(lang) for o in step.options if o.value == value), value)

    def display(self, step: Step, value: Any, lang: str) -> str:
        if value is None:
            return self.t(lang, "flow_skipped_value")
        if step.kind == "customer":
            return str(value.get("name", "")) if isinstance(value, dict) else str(value)
        if step.kind == "choice":
            return self.option_label(step, str(value), lang)
        if step.kind == "list":
            return "; ".join(str(v) for v in value) or self.t(lang, "flow_none_ticked")
        if step.kind == "multi":
            labels = [o.label.get(lang) for o in step.options if o.value in (value or [])]
            return ("、" if lang == "zh" else ", ").join(labels) or self.t(lang, "flow_none_ticked")
        if step.kind == "yesno":
            return self.t(lang, "answer_yes" if value else "answer_no")
        if step.kind == "number":
            return f"{value:g}" if isinstance(value, float) else str(value)
        return str(value)

    def prompt(
        self, flow: Flow, state: DialogState, lang: str, customers: list[CustomerInfo] | None = None,
        say: str | None = None, extra: dict[str, Any] | None = None,
    ) -> OutboundMessage:
        """The current question with its buttons; the same text for /repeat and after a restart.

        `extra` (from the engine's context providers) fills template names the answers leave empty."""
        if state.phase == "review":
            return self.review(flow, state, lang)
        step = flow.step(state.step)
        assert step is not None
        ctx = self.context(flow, state, lang)
        for key, value in (extra or {}).items():
            if ctx.get(key) in (None, "", []):
                ctx[key] = value
        steps = self.applicable(flow, state.slots)
        position = next((i for i, s in enumerate(steps) if s.id == step.id), 0) + 1
        parts = [self.t(lang, "flow_header", title=flow.title.get(lang), n=position, total=len(steps))]
        if say:
            parts.append(say)
        parts.append(self.t.render_string(step.prompt.get(lang), **ctx))
        if step.kind == "list":
            draft = state.slots.get(f"_{step.id}_draft") or []
            if draft:
                parts.append(self.t(lang, "list_so_far", items="\n".join(f"{i}. {x}" for i, x in enumerate(draft, 1))))
        current = state.slots.get(step.id)
        if step.id in state.slots and step.kind in ("text", "number", "date", "customer") and current is not None:
            parts.append(self.t(lang, "flow_current_answer", value=self.display(step, current, lang)))
        hints = ["/back"] if state.meta.get("stack") else []
        if step.optional:
            hints.append("/skip")
        hints += ["/repeat", "/cancel"]
        parts.append(self.t(lang, "flow_hints", commands=" · ".join(hints)))
        return OutboundMessage(text="\n\n".join(p for p in parts if p), buttons=self.buttons(step, state, lang, customers))

    def buttons(
        self, step: Step, state: DialogState, lang: str, customers: list[CustomerInfo] | None
    ) -> list[list[Button]]:
        prefix = f"f:{state.id}:{step.id}:"
        if step.kind == "choice":
            return [[Button(o.label.get(lang), f"{prefix}o{i}")] for i, o in enumerate(step.options)]
        if step.kind == "yesno":
            return [[Button(self.t(lang, "answer_yes"), f"{prefix}y"), Button(self.t(lang, "answer_no"), f"{prefix}n")]]
        if step.kind == "multi":
            ticked = state.slots.get(f"_{step.id}_draft", [])
            rows = [
                [Button(("☑️ " if o.value in ticked else "⬜ ") + o.label.get(lang), f"{prefix}o{i}")]
                for i, o in enumerate(step.options)
            ]
            rows.append([Button(self.t(lang, "flow_done_button"), f"{prefix}done")])
            return rows
        if step.kind == "list":
            return [[Button(self.t(lang, "flow_done_button"), f"{prefix}done")]]
        if step.kind == "customer" and customers:
            return [[Button(c.name[:40], f"{prefix}c{c.id}")] for c in customers[:MAX_CUSTOMER_BUTTONS]]
        return []

    def review(self, flow: Flow, state: DialogState, lang: str) -> OutboundMessage:
        lines = [self.t(lang, "review_header", title=flow.title.get(lang))]
        steps = self.applicable(flow, state.slots)
        for i, step in enumerate(steps, 1):
            lines.append(f"{i}. {step.label.get(lang)}: {self.display(step, state.slots.get(step.id), lang)}")
        lines.append(self.t(lang, "review_hint"))
        rows = [[Button(self.t(lang, "review_save_button"), f"f:{state.id}:review:save")]]
        edit_row: list[Button] = []
        for i, _step in enumerate(steps, 1):
            edit_row.append(Button(f"✏️ {i}", f"f:{state.id}:review:e{i}"))
            if len(edit_row) == 5:
                rows.append(edit_row)
                edit_row = []
        if edit_row:
            rows.append(edit_row)
        return OutboundMessage(text="\n".join(lines), buttons=rows)

    # ----- input ------------------------------------------------------------------------------
    def accept(
        self, flow: Flow, state: DialogState, event: InboundEvent, lang: str, today: date,
        customers: list[CustomerInfo],
    ) -> FlowOutcome:
        """Take one answer (typed or button) for the current step or the review."""
        if state.phase == "review":
            return self._accept_review(flow, state, event, lang, customers)
        step = flow.step(state.step)
        assert step is not None
        token = self._button_token(state, step.id, event)
        if token is _STALE:
            return self._reprompt(flow, state, lang, customers, "stale_button")
        value, error = self._parse(step, state, event, token, lang, today, customers)
        if error == "__added__":
            added = FlowOutcome([self.prompt(flow, state, lang, customers)], accepted=step.id,
                                accepted_value=value)
            return added
        if error == "__toggled__":
            toggled = self.prompt(flow, state, lang, customers)
            toggled.edit = True
            return FlowOutcome([toggled])
        if error:
            return self._reprompt(flow, state, lang, customers, error, step=step)
        outcome = FlowOutcome()
        if step.kind == "customer" and isinstance(value, str):
            outcome.new_customer = value
            value = {"id": None, "name": value}
        state.slots.pop(f"_{step.id}_draft", None)
        state.slots[step.id] = value
        if step.kind != "list":
            outcome.accepted = step.id
        return self._advance(flow, state, lang, customers, outcome)

    def skip(self, flow: Flow, state: DialogState, lang: str, customers: list[CustomerInfo]) -> FlowOutcome:
        step = flow.step(state.step)
        if state.phase == "review" or step is None:
            return FlowOutcome([OutboundMessage(self.t(lang, "skip_not_here")), self.prompt(flow, state, lang)])
        if not step.optional:
            return self._reprompt(flow, state, lang, customers, "skip_not_allowed", step=step)
        state.slots[step.id] = None
        return self._advance(flow, state, lang, customers, FlowOutcome())

    def back(self, flow: Flow, state: DialogState, lang: str, customers: list[CustomerInfo]) -> FlowOutcome:
        stack: list[str] = state.meta.setdefault("stack", [])
        if state.phase == "edit":
            state.phase = "review"
            return FlowOutcome([self.review(flow, state, lang)])
        if not stack:
            return FlowOutcome([OutboundMessage(self.t(lang, "back_at_start")),
                                self.prompt(flow, state, lang, customers)])
        previous = stack.pop()
        state.step = previous
        state.phase = "ask"
        return FlowOutcome([self.prompt(flow, state, lang, customers)])

    def _advance(
        self, flow: Flow, state: DialogState, lang: str, customers: list[CustomerInfo], outcome: FlowOutcome
    ) -> FlowOutcome:
        stack: list[str] = state.meta.setdefault("stack", [])
        if state.phase == "edit" or state.meta.get("editing"):
            nxt = self.first_unanswered(flow, state.slots)
            if nxt is None:
                state.meta.pop("editing", None)
                state.phase = "review"
                outcome.messages.append(self.review(flow, state, lang))
                return outcome
            state.meta["editing"] = True
            state.phase = "ask"
            state.step = nxt.id
            outcome.messages.append(self.prompt(flow, state, lang, customers))
            return outcome
        if not stack or stack[-1] != state.step:
            stack.append(state.step)
        nxt = self.next_step(flow, state.slots, state.step)
        if nxt is not None:
            state.step = nxt.id
            outcome.messages.append(self.prompt(flow, state, lang, customers))
            return outcome
        if flow.review:
            state.phase = "review"
            outcome.messages.append(self.review(flow, state, lang))
            return outcome
        outcome.completed = True
        return outcome

    def _accept_review(
        self, flow: Flow, state: DialogState, event: InboundEvent, lang: str, customers: list[CustomerInfo]
    ) -> FlowOutcome:
        steps = self.applicable(flow, state.slots)
        token = self._button_token(state, "review", event)
        if token is _STALE:
            return FlowOutcome([OutboundMessage(self.t(lang, "stale_button")), self.review(flow, state, lang)])
        choice: int | None = None
        if isinstance(token, str):
            if token == "save":
                return FlowOutcome(completed=True)
            if token.startswith("e") and token[1:].isdigit():
                choice = int(token[1:])
        else:
            text = squash(event.text)
            if text in ("save", "保存", "确认", "ok", "好", "完成", "done", "是"):
                return FlowOutcome(completed=True)
            number = parse_number(text)
            if number is not None and number.is_integer():
                choice = int(number)
        if choice is None or not 1 <= choice <= len(steps):
            return FlowOutcome([OutboundMessage(self.t(lang, "review_invalid", n=len(steps))),
                                self.review(flow, state, lang)])
        step = steps[choice - 1]
        state.step = step.id
        state.phase = "edit"
        if step.kind == "multi":
            state.slots[f"_{step.id}_draft"] = list(state.slots.get(step.id) or [])
        if step.kind == "list":
            state.slots[f"_{step.id}_draft"] = []
        return FlowOutcome([self.prompt(flow, state, lang, customers)])

    def _reprompt(
        self, flow: Flow, state: DialogState, lang: str, customers: list[CustomerInfo], error: str,
        step: Step | None = None, **values: Any,
    ) -> FlowOutcome:
        extra: dict[str, Any] = dict(values)
        if step is not None:
            extra.setdefault("min", f"{step.min:g}" if step.min is not None else "")
            extra.setdefault("max", f"{step.max:g}" if step.max is not None else "")
            extra.setdefault("max_len", step.max_len)
            extra.setdefault("n", len(step.options))
        return FlowOutcome([OutboundMessage(self.t(lang, error, **extra)), self.prompt(flow, state, lang, customers)])

    @staticmethod
    def _button_token(state: DialogState, where: str, event: InboundEvent) -> object:
        """The payload of a button meant for this dialog and step; _STALE for any other button."""
        if event.kind != "button":
            return None
        parts = event.button.split(":", 3)
        if len(parts) != 4 or parts[0] != "f" or parts[1] != str(state.id) or parts[2] != where:
            return _STALE
        return parts[3]

    def _parse(
        self, step: Step, state: DialogState, event: InboundEvent, token: object, lang: str, today: date,
        customers: list[CustomerInfo],
    ) -> tuple[Any, str | None]:
        text = event.text.strip()
        if step.kind == "text":
            if token is not None:
                return None, "stale_button"
            if not text:
                return None, "empty_answer"
            if len(text) > step.max_len:
                return None, "answer_too_long"
            return text, None
        if step.kind == "number":
            value = parse_number(text) if token is None else None
            if value is None:
                return None, "invalid_number"
            if step.integer and not value.is_integer():
                return None, "invalid_integer"
            if (step.min is not None and value < step.min) or (step.max is not None and value > step.max):
                return None, "number_out_of_range"
            return (int(value) if step.integer else value), None
        if step.kind == "date":
            parsed = parse_date(text, today) if token is None else None
            if parsed is None:
                return None, "invalid_date"
            if parsed < today.replace(year=today.year - 1) or parsed > today.replace(year=today.year + 2):
                return None, "date_out_of_range"
            return parsed.isoformat(), None
        if step.kind == "yesno":
            if isinstance(token, str):
                if token in ("y", "n"):
                    return token == "y", None
                return None, "stale_button"
            yes = parse_yesno(text)
            return (yes, None) if yes is not None else (None, "invalid_yesno")
        if step.kind == "choice":
            index = self._option_index(step, token, text, lang)
            if index is None:
                return None, "invalid_choice"
            return step.options[index].value, None
        if step.kind == "multi":
            draft: list[str] = state.slots.setdefault(f"_{step.id}_draft", [])
            if token == "done" or (token is None and squash(text) in ("done", "完成", "好了", "ok")):
                return [o.value for o in step.options if o.value in draft], None
            if isinstance(token, str):
                index = self._option_index(step, token, "", lang)
                if index is None:
                    return None, "stale_button"
                picked = step.options[index].value
                if picked in draft:
                    draft.remove(picked)
                else:
                    draft.append(picked)
                return None, "__toggled__"
            if squash(text) in ("all", "全部", "都好了", "都准备好了"):
                return [o.value for o in step.options], None
            if squash(text) in ("none", "无", "没有", "都没有"):
                return [], None
            indices = parse_indices(text, len(step.options))
            if indices is None:
                return None, "invalid_multi"
            return [step.options[i].value for i in indices], None
        if step.kind == "list":
            items: list[str] = state.slots.setdefault(f"_{step.id}_draft", [])
            if token == "done" or (token is None and squash(text) in ("done", "完成", "好了", "ok", "没有了")):
                minimum = int(step.min or 0)
                if len(items) < minimum:
                    return None, "list_too_short"
                return list(items), None
            if token is not None:
                return None, "stale_button"
            new = [_LIST_MARK.sub("", line).strip() for line in text.splitlines()]
            new = [line for line in new if line]
            if not new:
                return None, "empty_answer"
            if any(len(line) > step.max_len for line in new):
                return None, "answer_too_long"
            if len(items) + len(new) > MAX_LIST_ITEMS:
                return None, "list_too_long"
            items.extend(new)
            return new, "__added__"
        if step.kind == "customer":
            if isinstance(token, str):
                if token.startswith("c") and token[1:].isdigit():
                    found = next((c for c in customers if c.id == int(token[1:])), None)
                    if found is not None:
                        return {"id": found.id, "name": found.name}, None
                return None, "stale_button"
            if not text:
                return None, "empty_answer"
            if len(text) > 200:
                return None, "answer_too_long"
            existing = next((c for c in customers if squash(c.name) == squash(text)), None)
            if existing is not None:
                return {"id": existing.id, "name": existing.name}, None
            return text, None
        return None, "invalid_choice"

    @staticmethod
    def _option_index(step: Step, token: object, text: str, lang: str) -> int | None:
        if isinstance(token, str):
            if token.startswith("o") and token[1:].isdigit() and int(token[1:]) < len(step.options):
                return int(token[1:])
            return None
        if token is not None:
            return None
        wanted = squash(text)
        if not wanted:
            return None
        if wanted.isdigit() and 1 <= int(wanted) <= len(step.options):
            return int(wanted) - 1
        for i, option in enumerate(step.options):
            labels = {squash(option.label.zh), squash(option.label.en), option.value}
            if wanted in labels:
                return i
        matches = [i for i, o in enumerate(step.options)
                   if wanted in squash(o.label.zh) or wanted in squash(o.label.en)]
        return matches[0] if len(matches) == 1 else None


_STALE = object()
