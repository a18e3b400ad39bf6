"""/hint: one coaching suggestion from where the conversation stands, the way a trainer sitting
beside the rep would whisper it — the most urgent thing first."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from bot.engine.classifier import rewrite_closed
from bot.engine.roleplay.models import Persona
from bot.engine.roleplay.state import SessionState
from bot.kb.models import Lang


@dataclass(frozen=True)
class Hint:
    key: str  # message key suffix: rp_hint_<key>
    kb: str
    params: dict[str, Any] = field(default_factory=dict)


def hint(persona: Persona, state: SessionState, lang: Lang) -> Hint:
    coach = persona.coach
    if not state.active:
        return Hint("over", "visit1.close_next")
    if state.open_objection is not None:
        obj = persona.objection(state.open_objection)
        return Hint("objection", obj.tip if obj else "objection.handling_method")
    if not state.greeted:
        return Hint("greet", "visit1.greeting")
    if not state.agenda and state.turn <= 3:
        return Hint("agenda", "visit1.opening")
    if state.last_question and state.last_question_closed:
        better = rewrite_closed(state.last_question, lang)
        if better:
            return Hint("closed", "questioning.open_vs_closed", {"question": state.last_question, "better": better})
    if state.s_streak >= 3:
        return Hint("situation", "spin.problem", {"n": state.s_streak, "example": coach.P.get(lang)})
    if 0 < state.patience <= persona.patience.warn_at:
        return Hint("patience", "visit1.roles")
    for need_id in reversed(state.revealed):
        need = persona.need(need_id)
        if need is not None and state.stage(need_id) == 1:
            return Hint("implication", "spin.implication", {"need": need.label.get(lang), "example": coach.I.get(lang)})
    for need_id in reversed(state.revealed):
        need = persona.need(need_id)
        if need is not None and state.stage(need_id) == 2:
            return Hint("payoff", "spin.need_payoff", {"need": need.label.get(lang), "example": coach.N.get(lang)})
    rule = persona.ending.agree_when
    if state.count_at_least(1) < max(1, rule.needs_revealed):
        return Hint("problem", "spin.problem", {"example": coach.P.get(lang)})
    explicit = [n for n in persona.needs if state.stage(n.id) == 3]
    if persona.style.expects_fab and explicit and state.benefits == 0:
        return Hint("fab", "fab.method", {"need": explicit[-1].label.get(lang)})
    if not state.summarised:
        return Hint("summary", "visit1.summary", {"example": coach.summary.get(lang)})
    return Hint("next_step", "visit1.close_next", {"example": coach.next_step.get(lang)})
