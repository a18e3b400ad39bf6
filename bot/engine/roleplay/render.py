"""Role-play texts for the chat and the terminal: the briefing, the customer's lines, hints and the
scorecard with one tip per criterion (wording in scripts_talk/messages/*/roleplay.yaml)."""

from __future__ import annotations

from bot.engine.classifier import rewrite_closed
from bot.engine.i18n import Messages
from bot.engine.roleplay.hints import Hint
from bot.engine.roleplay.models import Persona, Rubric
from bot.engine.roleplay.scoring import Check, CriterionScore, Scorecard
from bot.kb.models import Lang

MAX_KB_BUTTONS = 3


def briefing(t: Messages, persona: Persona, lang: Lang) -> str:
    bg = persona.background
    return t(lang, "rp_briefing", name=persona.name.get(lang), title=persona.title.get(lang),
             company=bg.company.get(lang), role=bg.role.get(lang), situation=bg.situation.get(lang),
             task=bg.task.get(lang))


def customer_line(t: Messages, persona: Persona, lang: Lang, line: str) -> str:
    return t(lang, "rp_customer_says", name=persona.name.get(lang), line=line)


def hint_text(t: Messages, h: Hint, lang: Lang) -> str:
    return t(lang, f"rp_hint_{h.key}", **h.params) + "\n" + t(lang, "rp_read", kb=h.kb)


def tip(t: Messages, persona: Persona, crit: CriterionScore, lang: Lang) -> tuple[str, str]:
    """(tip text, knowledge id) for one criterion: the first failed check, or what went well."""
    check: Check | None = crit.failed
    coach = persona.coach
    examples = {"example_s": coach.S.get(lang), "example_p": coach.P.get(lang), "example_i": coach.I.get(lang),
                "example_n": coach.N.get(lang), "example_summary": coach.summary.get(lang),
                "example_next": coach.next_step.get(lang)}
    if check is None:
        best = next((c for c in crit.checks if c.passed and c.quote), None)
        kb = crit.checks[0].kb
        return t(lang, f"rp_good_{crit.id}", quote=best.quote if best else "", **examples), kb
    better = rewrite_closed(check.full, lang) if check.full else None
    return t(lang, f"rp_tip_{check.id}", quote=check.quote, better=better or "", **examples, **check.params), check.kb


def tips(t: Messages, persona: Persona, card: Scorecard, lang: Lang) -> dict[str, tuple[str, str]]:
    return {name: tip(t, persona, crit, lang) for name, crit in card.criteria.items()}


def _marks(crit: CriterionScore) -> str:
    return "".join("✔" if c.passed else ("✘" if c.passed is False else "·") for c in crit.checks)


def scorecard_text(t: Messages, persona: Persona, rubric: Rubric, card: Scorecard, lang: Lang) -> str:
    lines = [
        t(lang, "rp_card_header", name=persona.name.get(lang), title=persona.title.get(lang)),
        t(lang, f"rp_outcome_{card.outcome}"),
        t(lang, "rp_card_total", total=card.total),
        t(lang, "rp_card_figures", share=round(100 * card.talk_share),
          low=round(100 * rubric.thresholds.talk_share_ideal_low),
          high=round(100 * rubric.thresholds.talk_share_ideal_high), questions=card.questions,
          revealed=card.needs_revealed, explicit=card.needs_explicit, needs=card.needs_total, turns=card.turns),
        "",
    ]
    advice = tips(t, persona, card, lang)
    for name, crit in card.criteria.items():
        label = rubric.criteria[crit.id].label.get(lang)
        lines.append(f"{label} {round(crit.points)}/{crit.weight}  {_marks(crit)}")
        text, kb = advice[name]
        lines.append(f"   💡 {text} 📘 {kb}")
    return "\n".join(lines)


def kb_to_read(card: Scorecard) -> list[str]:
    """Knowledge ids of the failed checks, heaviest criteria first, without repeats."""
    out: list[str] = []
    for crit in sorted(card.criteria.values(), key=lambda c: c.weight * (1 - c.share), reverse=True):
        check = crit.failed
        if check is not None and check.kb not in out:
            out.append(check.kb)
    return out[:MAX_KB_BUTTONS]
