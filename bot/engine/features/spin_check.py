"""Judging SPIN question drafts: each draft is classified and compared with the stage it was written
for, so the rep learns *why* a question does or does not do its job (pure functions, no I/O)."""

from __future__ import annotations

import itertools
import re
from dataclasses import dataclass
from typing import Any

from bot.engine.classifier import Spin, classify, rewrite_closed
from bot.engine.features.cues import Cues
from bot.engine.i18n import Messages
from bot.text.normalize import fold

STAGES: tuple[Spin, ...] = ("S", "P", "I", "N")
STEP_STAGE: dict[str, Spin] = {"situation": "S", "problem": "P", "implication": "I", "need_payoff": "N"}
"""Which SPIN stage each list step of knowledge/flows/spin.yaml collects."""
SITUATION_LIMIT = 3  # Rackham: successful sellers ask few situation questions

# issue codes, most serious first
NOT_QUESTION, PITCH, PROCEDURAL, WRONG, NO_PROBLEM, CLOSED = (
    "not_question", "pitch", "procedural", "wrong", "no_problem", "closed",
)

_ZH_COMMON = set("您你们的是什么怎么样哪些这那个会有对吗呢了在和与及到目前现在能可以一下如果要就都也还对于方面")
_EN_STOP = frozenset(
    ["what", "which", "does", "have", "your", "with", "that", "this", "there", "would", "could", "about", "when", "where", "how", "many", "much", "affect", "impact", "happen", "happens", "into", "from", "they", "them", "their", "these", "those", "been", "being", "were", "will", "just", "more", "most", "like", "some", "other", "than", "then", "also", "only", "very", "does", "doesn't", "isn't", "aren't"]
)


@dataclass(frozen=True)
class DraftReview:
    text: str
    expected: Spin
    question: bool
    closed: bool
    spin: Spin | None
    rewrite: str | None
    issues: tuple[str, ...]

    @property
    def open(self) -> bool:
        return self.question and not self.closed

    @property
    def matched(self) -> bool:
        return self.spin == self.expected and PITCH not in self.issues


def _zh_terms(text: str) -> set[str]:
    chars = [c for c in fold(text) if "\u4e00" <= c <= "\u9fff"]
    return {a + b for a, b in itertools.pairwise(chars) if a not in _ZH_COMMON and b not in _ZH_COMMON}


def _en_terms(text: str) -> set[str]:
    return {w for w in re.findall(r"[a-z][a-z'-]+", fold(text)) if len(w) >= 4 and w not in _EN_STOP}


def builds_on_problem(text: str, lang: str, problems: list[str], cues: Cues) -> bool:
    """An Implication question names a problem itself, or takes up the words of a Problem question."""
    if cues.has("en" if lang == "en" else "zh", "problem", text):
        return True
    terms = _en_terms if lang == "en" else _zh_terms
    mine = terms(text)
    return any(mine & terms(p) for p in problems)


def review_draft(text: str, expected: Spin, problems: list[str], cues: Cues) -> DraftReview:
    """Classify one draft and list what keeps it from being a good `expected` question."""
    c = classify(text)
    lang = c.lang
    issues: list[str] = []
    closed = bool(c.question and c.closed)
    rewrite = None
    pitch = cues.has(lang, "pitch", text) or c.fab or c.feature_dump or c.close_ask or c.pressure or c.price_talk
    if not c.question:
        issues.append(NOT_QUESTION)
    elif pitch:
        issues.append(PITCH)
    elif c.spin is None:
        issues.append(PROCEDURAL)
    else:
        if c.spin != expected:
            issues.append(WRONG)
        if expected == "I" and not builds_on_problem(text, lang, problems, cues):
            issues.append(NO_PROBLEM)
        if closed:
            issues.append(CLOSED)
            rewrite = rewrite_closed(text)
    return DraftReview(text=text, expected=expected, question=c.question, closed=closed, spin=c.spin,
                       rewrite=rewrite, issues=tuple(issues))


def _quote(lang: str, text: str) -> str:
    return f"「{text}」" if lang == "zh" else f"“{text}”"


def draft_note(t: Messages, lang: str, review: DraftReview) -> str:
    """One line of coaching on one draft, in the rep's language."""
    stage = t(lang, f"spin_stage_{review.expected}")
    parts: list[str] = []
    for issue in review.issues:
        if issue == NOT_QUESTION:
            parts.append(t(lang, "spin_note_not_question"))
        elif issue == PITCH:
            parts.append(t(lang, "spin_note_pitch_n" if review.expected == "N" else "spin_note_pitch"))
        elif issue == PROCEDURAL:
            parts.append(t(lang, "spin_note_procedural"))
        elif issue == WRONG and review.spin is not None:
            parts.append(t(lang, "spin_note_wrong", actual=t(lang, f"spin_a_stage_{review.spin}"),
                           expected=t(lang, f"spin_a_stage_{review.expected}"),
                           hint=t(lang, f"spin_hint_{review.expected}")))
        elif issue == NO_PROBLEM:
            parts.append(t(lang, "spin_note_no_problem"))
        elif issue == CLOSED:
            if review.rewrite:
                parts.append(t(lang, "spin_note_closed", rewrite=_quote(lang, review.rewrite)))
            else:
                parts.append(t(lang, "spin_note_closed_generic"))
    if not parts:
        parts.append(t(lang, "spin_note_ok", stage=stage))
    return f"{_quote(lang, review.text)} " + " ".join(parts)


def check_new_drafts(t: Messages, cues: Cues, lang: str, step_id: str, new: list[str],
                     slots: dict[str, Any]) -> list[str]:
    """The coaching note on drafts just added to a SPIN list step (one message for all of them)."""
    expected = STEP_STAGE.get(step_id)
    if expected is None or not new:
        return []
    problems = _drafts(slots, "problem")
    lines = [t(lang, "spin_note_header", group=t(lang, f"spin_group_{expected}"))]
    for text in new:
        review = review_draft(str(text), expected, problems, cues)
        mark = "✔" if not review.issues else "✏️"
        lines.append(f"{mark} {draft_note(t, lang, review)}")
    if expected == "S":
        total = len(_drafts(slots, "situation"))
        if total > SITUATION_LIMIT >= total - len(new):
            lines.append(t(lang, "spin_note_too_many_s", n=total, limit=SITUATION_LIMIT))
    return ["\n".join(lines)]


def _drafts(slots: dict[str, Any], step_id: str) -> list[str]:
    """The questions of a step: the list in progress if it is being written, else the saved one."""
    draft = slots.get(f"_{step_id}_draft")
    value = draft if draft else slots.get(step_id)
    return [str(v) for v in value] if isinstance(value, list) else []


@dataclass(frozen=True)
class PlanQuality:
    reviews: tuple[DraftReview, ...]

    @property
    def total(self) -> int:
        return len(self.reviews)

    @property
    def open_count(self) -> int:
        return sum(r.open for r in self.reviews)

    @property
    def matched(self) -> int:
        return sum(r.matched for r in self.reviews)

    @property
    def covered(self) -> list[Spin]:
        return [s for s in STAGES if any(r.expected == s and r.matched for r in self.reviews)]

    def count(self, stage: Spin) -> int:
        return sum(r.expected == stage for r in self.reviews)


def review_plan(answers: dict[str, Any], cues: Cues) -> PlanQuality:
    problems = _drafts(answers, "problem")
    reviews = [review_draft(text, stage, problems, cues)
               for step_id, stage in STEP_STAGE.items() for text in _drafts(answers, step_id)]
    return PlanQuality(tuple(reviews))


MAX_FIXES = 3


def quality_summary(t: Messages, lang: str, quality: PlanQuality) -> str:
    """The short quality report after a plan is saved or recalled."""
    labels = [t(lang, f"spin_stage_{s}") for s in quality.covered]
    missing = [t(lang, f"spin_stage_{s}") for s in STAGES if s not in quality.covered]
    sep = "、" if lang == "zh" else ", "
    lines = [t(lang, "spin_quality", total=quality.total, open=quality.open_count, matched=quality.matched,
               covered=len(quality.covered), labels=sep.join(labels))]
    if missing:
        lines.append(t(lang, "spin_quality_missing", labels=sep.join(missing)))
    if quality.count("S") > SITUATION_LIMIT:
        lines.append(t(lang, "spin_quality_too_many_s", n=quality.count("S"), limit=SITUATION_LIMIT))
    fixes = [r for r in quality.reviews if r.issues][:MAX_FIXES]
    if fixes:
        lines.append(t(lang, "spin_quality_fix_header"))
        lines += [f"• {draft_note(t, lang, r)}" for r in fixes]
    else:
        lines.append(t(lang, "spin_quality_all_good"))
    lines.append(t(lang, "spin_quality_tip"))
    return "\n".join(lines)
