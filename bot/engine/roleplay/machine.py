"""The customer's side of the conversation: how one classified rep turn changes the persona's state
(patience, trust, needs revealed, objections raised and handled) and which reactions it calls for.

Pure logic over plain data: no I/O, no randomness (variants are chosen afterwards in replies.py), so
the rules can be tested turn by turn and every reaction can be explained.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

from bot.engine.classifier import Classification
from bot.engine.roleplay.models import Lines, Need, Objection, Persona
from bot.engine.roleplay.state import SessionState, classification_dict, is_discovery
from bot.kb.models import Lang
from bot.text.normalize import fold


@dataclass
class Decision:
    """What the customer will say (bank key + lines, in order) and what happened, for the scorecard."""

    parts: list[tuple[str, tuple[str, ...]]] = field(default_factory=list)
    events: list[str] = field(default_factory=list)

    def say(self, key: str, lines: Lines, lang: Lang) -> None:
        self.parts.append((key, lines.get(lang)))


def _bank(persona: Persona, name: str) -> Lines:
    bank: Lines = getattr(persona.replies, name)
    return bank


def _matches(words: tuple[str, ...], text: str) -> bool:
    for word in words:
        w = fold(word)
        if re.fullmatch(r"[a-z0-9 '-]+", w):
            if re.search(rf"(?<![a-z0-9]){re.escape(w)}", text):
                return True
        elif w in text:
            return True
    return False


def _target(candidates: list[Need], text: str, lang: Lang, recent: list[str]) -> Need | None:
    """The need a question points at: one whose topic words it uses, else the most recently
    revealed one, else the first in the persona's order."""
    if not candidates:
        return None
    for need in candidates:
        if _matches(need.keywords.get(lang), text):
            return need
    ids = {n.id: n for n in candidates}
    for need_id in reversed(recent):
        if need_id in ids:
            return ids[need_id]
    return candidates[0]


def _judge(obj: Objection, c: Classification, state: SessionState, persona: Persona) -> str:
    """handled | mishandled | ignored — the rep's answer to an open objection."""
    bad = {
        "pressure": c.pressure,
        "bluff": c.bluff_risk,
        "close": c.close_ask,
        "feature_dump": c.feature_dump,
        "price": c.price_talk and not c.question,
        "off_topic": c.off_topic,
    }
    if any(bad[m] for m in obj.mishandled_by):
        return "mishandled"
    good = {
        "open_question": c.question and c.closed is False,
        "question": c.question,
        "problem_question": c.question and c.spin in ("P", "I", "N"),
        "empathy": c.empathy,
        "fab_linked": c.fab and state.count_at_least(1) > 0,
        "next_step": c.next_step_ask,
        "summary": c.summary,
    }
    return "handled" if any(good[h] for h in obj.handled_by) else "ignored"


def _courtesy(c: Classification) -> bool:
    """Greeting, introduction, thanks or agenda, and nothing of substance."""
    polite = c.greeting or c.self_intro or c.thanks or c.agenda
    substance = (c.question and c.spin is not None) or c.fab or c.feature_dump or c.price_talk or c.close_ask
    return polite and not substance


def _triggers(persona: Persona, state: SessionState, c: Classification, monologue: bool) -> set[str]:
    known = state.count_at_least(1)
    close = c.close_ask or c.next_step_ask
    found: set[str] = set()
    if c.price_talk:
        if not c.summary and not (c.question and c.closed is False):  # "apart from price, what …?" is fine
            found.add("price")
        if known == 0 and not persona.style.price_first:
            found.add("price_early")
    if close:
        found.add("next_step")
        if known == 0:
            found.add("close_early")
    if c.pressure or (c.close_ask and state.not_yet > 0):
        found.add("pushy_close")
    if c.question and c.spin is not None and c.closed and state.closed_streak >= persona.style.closed_streak:
        found.add("closed_streak")
    if c.fab:
        found.add("fab")
    if c.bluff_risk:
        found.add("bluff")
    if c.feature_dump:
        found.add("feature_dump")
    if c.off_topic:
        found.add("off_topic")
    if monologue:
        found.add("monologue")
    if c.question and c.spin == "S" and state.s_streak > persona.style.situation_limit:
        found.add("situation_overload")
    return found


def _charge(persona: Persona, state: SessionState, triggers: set[str], c: Classification, d: Decision) -> None:
    """Patience lost to what the rep just did (each offence once per turn)."""
    costs = persona.costs
    offences = {
        "monologue": costs.monologue if "monologue" in triggers else 0,
        "feature_dump": costs.feature_dump if c.feature_dump else 0,
        "off_topic": costs.off_topic if c.off_topic else 0,
        "closed_streak": costs.closed_streak if "closed_streak" in triggers else 0,
        "situation_overload": costs.situation_overload if "situation_overload" in triggers else 0,
        "pressure": costs.pressure if c.pressure else 0,
        "bluff": costs.bluff if c.bluff_risk else 0,
        "premature_close": costs.premature_close if "close_early" in triggers else 0,
    }
    for name, cost in offences.items():
        if cost:
            state.patience -= cost
            d.events.append(f"offence:{name}")


def _can_agree(persona: Persona, state: SessionState) -> bool:
    rule = persona.ending.agree_when
    return (
        state.count_at_least(1) >= rule.needs_revealed
        and state.count_at_least(3) >= rule.needs_payoff
        and state.trust >= rule.trust
        and (state.summarised or not rule.summary)
        and (state.open_objection is None or not rule.no_open_objection)
    )


def _gain(persona: Persona, state: SessionState, trust: int, patience: int = 0) -> None:
    state.trust = min(state.trust + trust, 10)
    state.patience = min(state.patience + patience, persona.patience.max)


def _discovery(persona: Persona, state: SessionState, c: Classification, text: str, lang: Lang, d: Decision) -> None:
    """A Situation, Problem, Implication or Need-payoff question."""
    spin = c.spin
    if spin == "S":
        if c.closed:
            d.say("closed", _bank(persona, "closed"), lang)
            d.events.append("closed_answer")
            return
        if state.s_streak > persona.style.situation_limit:
            d.say("situation_overload", _bank(persona, "situation_overload"), lang)
            return
        left = [i for i in range(len(persona.facts)) if i not in state.facts_given]
        chosen = next((i for i in left if _matches(persona.facts[i].keywords.get(lang), text)), None)
        if chosen is None and left:
            chosen = left[0]
        if chosen is None:
            d.say("situation_more", _bank(persona, "situation_more"), lang)
            return
        state.facts_given.append(chosen)
        d.say(f"fact.{chosen}", persona.facts[chosen].text, lang)
        d.events.append(f"fact:{chosen}")
        return
    if spin == "P":
        open_up = not c.closed or state.trust >= 2
        eligible = [n for n in persona.needs if state.stage(n.id) == 0 and state.trust >= n.min_trust]
        need = _target(eligible, text, lang, state.revealed) if open_up else None
        if need is None:
            if c.closed:
                d.say("closed", _bank(persona, "closed"), lang)
                d.events.append("closed_answer")
            else:
                d.say("problem_none", _bank(persona, "problem_none"), lang)
            return
        state.needs[need.id] = 1
        state.revealed.append(need.id)
        _gain(persona, state, persona.trust.good_question, 1)
        d.say(f"need.{need.id}.pain", need.pain, lang)
        d.events.append(f"reveal:{need.id}")
        return
    stage_from, stage_to, key = (1, 2, "implication") if spin == "I" else (2, 3, "payoff")
    ready = [n for n in persona.needs if state.stage(n.id) == stage_from]
    need = _target(ready, text, lang, state.revealed)
    if need is None:
        d.say(f"{key}_early", _bank(persona, f"{key}_early"), lang)
        d.events.append(f"{key}_early")
        return
    state.needs[need.id] = stage_to
    _gain(persona, state, persona.trust.good_question, 1)
    d.say(f"need.{need.id}.{key}", getattr(need, key), lang)
    d.events.append(f"{'imply' if spin == 'I' else 'payoff'}:{need.id}")


def _react(persona: Persona, state: SessionState, c: Classification, text: str, lang: Lang,
           monologue: bool, d: Decision) -> None:
    """The customer's answer to what the rep did when no objection takes the floor."""
    if c.close_ask or c.next_step_ask:
        if _can_agree(persona, state):
            state.status = "agreed"
            d.say("ending.agree", persona.ending.agree, lang)
            d.events.append("agree")
        else:
            state.not_yet += 1
            d.say("ending.not_yet", persona.ending.not_yet, lang)
            d.events.append("not_yet")
        return
    if c.summary:
        if state.count_at_least(1):
            state.summarised = True
            _gain(persona, state, persona.trust.summary)
            d.say("summary_confirm", _bank(persona, "summary_confirm"), lang)
            d.events.append("summary")
        else:
            d.say("summary_empty", _bank(persona, "summary_empty"), lang)
            d.events.append("summary_empty")
        return
    if c.question and c.spin is not None:
        _discovery(persona, state, c, text, lang, d)
        return
    if c.fab:
        if state.count_at_least(1):
            d.say("fab_linked", _bank(persona, "fab_linked"), lang)
            _gain(persona, state, 1)
        else:
            d.say("fab_unlinked", _bank(persona, "fab_unlinked"), lang)
        return
    for flag, bank in ((c.feature_dump, "feature_dump"), (monologue, "monologue"), (c.price_talk, "price"),
                       (c.agenda, "agenda"), (c.greeting or c.self_intro or c.thanks, "greeting")):
        if flag:
            d.say(bank, _bank(persona, bank), lang)
            return
    if c.empathy:
        _gain(persona, state, persona.trust.empathy)
        d.say("empathy", _bank(persona, "empathy"), lang)
        d.events.append("empathy")
        return
    if c.off_topic:
        d.say("off_topic", _bank(persona, "off_topic"), lang)
        return
    d.say("neutral", _bank(persona, "neutral"), lang)


def _opening(persona: Persona, state: SessionState, c: Classification, d: Decision) -> None:
    had = state.greeted and state.agenda
    if c.greeting or c.self_intro:
        state.greeted = True
    if c.agenda:
        state.agenda = True
    if state.greeted and state.agenda and not had:
        _gain(persona, state, persona.trust.opening)
        d.events.append("opening")


def _streaks(state: SessionState, c: Classification, text: str) -> None:
    if not is_discovery(classification_dict(c)):
        return
    state.closed_streak = state.closed_streak + 1 if c.closed else 0
    state.s_streak = state.s_streak + 1 if c.spin == "S" else 0
    if c.spin == "S":
        state.situation_total += 1
    state.last_question = text
    state.last_question_closed = bool(c.closed)


def decide(persona: Persona, state: SessionState, c: Classification, text: str, lang: Lang) -> Decision:
    """Update `state` for one rep turn and decide the customer's reactions."""
    d = Decision()
    folded = fold(text)
    monologue = c.word_count > persona.style.monologue(lang)
    _opening(persona, state, c, d)
    _streaks(state, c, text)
    if c.fab:  # judged on what the customer had said before this line, whatever the reaction
        linked = "fab_explicit" if state.count_at_least(3) else "fab_linked"
        d.events.append(linked if state.count_at_least(1) else "fab_unlinked")
        state.benefits += 1 if state.count_at_least(1) else 0

    handled_now = False
    if state.open_objection is not None:
        obj = persona.objection(state.open_objection)
        if obj is None:  # the persona file changed under a running session
            state.open_objection = None
        else:
            verdict = _judge(obj, c, state, persona)
            if verdict == "mishandled":
                state.patience -= persona.costs.mishandled
                state.trust -= 1
                state.objections[obj.id] = "mishandled"
                state.open_turns += 1
                d.say(f"objection.{obj.id}.mishandled", obj.mishandled or _bank(persona, "mishandled"), lang)
                d.events.append(f"mishandled:{obj.id}")
                if state.open_turns >= 2:
                    state.open_objection = None
                    d.events.append(f"dropped:{obj.id}")
                _charge(persona, state, _triggers(persona, state, c, monologue) - {"next_step", "price"}, c, d)
                return _finish(persona, state, lang, d)
            if verdict == "handled":
                state.objections[obj.id] = "handled"
                state.open_objection = None
                handled_now = True
                _gain(persona, state, 1)
                d.say(f"objection.{obj.id}.resolved", obj.resolved, lang)
                d.events.append(f"handled:{obj.id}")
            elif _courtesy(c):
                pass  # greeting, introduction or agenda: the concern stays on the table, nothing is lost
            else:
                state.open_turns += 1
                if state.open_turns < 2:
                    d.say("objection_repeat", _bank(persona, "objection_repeat"), lang)
                    d.events.append(f"ignored:{obj.id}")
                    return _finish(persona, state, lang, d)
                state.objections[obj.id] = "dropped"
                state.open_objection = None
                state.trust -= 1
                d.events.append(f"dropped:{obj.id}")

    triggers = _triggers(persona, state, c, monologue)
    _charge(persona, state, triggers, c, d)
    if state.patience <= 0 and state.warned:
        return _finish(persona, state, lang, d)
    for obj in persona.objections:
        if obj.id in state.objections or obj.trigger not in triggers:
            continue
        if obj.after is not None and obj.after not in state.objections:
            continue
        if handled_now and obj.trigger in ("next_step", "price", "fab"):
            continue  # the rep just answered one concern; the next tactic waits for the next turn
        state.objections[obj.id] = "open"
        state.open_objection = obj.id
        state.open_turns = 0
        d.say(f"objection.{obj.id}.raise", obj.raise_, lang)
        d.events.append(f"objection:{obj.id}")
        return _finish(persona, state, lang, d)
    if handled_now and not (c.question or c.next_step_ask or c.close_ask or c.summary or c.fab):
        return _finish(persona, state, lang, d)
    _react(persona, state, c, folded, lang, monologue, d)
    return _finish(persona, state, lang, d)


def _finish(persona: Persona, state: SessionState, lang: Lang, d: Decision) -> Decision:
    if state.status == "active" and state.patience <= 0 and not state.warned:
        state.patience = 1  # a customer shows impatience once before showing the rep the door
    if state.status == "active" and state.patience <= 0:
        state.status = "dismissed"
        d.parts = [("ending.dismiss", persona.ending.dismiss.get(lang))]
        d.events.append("dismiss")
    elif state.status == "active" and state.patience <= persona.patience.warn_at:
        d.say("impatient", _bank(persona, "impatient"), lang)
        d.events.append("impatient")
        state.warned = True
    return d
