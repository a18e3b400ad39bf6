"""One role-play turn end to end: classify the rep's line, let the persona's state machine decide,
word the customer's answer from the reply banks in the rep's language, and log the exchange."""

from __future__ import annotations

from bot.engine.classifier import classify, word_count
from bot.engine.roleplay.machine import decide
from bot.engine.roleplay.models import Persona
from bot.engine.roleplay.replies import pick
from bot.engine.roleplay.state import SessionState, TurnRecord, classification_dict
from bot.kb.models import Lang

SHORT_TURN = 3  # words: too short to tell the language ("ok", "嗯"); keep the session's


def start(persona: Persona, lang: Lang, seed: int) -> tuple[SessionState, str | None]:
    """A fresh session, and the customer's first line when the persona speaks first."""
    state = SessionState(persona=persona.id, lang=lang, seed=seed, patience=persona.patience.start,
                         trust=persona.trust.start, needs={n.id: 0 for n in persona.needs})
    opener = None
    if persona.opener is not None:
        opener = pick(state, "opener", persona.opener.get(lang))
        state.last_line = opener
        if persona.opener_objection is not None:
            state.objections[persona.opener_objection] = "open"
            state.open_objection = persona.opener_objection
    return state, opener


def reply_language(state: SessionState, text: str, detected: str) -> Lang:
    """The customer answers in the language the rep writes in; very short lines keep the session's."""
    if word_count(text) >= SHORT_TURN and detected in ("zh", "en"):
        return "en" if detected == "en" else "zh"
    return "en" if state.lang == "en" else "zh"


def take_turn(persona: Persona, state: SessionState, text: str) -> TurnRecord:
    """Advance the session by one rep turn (state is updated in place) and return the exchange."""
    c = classify(text)
    lang = reply_language(state, text, c.lang)
    state.lang = lang
    state.turn += 1
    decision = decide(persona, state, c, text, lang)
    said = [pick(state, key, lines, avoid=state.last_line) for key, lines in decision.parts]
    joiner = "" if lang == "zh" else " "
    line = joiner.join(s for s in said if s).strip()
    if line == state.last_line:  # the same words as just before: add a remark so it never sounds stuck
        line = (line + joiner + pick(state, "neutral", persona.replies.neutral.get(lang), avoid=line)).strip()
    state.last_line = line
    return TurnRecord(
        n=state.turn, rep=text, customer=line, lang=lang, cls=classification_dict(c), events=decision.events,
        customer_words=word_count(line), patience=state.patience, trust=state.trust,
    )
