"""Role-play practice: /roleplay (persona buttons), free text to the simulated customer while a session
is active, /hint, /repeat, /restart, /end (scorecard), /cancel, /history.

The session lives in the database (db/store_roleplay.py) and is read and written in each update's
transaction, so a restart resumes the conversation. Flows take precedence: while a guided flow is in
progress the rep's text goes to the flow, and a role-play cannot be started until it is finished.
The conversation itself (persona state machine, replies, scoring) is bot/engine/roleplay/.
"""

from __future__ import annotations

import zlib
from datetime import timedelta
from typing import TYPE_CHECKING
from zoneinfo import ZoneInfo

from bot.engine.events import Button, Lang, OutboundMessage
from bot.engine.roleplay import render
from bot.engine.roleplay.conversation import start, take_turn
from bot.engine.roleplay.hints import hint
from bot.engine.roleplay.models import CRITERIA, Persona
from bot.engine.roleplay.scoring import Scorecard, score
from bot.engine.roleplay.state import SessionState, TurnRecord
from db.store import DialogState
from db.store_roleplay import Roleplays, SessionInfo, TurnRow

if TYPE_CHECKING:
    from bot.engine.core import Engine, Turn

MAX_TURNS = 60  # a practice visit longer than this ends with its scorecard
HISTORY = 10
TREND = 3


def repo(turn: Turn) -> Roleplays:
    return Roleplays(turn.store.session, turn.store.clock)


def turn_records(rows: list[TurnRow]) -> list[TurnRecord]:
    return [TurnRecord.from_dict({**r.data, "n": r.n, "rep": r.rep, "customer": r.customer, "lang": r.lang})
            for r in rows]


class RoleplayFeature:
    def __init__(self, engine: Engine) -> None:
        self.engine = engine
        self.t = engine.t
        self.content = engine.content.roleplay

    # ----- helpers --------------------------------------------------------------------------------
    def persona(self, key: str) -> Persona | None:
        key = key.strip().lower()
        if key in self.content.personas:
            return self.content.personas[key]
        ordered = self.content.ordered()
        if key.isdigit() and 1 <= int(key) <= len(ordered):
            return ordered[int(key) - 1]
        return None

    def persona_buttons(self, lang: Lang, prefix: str = "rp:p:") -> list[list[Button]]:
        return [[Button(f"{i}. {p.title.get(lang)}"[:64], f"{prefix}{p.id}")]
                for i, p in enumerate(self.content.ordered(), start=1)]

    async def active(self, turn: Turn) -> tuple[SessionInfo, Persona, SessionState] | None:
        """The rep's live session; stale or broken sessions are closed on the way (never scored)."""
        rp = repo(turn)
        info = await rp.active(turn.user.id)
        if info is None:
            return None
        persona = self.content.personas.get(info.persona)
        idle = turn.now - info.updated_at > timedelta(days=self.engine.config.flow_idle_days)
        try:
            state = SessionState.from_dict(info.state)
        except (TypeError, ValueError):
            state = None
        if persona is None or state is None or idle:
            info.status = "expired"
            await rp.save(info)
            return None
        return info, persona, state

    # ----- starting ------------------------------------------------------------------------------
    async def begin(self, turn: Turn, persona: Persona, drill_id: int | None = None) -> list[OutboundMessage]:
        """A fresh session with `persona` (any live one is cancelled): the briefing, then the scene."""
        rp = repo(turn)
        current = await rp.active(turn.user.id)
        if current is not None:
            current.status = "cancelled"
            await rp.save(current)
        lang = turn.lang
        seed = zlib.crc32(f"{turn.user.id}:{turn.now.isoformat()}:{persona.id}".encode()) & 0x7FFFFFFF
        state, opener = start(persona, lang, seed)
        # joined from a group (a drill's Join button): the practice itself happens in the private chat
        chat = turn.event.user_id if drill_id is not None else turn.event.chat_id
        await rp.create(turn.user.id, chat, persona.id, lang, seed, state.to_dict(), drill_id)
        out = [OutboundMessage(render.briefing(self.t, persona, lang),
                               buttons=[[Button(self.t(lang, "rp_hint_button"), "rp:h"),
                                         Button(self.t(lang, "rp_end_button"), "rp:e")]])]
        if opener:
            out.append(OutboundMessage(render.customer_line(self.t, persona, lang, opener)))
        else:
            out.append(OutboundMessage(self.t(lang, "rp_scene", name=persona.name.get(lang))))
        return out

    async def roleplay(self, turn: Turn, dialog: DialogState | None) -> list[OutboundMessage]:
        lang = turn.lang
        if dialog is not None:
            return [OutboundMessage(self.t(lang, "rp_flow_busy"))]
        arg = turn.event.args.strip()
        live = await self.active(turn)
        if not arg:
            text = self.t(lang, "rp_choose")
            if live is not None:
                text = self.t(lang, "rp_in_progress", name=live[1].name.get(lang)) + "\n\n" + text
            return [OutboundMessage(text, buttons=self.persona_buttons(lang))]
        persona = self.persona(arg.split()[0])
        if persona is None:
            return [OutboundMessage(self.t(lang, "rp_unknown_persona", given=arg[:40]),
                                    buttons=self.persona_buttons(lang))]
        return await self._pick(turn, persona, live)

    async def _pick(self, turn: Turn, persona: Persona,
                    live: tuple[SessionInfo, Persona, SessionState] | None) -> list[OutboundMessage]:
        lang = turn.lang
        if live is not None:
            _, current, state = live
            if current.id == persona.id:
                return [OutboundMessage(self.t(lang, "rp_same_persona", name=current.name.get(lang))),
                        self._last_line(lang, current, state)]
            return [OutboundMessage(
                self.t(lang, "rp_switch_offer", current=current.name.get(lang), new=persona.name.get(lang)),
                buttons=[[Button(self.t(lang, "rp_continue_button"), "rp:c")],
                         [Button(self.t(lang, "rp_switch_button", new=persona.name.get(lang))[:64],
                                 f"rp:s:{persona.id}")]],
            )]
        return await self.begin(turn, persona)

    def _last_line(self, lang: Lang, persona: Persona, state: SessionState) -> OutboundMessage:
        if state.last_line:
            said: Lang = "en" if state.lang == "en" else "zh"
            return OutboundMessage(render.customer_line(self.t, persona, said, state.last_line))
        return OutboundMessage(self.t(lang, "rp_scene", name=persona.name.get(lang)))

    # ----- the conversation ----------------------------------------------------------------------
    async def on_text(self, turn: Turn) -> list[OutboundMessage] | None:
        if not turn.roleplay_open:
            return None
        live = await self.active(turn)
        if live is None:
            return None
        info, persona, state = live
        if turn.event.chat_id not in (info.chat_id, turn.event.user_id):
            return None  # the rep chatting in some group is not talking to the simulated customer
        lang = turn.lang
        out: list[OutboundMessage] = []
        if turn.now - info.updated_at > timedelta(minutes=self.engine.config.resume_after_minutes):
            out.append(OutboundMessage(self.t(lang, "rp_resumed", name=persona.name.get(lang))))
        record = take_turn(persona, state, turn.event.text)
        data = record.to_dict()
        for key in ("n", "rep", "customer", "lang"):
            data.pop(key)
        rp = repo(turn)
        await rp.add_turn(info.id, record.n, record.rep, record.customer, record.lang, data)
        info.turns = record.n
        info.lang = state.lang
        info.state = state.to_dict()
        said: Lang = "en" if record.lang == "en" else "zh"
        out.append(OutboundMessage(render.customer_line(self.t, persona, said, record.customer)))
        if not state.active:
            return out + await self.finish(turn, info, persona, state)
        if info.turns >= MAX_TURNS:
            state.status = "ended"
            out.append(OutboundMessage(self.t(lang, "rp_too_long", n=MAX_TURNS)))
            return out + await self.finish(turn, info, persona, state)
        await rp.save(info)
        return out

    async def finish(self, turn: Turn, info: SessionInfo, persona: Persona,
                     state: SessionState) -> list[OutboundMessage]:
        """Score the session, store the scorecard, record the activity, and show the card."""
        lang = turn.lang
        rp = repo(turn)
        card = score(persona, self.content.rubric, state, turn_records(await rp.turns(info.id)))
        tips = render.tips(self.t, persona, card, lang)
        details = card.as_json(tips)
        details["lang"] = lang
        drill = await rp.drill(info.drill_id) if info.drill_id is not None else None
        drill_id = drill.id if drill is not None and drill.status == "open" else None
        await rp.add_scorecard(info, card.total, {c: round(s.points) for c, s in card.criteria.items()},
                               card.talk_share, card.questions, card.outcome, details, drill_id)
        await turn.store.activity.add(turn.user.id, "roleplays", 1, source="roleplay", occurred_at=turn.now)
        info.status = "done"
        info.state = state.to_dict()
        await rp.save(info)
        text = render.scorecard_text(self.t, persona, self.content.rubric, card, lang)
        if drill_id is not None:
            text += "\n\n" + self.t(lang, "rp_drill_shared")
        return [OutboundMessage(text, buttons=self._card_buttons(lang, persona, card))]

    def _card_buttons(self, lang: Lang, persona: Persona, card: Scorecard) -> list[list[Button]]:
        rows = [[Button("📘 " + self._title(kb, lang)[:56], f"k:{kb}")] for kb in render.kb_to_read(card)]
        rows.append([Button(self.t(lang, "rp_again_button"), f"rp:p:{persona.id}"),
                     Button(self.t(lang, "rp_other_button"), "rp:l")])
        return rows

    def _title(self, kb: str, lang: Lang) -> str:
        entry = self.engine.content.kb.get(kb)
        return entry.title_in(lang) if entry else kb

    # ----- commands inside a session --------------------------------------------------------------
    async def end(self, turn: Turn, dialog: DialogState | None) -> list[OutboundMessage]:
        live = await self.active(turn)
        if live is None:
            return [OutboundMessage(self.t(turn.lang, "rp_none"))]
        info, persona, state = live
        if info.turns == 0:
            info.status = "cancelled"
            await repo(turn).save(info)
            return [OutboundMessage(self.t(turn.lang, "rp_cancelled_empty", name=persona.name.get(turn.lang)))]
        state.status = "ended"
        return await self.finish(turn, info, persona, state)

    async def cancel(self, turn: Turn) -> list[OutboundMessage] | None:
        live = await self.active(turn)
        if live is None:
            return None
        info, persona, _ = live
        info.status = "cancelled"
        await repo(turn).save(info)
        return [OutboundMessage(self.t(turn.lang, "rp_cancelled", name=persona.name.get(turn.lang)))]

    async def restart(self, turn: Turn, dialog: DialogState | None) -> list[OutboundMessage]:
        if dialog is not None:
            return [OutboundMessage(self.t(turn.lang, "rp_flow_busy"))]
        live = await self.active(turn)
        persona: Persona | None = live[1] if live is not None else None
        drill = live[0].drill_id if live is not None else None
        if persona is None:
            last = await repo(turn).history(turn.user.id, limit=1)
            persona = self.content.personas.get(last[0].persona) if last else None
            if persona is None:
                return [OutboundMessage(self.t(turn.lang, "rp_none"))]
        return [OutboundMessage(self.t(turn.lang, "rp_restarted", name=persona.name.get(turn.lang)))] + (
            await self.begin(turn, persona, drill))

    async def repeat(self, turn: Turn, dialog: DialogState | None) -> list[OutboundMessage]:
        live = await self.active(turn)
        if live is None:
            return [OutboundMessage(self.t(turn.lang, "no_active_flow"))]
        return [self._last_line(turn.lang, live[1], live[2])]

    async def hint(self, turn: Turn, dialog: DialogState | None) -> list[OutboundMessage]:
        live = await self.active(turn)
        if live is None:
            return [OutboundMessage(self.t(turn.lang, "rp_none"))]
        _, persona, state = live
        lang = turn.lang
        h = hint(persona, state, lang)
        return [OutboundMessage(render.hint_text(self.t, h, lang),
                                buttons=[[Button("📘 " + self._title(h.kb, lang)[:56], f"k:{h.kb}")]])]

    # ----- /history --------------------------------------------------------------------------------
    async def history(self, turn: Turn, dialog: DialogState | None) -> list[OutboundMessage]:
        lang = turn.lang
        cards = await repo(turn).history(turn.user.id, limit=HISTORY)
        if not cards:
            return [OutboundMessage(self.t(lang, "rp_history_empty"), buttons=self.persona_buttons(lang))]
        zone = ZoneInfo(turn.user.timezone)
        lines = [self.t(lang, "rp_history_header", n=len(cards))]
        for card in cards:
            persona = self.content.personas.get(card.persona)
            name = persona.name.get(lang) if persona else card.persona
            lines.append(self.t(lang, "rp_history_line", when=card.created_at.astimezone(zone).strftime("%m-%d %H:%M"),
                                name=name, total=card.total, outcome=self.t(lang, f"rp_outcome_short_{card.outcome}")))
        totals = [c.total for c in cards]
        recent, before = totals[:TREND], totals[TREND: 2 * TREND]
        lines.append("")
        lines.append(self.t(lang, "rp_history_stats", average=round(sum(totals) / len(totals)), best=max(totals)))
        if before:
            delta = round(sum(recent) / len(recent) - sum(before) / len(before))
            lines.append(self.t(lang, "rp_history_trend", delta=delta, n=len(recent)))
        weights = {c: self.content.rubric.criteria[c].weight for c in CRITERIA}
        share = {c: sum(card.criteria.get(c, 0) for card in cards) / (weights[c] * len(cards))
                 for c in CRITERIA if weights[c]}
        weakest = min(share, key=lambda c: share[c])
        lines.append(self.t(lang, "rp_history_weakest",
                            label=self.content.rubric.criteria[weakest].label.get(lang),
                            percent=round(100 * share[weakest])))
        return [OutboundMessage("\n".join(lines), buttons=self.persona_buttons(lang))]

    # ----- buttons ----------------------------------------------------------------------------------
    async def button(self, turn: Turn, dialog: DialogState | None, rest: str) -> list[OutboundMessage] | None:
        lang = turn.lang
        kind, _, value = rest.partition(":")
        if kind in ("p", "s"):
            persona = self.content.personas.get(value)
            if persona is None:
                return None
            if dialog is not None:
                return [OutboundMessage(self.t(lang, "rp_flow_busy"))]
            if kind == "s":
                return await self.begin(turn, persona)
            return await self._pick(turn, persona, await self.active(turn))
        if kind == "l" and not value:
            return await self.roleplay(turn, dialog)
        if kind in ("c", "e", "h") and not value:
            if await self.active(turn) is None:
                return [OutboundMessage(self.t(lang, "stale_button"))]
            if kind == "e":
                return await self.end(turn, dialog)
            if kind == "h":
                return await self.hint(turn, dialog)
            return await self.repeat(turn, dialog)
        return None


def install(engine: Engine) -> RoleplayFeature:
    from bot.engine.features.roleplay_drill import DrillFeature

    feature = RoleplayFeature(engine)
    engine.add_command("roleplay", feature.roleplay)
    engine.add_command("hint", feature.hint)
    engine.add_command("repeat", feature.repeat)
    engine.add_command("restart", feature.restart)
    engine.add_command("end", feature.end)
    engine.add_command("history", feature.history)
    engine.add_button("rp", feature.button)
    engine.add_text_handler(feature.on_text)
    engine.add_cancel_handler(feature.cancel)
    DrillFeature(engine, feature).install()
    return feature
