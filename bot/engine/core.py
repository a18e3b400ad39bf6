"""The engine: one inbound event in, the replies out. Knows nothing of Telegram or terminals."""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from bot.engine.answers import Answers
from bot.engine.commands import COMMANDS, KNOWN
from bot.engine.content import Content
from bot.engine.events import Button, InboundEvent, Lang, OutboundMessage
from bot.engine.flowdefs import Flow, FlowError, Step
from bot.engine.flows import FlowOutcome, FlowRunner
from bot.engine.i18n import as_lang, pick_language
from bot.kb.search import Hit
from db.store import CustomerInfo, DialogState, Store, UserInfo

MAX_TEXT = 4096

CommandFn = Callable[["Turn", DialogState | None], Awaitable[list[OutboundMessage]]]
"""A feature's /command: the turn, the rep's flow in progress (if any) → replies."""
ButtonFn = Callable[["Turn", DialogState | None, str], Awaitable[list[OutboundMessage] | None]]
"""A feature's buttons `prefix:rest`: gets `rest`; None means the payload is invalid (→ ⚠️)."""
TextFn = Callable[["Turn"], Awaitable[list[OutboundMessage] | None]]
"""Free text outside a flow (e.g. a role-play in progress); None = not mine, try the next one."""
CheckFn = Callable[[Lang, Step, Any, dict[str, Any]], list[str]]
"""Coaching notes on an accepted flow answer (e.g. 'this is a closed question'), shown before the next step."""
CompletionFn = Callable[["Turn", Flow, DialogState, int | None], Awaitable[list[OutboundMessage]]]
"""Runs after a flow is saved (customer id if any): log activity, schedule a reminder, add a summary."""
StartFn = Callable[["Turn", str], Awaitable[list[OutboundMessage]]]
"""A `/start CODE` deep-link handler for codes with its prefix (team invites, role-play drills …)."""
CancelFn = Callable[["Turn"], Awaitable[list[OutboundMessage] | None]]
"""/cancel when no flow is in progress: a feature's own activity (a role-play); None = nothing of mine."""
ContextFn = Callable[["Turn", DialogState], Awaitable[dict[str, Any]]]
"""Extra template values for a flow's prompts, scripted lines and card (e.g. the contact of a saved /prep
plan); they fill only what the rep's answers leave empty."""


@dataclass(frozen=True)
class EngineConfig:
    timezone: str = "Asia/Shanghai"
    flow_idle_days: int = 7
    resume_after_minutes: int = 60
    admins: frozenset[int] = frozenset()  # Telegram user ids from SALESCOACH_ADMINS


@dataclass
class Turn:
    """Everything one event's handling needs, passed explicitly instead of kept on the engine."""

    store: Store
    user: UserInfo
    lang: Lang
    event: InboundEvent
    now: datetime
    primed: Mapping[str, list[Hit]] = field(default_factory=dict)  # searches run ahead (Engine.question_in)
    roleplay_open: bool = True  # False: the rep had no live role-play when the event arrived

    @property
    def today(self) -> date:
        return self.now.astimezone(ZoneInfo(self.user.timezone)).date()


class Engine:
    def __init__(self, content: Content, config: EngineConfig, clock: Callable[[], datetime] | None = None) -> None:
        self.content = content
        self.config = config
        self.t = content.messages
        self.runner = FlowRunner(content.flows, content.messages)
        self.answers = Answers(content)
        self.clock = clock or (lambda: datetime.now(UTC))
        self.flow_by_command = {f.command: f for f in content.flows.values()}
        self.commands: dict[str, CommandFn] = {}
        self.button_handlers: dict[str, ButtonFn] = {}
        self.text_handlers: list[TextFn] = []
        self.checkers: dict[str, CheckFn] = {}
        self.completion_hooks: dict[str, list[CompletionFn]] = {}
        self.start_handlers: dict[str, StartFn] = {}  # `/start CODE` by code prefix
        self.cancel_handlers: list[CancelFn] = []
        self.bot_username: str | None = None  # set by the Telegram adapter once it knows it (deep links)
        self.context_providers: dict[str, list[ContextFn]] = {}

    # ----- extension points (features register here, in bot/engine/features) --------------------
    def add_command(self, name: str, fn: CommandFn) -> None:
        if name in self.commands or name in _BUILTIN:
            raise ValueError(f"command /{name} is already registered")
        self.commands[name] = fn

    def add_button(self, prefix: str, fn: ButtonFn) -> None:
        if prefix in self.button_handlers or prefix in _BUILTIN_BUTTONS:
            raise ValueError(f"button prefix {prefix!r} is already registered")
        self.button_handlers[prefix] = fn

    def add_text_handler(self, fn: TextFn) -> None:
        self.text_handlers.append(fn)

    def add_checker(self, name: str, fn: CheckFn) -> None:
        self.checkers[name] = fn

    def on_complete(self, flow_id: str, fn: CompletionFn) -> None:
        self.completion_hooks.setdefault(flow_id, []).append(fn)

    def add_start_handler(self, prefix: str, fn: StartFn) -> None:
        """Deep-link codes (`/start CODE`) starting with `prefix` go to `fn` (e.g. team invites, `drill_`)."""
        if not prefix or prefix in self.start_handlers:
            raise ValueError(f"start-code prefix {prefix!r} is empty or already registered")
        self.start_handlers[prefix] = fn

    def add_cancel_handler(self, fn: CancelFn) -> None:
        """/cancel with no flow in progress asks these in order (e.g. leave a role-play)."""
        self.cancel_handlers.append(fn)

    def add_context(self, flow_id: str, fn: ContextFn) -> None:
        self.context_providers.setdefault(flow_id, []).append(fn)

    def verify(self) -> None:
        """After features are installed: every checker a flow names must exist."""
        for flow in self.content.flows.values():
            for step in flow.steps:
                if step.check is not None and step.check not in self.checkers:
                    raise FlowError(f"knowledge/flows/{flow.id}.yaml: steps.{step.id}.check: "
                                    f"unknown checker {step.check!r}")

    # ----- entry point ------------------------------------------------------------------------
    @staticmethod
    def question_in(event: InboundEvent) -> str | None:
        """The text this event may be answered from the knowledge base with (free text, /ask …), so a
        caller can search ahead, outside the transaction; whether it is depends on the rep's state."""
        if event.kind == "text" and event.text.strip() and len(event.text) <= MAX_TEXT:
            return event.text
        if event.kind == "command" and event.command == "ask" and event.args.strip() and len(event.text) <= MAX_TEXT:
            return event.args
        return None

    async def handle(self, store: Store, event: InboundEvent,
                     primed: Mapping[str, list[Hit]] | None = None) -> list[OutboundMessage]:
        """Handle one event inside the caller's transaction; the caller commits, then sends.

        `primed`: knowledge searches already run for `question_in(event)` (limit ASK_LIMIT)."""
        arrival = await store.users.arrive(
            event.user_id, event.name, pick_language(event.language_code), self.config.timezone
        )
        user = arrival.user
        turn = Turn(store=store, user=user, lang=as_lang(user.language), event=event, now=self.clock(),
                    primed=primed or {}, roleplay_open=arrival.roleplay_open)
        dialog = await self._live_dialog(turn, arrival.dialog)
        if event.kind == "unsupported":
            return [OutboundMessage(self.t(turn.lang, "unsupported_media"))] + await self._tail_prompt(turn, dialog)
        if event.kind in ("text", "command") and len(event.text) > MAX_TEXT:
            return [OutboundMessage(self.t(turn.lang, "too_long", n=len(event.text), limit=MAX_TEXT))] + (
                await self._tail_prompt(turn, dialog)
            )
        if event.kind == "command":
            return await self._command(turn, dialog)
        if event.kind == "button":
            return await self._button(turn, dialog)
        if not event.text.strip():
            return [OutboundMessage(self.t(turn.lang, "empty_message"))] + await self._tail_prompt(turn, dialog)
        if dialog is not None:
            if dialog.phase == "resume" or self._idle(turn, dialog):
                return await self._offer_resume(turn, dialog)
            return await self._flow_input(turn, dialog)
        for handler in self.text_handlers:
            claimed = await handler(turn)
            if claimed is not None:
                return claimed
        return self.answers.ask(event.text, turn.lang, turn.primed.get(event.text))

    # ----- dialogs ----------------------------------------------------------------------------
    async def _live_dialog(self, turn: Turn, dialog: DialogState | None) -> DialogState | None:
        """The rep's active dialog as read on arrival, unless its flow is gone or it has lain idle too long."""
        if dialog is None:
            return None
        if dialog.flow not in self.content.flows:
            dialog.status = "expired"
            await turn.store.dialogs.save(dialog)
            return None
        if dialog.updated_at and turn.now - dialog.updated_at > timedelta(days=self.config.flow_idle_days):
            dialog.status = "expired"
            await turn.store.dialogs.save(dialog)
            return None
        return dialog

    def _idle(self, turn: Turn, dialog: DialogState) -> bool:
        return bool(dialog.updated_at) and turn.now - dialog.updated_at > timedelta(  # type: ignore[operator]
            minutes=self.config.resume_after_minutes
        )

    def _flow(self, dialog: DialogState) -> Flow:
        return self.content.flows[dialog.flow]

    async def _customers(self, turn: Turn, dialog: DialogState | None) -> list[CustomerInfo]:
        if dialog is None:
            return []
        flow = self._flow(dialog)
        step = flow.step(dialog.step)
        if step is None or step.kind != "customer":
            return []
        return await turn.store.customers.list_for(turn.user.id, limit=8)

    async def _prompt(self, turn: Turn, dialog: DialogState) -> OutboundMessage:
        flow = self._flow(dialog)
        extra = await self._extra(turn, dialog)
        return self.runner.prompt(flow, dialog, turn.lang, await self._customers(turn, dialog),
                                  say=self._say(flow, dialog, turn, extra), extra=extra)

    async def _extra(self, turn: Turn, dialog: DialogState) -> dict[str, Any]:
        extra: dict[str, Any] = {}
        for provider in self.context_providers.get(dialog.flow, []):
            extra.update(await provider(turn, dialog))
        return extra

    def _say(self, flow: Flow, dialog: DialogState, turn: Turn, extra: dict[str, Any] | None = None) -> str | None:
        step = flow.step(dialog.step)
        if step is None or step.say is None or dialog.phase == "review":
            return None
        if step.kind == "list" and dialog.slots.get(f"_{step.id}_draft"):
            return None  # said once already; while the rep adds items, only the list so far is shown
        ctx = self.runner.context(flow, dialog, turn.lang)
        customer = ctx.get("customer")
        slots = {**(extra or {}), **{k: v for k, v in ctx.items() if v not in (None, "", [])}}
        if isinstance(customer, dict):
            slots["customer"] = customer.get("name")
        return "💬 " + self.content.talk.render(step.say, turn.lang, **slots)

    async def _tail_prompt(self, turn: Turn, dialog: DialogState | None) -> list[OutboundMessage]:
        """After an interruption inside a flow, say the current question again so the rep is not lost."""
        if dialog is None or dialog.phase == "resume":
            return []
        return [await self._prompt(turn, dialog)]

    async def _start_flow(self, turn: Turn, flow: Flow) -> list[OutboundMessage]:
        dialog = self.runner.start(flow, turn.user.id, turn.event.chat_id)
        await turn.store.dialogs.save(dialog)
        out = []
        if flow.intro is not None:
            out.append(OutboundMessage(flow.intro.get(turn.lang)))
        out.append(await self._prompt(turn, dialog))
        return out

    async def _offer_resume(self, turn: Turn, dialog: DialogState) -> list[OutboundMessage]:
        if dialog.phase != "resume":
            dialog.meta["resume_phase"] = dialog.phase
            dialog.phase = "resume"
            await turn.store.dialogs.save(dialog)
        flow = self._flow(dialog)
        step = flow.step(dialog.step)
        when = dialog.updated_at.astimezone(ZoneInfo(turn.user.timezone)) if dialog.updated_at else turn.now
        return [OutboundMessage(
            self.t(turn.lang, "resume_offer", title=flow.title.get(turn.lang),
                   step=step.label.get(turn.lang) if step else "", when=when.strftime("%Y-%m-%d %H:%M")),
            buttons=[[Button(self.t(turn.lang, "resume_continue"), "r:c"),
                      Button(self.t(turn.lang, "resume_discard"), "r:d")]],
        )]

    async def _resume(self, turn: Turn, dialog: DialogState) -> list[OutboundMessage]:
        dialog.phase = str(dialog.meta.pop("resume_phase", "ask"))
        await turn.store.dialogs.save(dialog)
        return [await self._prompt(turn, dialog)]

    async def _flow_input(self, turn: Turn, dialog: DialogState) -> list[OutboundMessage]:
        flow = self._flow(dialog)
        customers = await self._customers(turn, dialog)
        outcome = self.runner.accept(flow, dialog, turn.event, turn.lang, turn.today, customers)
        notes = self._check(turn, flow, outcome, dialog)
        replies = await self._after(turn, dialog, outcome)
        return [OutboundMessage(note) for note in notes] + replies

    def _check(self, turn: Turn, flow: Flow, outcome: FlowOutcome, dialog: DialogState) -> list[str]:
        if outcome.accepted is None:
            return []
        step = flow.step(outcome.accepted)
        if step is None or step.check is None:
            return []
        value = outcome.accepted_value if outcome.accepted_value is not None else dialog.slots.get(step.id)
        return self.checkers[step.check](turn.lang, step, value, dialog.slots)

    async def _after(self, turn: Turn, dialog: DialogState, outcome: FlowOutcome) -> list[OutboundMessage]:
        if outcome.completed:
            return await self._complete(turn, dialog)
        await turn.store.dialogs.save(dialog)
        # a customer step may now be current: re-render with the rep's customer buttons
        if outcome.messages and dialog.phase != "review":
            edit = outcome.messages[-1].edit
            outcome.messages[-1] = await self._prompt(turn, dialog)
            outcome.messages[-1].edit = edit
        return outcome.messages

    async def _complete(self, turn: Turn, dialog: DialogState) -> list[OutboundMessage]:
        flow = self._flow(dialog)
        store = turn.store
        ctx = self.runner.context(flow, dialog, turn.lang)
        customer_id: int | None = None
        customer_slot = next((s.id for s in flow.steps if s.kind == "customer"), None)
        if customer_slot and isinstance(dialog.slots.get(customer_slot), dict):
            chosen = dialog.slots[customer_slot]
            if chosen.get("id") is not None and await store.customers.get(turn.user.id, int(chosen["id"])):
                customer_id = int(chosen["id"])
            else:
                customer_id = (await store.customers.ensure(turn.user.id, str(chosen["name"]))).id
                chosen["id"] = customer_id
        if customer_id is not None:
            updates: dict[str, object] = {}
            for column, slot in flow.complete.customer_fields.items():
                value = ctx.get(slot)
                if value in (None, ""):
                    continue
                if column == "next_visit_at":
                    local = datetime.combine(date.fromisoformat(str(value)), time(9, 0),
                                             tzinfo=ZoneInfo(turn.user.timezone))
                    value = local.astimezone(UTC)
                updates[column] = value
            await store.customers.update(turn.user.id, customer_id, **updates)
            if flow.complete.record:
                data = {k: v for k, v in dialog.slots.items() if not k.startswith("_")}
                await store.records.add(customer_id, turn.user.id, flow.complete.record,
                                        {"flow": flow.id, "answers": data})
        for action in flow.complete.activity:
            if action.when is None or action.when.holds(dialog.slots):
                await store.activity.add(turn.user.id, action.metric, action.amount, customer_id=customer_id,
                                         source="flow", occurred_at=turn.now)
        dialog.status = "done"
        dialog.phase = "done"
        await store.dialogs.save(dialog)
        for key, value in (await self._extra(turn, dialog)).items():
            if ctx.get(key) in (None, "", []):
                ctx[key] = value
        card = self.content.talk.render(flow.complete.card, turn.lang, **ctx).strip()
        out = [OutboundMessage(self.t(turn.lang, "flow_saved", title=flow.title.get(turn.lang)) + "\n\n" + card)]
        for hook in self.completion_hooks.get(flow.id, []):
            out += await hook(turn, flow, dialog, customer_id)
        return out

    # ----- commands ---------------------------------------------------------------------------
    async def _command(self, turn: Turn, dialog: DialogState | None) -> list[OutboundMessage]:
        name, args, lang = turn.event.command, turn.event.args, turn.lang
        if dialog is not None and dialog.phase == "resume" and name in ("back", "skip", "repeat"):
            return await self._offer_resume(turn, dialog)
        if name == "start":
            return await self._start_command(turn, dialog)
        if name == "help":
            return [OutboundMessage(self.help_text(lang))]
        if name == "lang":
            return await self._lang(turn, args)
        if name == "cancel":
            if dialog is None:
                for cancel in self.cancel_handlers:
                    left = await cancel(turn)
                    if left is not None:
                        return left
                return [OutboundMessage(self.t(lang, "nothing_to_cancel"))]
            dialog.status = "cancelled"
            await turn.store.dialogs.save(dialog)
            return [OutboundMessage(self.t(lang, "cancelled", title=self._flow(dialog).title.get(lang)))]
        if name in ("back", "skip", "repeat"):
            if dialog is None:
                if name in self.commands:
                    return await self.commands[name](turn, dialog)
                return [OutboundMessage(self.t(lang, "no_active_flow"))]
            flow = self._flow(dialog)
            customers = await self._customers(turn, dialog)
            if name == "repeat":
                return [await self._prompt(turn, dialog)]
            outcome = (self.runner.back if name == "back" else self.runner.skip)(flow, dialog, lang, customers)
            return await self._after(turn, dialog, outcome)
        if name == "ask":
            if not args.strip():
                return [OutboundMessage(self.t(lang, "ask_usage"))] + await self._tail_prompt(turn, dialog)
            return self.answers.ask(args, lang, turn.primed.get(args)) + await self._continue_note(turn, dialog)
        if name == "topics":
            return [self.answers.topics(lang)] + await self._continue_note(turn, dialog)
        if name in self.commands:
            return await self.commands[name](turn, dialog)
        wanted = self.flow_by_command.get(name)
        if wanted is not None:
            return await self.open_flow(turn, dialog, wanted.id)
        if name in KNOWN:
            return [OutboundMessage(self.t(lang, "coming_soon", command=name))] + await self._tail_prompt(turn, dialog)
        return [OutboundMessage(self.t(lang, "unknown_command", command=name[:40]))] + await self._tail_prompt(
            turn, dialog
        )

    async def open_flow(self, turn: Turn, dialog: DialogState | None, flow_id: str) -> list[OutboundMessage]:
        """Start a flow as its /command does: resume it if it is the one in progress, ask before
        discarding another one. Features that wrap a flow's command (e.g. /spin offering a saved
        plan first) call this to start it."""
        flow, lang = self.content.flows[flow_id], turn.lang
        if dialog is not None and dialog.flow == flow.id:
            if dialog.phase == "resume":
                return await self._resume(turn, dialog)
            return [OutboundMessage(self.t(lang, "flow_already", title=flow.title.get(lang))),
                    await self._prompt(turn, dialog)]
        if dialog is not None:
            current = self._flow(dialog)
            return [OutboundMessage(
                self.t(lang, "flow_busy", current=current.title.get(lang), new=flow.title.get(lang)),
                buttons=[[Button(self.t(lang, "resume_continue"), "r:c")],
                         [Button(self.t(lang, "flow_switch", new=flow.title.get(lang)), f"x:{flow.id}")]],
            )]
        return await self._start_flow(turn, flow)

    async def _continue_note(self, turn: Turn, dialog: DialogState | None) -> list[OutboundMessage]:
        """After /ask or /topics inside a flow: the place is kept, and the question is asked again."""
        if dialog is None:
            return []
        if dialog.phase == "resume":
            return await self._offer_resume(turn, dialog)
        prompt = await self._prompt(turn, dialog)
        prompt.text = self.t(turn.lang, "flow_continue", title=self._flow(dialog).title.get(turn.lang)) + "\n\n" + (
            prompt.text
        )
        return [prompt]

    async def _start_command(self, turn: Turn, dialog: DialogState | None) -> list[OutboundMessage]:
        """A deep-link code (team invite, drill) is answered by its handler alone; otherwise the welcome."""
        lang = turn.lang
        out: list[OutboundMessage] = []
        code = turn.event.args.strip().split(" ", 1)[0]
        prefix = max((p for p in self.start_handlers if code.startswith(p)), key=len, default=None) if code else None
        if prefix is not None:
            out += await self.start_handlers[prefix](turn, code)
        else:
            if code:
                out.append(OutboundMessage(self.t(lang, "invite_unknown")))
            out.append(OutboundMessage(
                self.t(lang, "welcome", name=turn.user.name or ""),
                buttons=[[Button("中文", "l:zh"), Button("English", "l:en")]],
            ))
        if dialog is not None:
            out += await self._offer_resume(turn, dialog)
        return out

    async def _lang(self, turn: Turn, args: str) -> list[OutboundMessage]:
        choice = args.strip().lower()
        mapping = {"zh": "zh", "cn": "zh", "中文": "zh", "chinese": "zh", "en": "en", "english": "en", "英文": "en"}
        if not choice:
            return [OutboundMessage(self.t(turn.lang, "lang_prompt"),
                                    buttons=[[Button("中文", "l:zh"), Button("English", "l:en")]])]
        if choice not in mapping:
            return [OutboundMessage(self.t(turn.lang, "lang_invalid"))]
        return await self._set_lang(turn, as_lang(mapping[choice]))

    async def _set_lang(self, turn: Turn, lang: Lang) -> list[OutboundMessage]:
        await turn.store.users.set_language(turn.user.id, lang)
        turn.lang = lang
        return [OutboundMessage(self.t(lang, "lang_set"))]

    def help_text(self, lang: str) -> str:
        sections = []
        for group in ("rep", "manager", "admin", "general"):
            lines = [self.t(lang, f"help_group_{group}")]
            lines += [f"/{c.name} — {self.t(lang, 'cmd_' + c.name)}" for c in COMMANDS
                      if c.group == group and c.name != "start"]
            sections.append("\n".join(lines))
        return self.t(lang, "help_intro") + "\n\n" + "\n\n".join(sections)

    # ----- buttons ----------------------------------------------------------------------------
    async def _button(self, turn: Turn, dialog: DialogState | None) -> list[OutboundMessage]:
        data, lang = turn.event.button, turn.lang
        kind, _, rest = data.partition(":")
        if kind == "f":
            if dialog is None:
                return [OutboundMessage(self.t(lang, "stale_button"))]
            if dialog.phase == "resume":
                return await self._offer_resume(turn, dialog)
            return await self._flow_input(turn, dialog)
        if kind == "l" and rest in ("zh", "en"):
            return await self._set_lang(turn, as_lang(rest))
        if kind == "r" and rest in ("c", "d"):
            if dialog is None:
                return [OutboundMessage(self.t(lang, "stale_button"))]
            if rest == "c":
                return await self._resume(turn, dialog)
            dialog.status = "cancelled"
            await turn.store.dialogs.save(dialog)
            return [OutboundMessage(self.t(lang, "cancelled", title=self._flow(dialog).title.get(lang)))]
        if kind == "x" and rest in self.content.flows:
            if dialog is not None:
                dialog.status = "cancelled"
                await turn.store.dialogs.save(dialog)
            return await self._start_flow(turn, self.content.flows[rest])
        if kind in self.button_handlers:
            handled = await self.button_handlers[kind](turn, dialog, rest)
            if handled is not None:
                return handled
        if kind in ("k", "t"):
            answer = self.answers.button(kind, rest, lang)
            if answer is not None:
                return answer + await self._continue_note(turn, dialog)
        return [OutboundMessage(self.t(lang, "forged_button"))] + await self._tail_prompt(turn, dialog)


_BUILTIN = frozenset({"start", "help", "lang", "cancel", "ask", "topics"})
_BUILTIN_BUTTONS = frozenset({"f", "l", "r", "x", "k", "t"})
