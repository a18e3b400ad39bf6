"""The scorecard: eight criteria, each a short list of yes/no checks over the logged turns.

A criterion earns its weight times the share of its applicable checks passed, so every point can be
explained ("you asked no implication question"). The weights live in knowledge/scorecard.yaml and
follow the evidence: Implication and Need-payoff questions, and benefits tied to needs the customer
has stated, predict success in large sales (Rackham), so SPIN depth and FAB carry the most; an
open/closed ratio alone did not, so closed questions are one check among several (and a tip); the
listening checks follow call research (rep talk share about 43–46 %, questions spread through the
call, no monologues).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from bot.engine.roleplay.models import CRITERIA, Criterion, Persona, Rubric, Thresholds
from bot.engine.roleplay.state import SessionState, TurnRecord

QUOTE_CHARS = 60


@dataclass(frozen=True)
class Check:
    id: str
    passed: bool | None  # None: does not apply to this session (left out of the share)
    kb: str
    quote: str = ""  # the rep's own words the tip refers to (shortened)
    params: dict[str, Any] = field(default_factory=dict)
    full: str = ""  # the whole line, for an open rewrite of a closed question


@dataclass(frozen=True)
class CriterionScore:
    id: Criterion
    weight: int
    checks: tuple[Check, ...]

    @property
    def applicable(self) -> list[Check]:
        return [c for c in self.checks if c.passed is not None]

    @property
    def share(self) -> float:
        applicable = self.applicable
        if not applicable:
            return 1.0
        return sum(1 for c in applicable if c.passed) / len(applicable)

    @property
    def points(self) -> float:
        return self.weight * self.share

    @property
    def percent(self) -> int:
        return round(100 * self.share)

    @property
    def failed(self) -> Check | None:
        return next((c for c in self.checks if c.passed is False), None)


@dataclass(frozen=True)
class Scorecard:
    persona: str
    total: int
    criteria: dict[str, CriterionScore]
    talk_share: float
    questions: int
    needs_revealed: int
    needs_explicit: int
    needs_total: int
    outcome: str
    turns: int

    def as_json(self, tips: dict[str, tuple[str, str]] | None = None) -> dict[str, Any]:
        """The `--json` score: total and, per criterion, points, weight, the checks and the tip."""
        out: dict[str, Any] = {}
        for name, crit in self.criteria.items():
            item: dict[str, Any] = {
                "score": round(crit.points), "max": crit.weight, "percent": crit.percent,
                "checks": {c.id: c.passed for c in crit.checks},
            }
            if tips and name in tips:
                item["tip"], item["kb"] = tips[name]
            out[name] = item
        return {"total": self.total, "criteria": out, "talk_share": round(self.talk_share, 3),
                "questions": self.questions, "needs_revealed": self.needs_revealed,
                "needs_explicit": self.needs_explicit, "needs_total": self.needs_total,
                "outcome": self.outcome, "turns": self.turns}


def quote(text: str) -> str:
    text = " ".join(text.split()).rstrip("。.")
    return text if len(text) <= QUOTE_CHARS else text[: QUOTE_CHARS - 1] + "…"


@dataclass
class _Ctx:
    persona: Persona
    state: SessionState
    turns: list[TurnRecord]
    th: Thresholds

    @property
    def discovery(self) -> list[TurnRecord]:
        return [t for t in self.turns if t.discovery]

    def first(self, pred: Callable[[TurnRecord], bool]) -> TurnRecord | None:
        return next((t for t in self.turns if pred(t)), None)

    def last(self, pred: Callable[[TurnRecord], bool]) -> TurnRecord | None:
        return next((t for t in reversed(self.turns) if pred(t)), None)

    def before(self, turn: TurnRecord | None, pred: Callable[[TurnRecord], bool]) -> bool:
        """Did something matching `pred` happen before `turn` (or at all, if turn is None)?"""
        limit = turn.n if turn is not None else 10**9
        return any(pred(t) for t in self.turns if t.n < limit)

    def opening_window(self) -> list[TurnRecord]:
        return self.turns[: self.th.opening_turns]

    def revealed_at(self, t: TurnRecord) -> bool:
        return t.event("reveal")


Result = tuple[bool | None, TurnRecord | None, dict[str, Any]]
CheckFn = Callable[[_Ctx], Result]


def _text(t: TurnRecord | None) -> str:
    return quote(t.rep) if t is not None else ""


def _any_ask(t: TurnRecord) -> bool:
    return t.has("next_step_ask") or t.has("close_ask")


def _pitch(ctx: _Ctx, t: TurnRecord) -> bool:
    price = t.has("price_talk") and not ctx.persona.style.price_first
    return t.has("feature_dump") or price or t.has("close_ask")


# ----- opening --------------------------------------------------------------------------------------
def _greeted(ctx: _Ctx) -> Result:
    hit = next((t for t in ctx.opening_window() if t.has("greeting") or t.has("self_intro")), None)
    return hit is not None, hit or (ctx.turns[0] if ctx.turns else None), {}


def _introduced(ctx: _Ctx) -> Result:
    hit = next((t for t in ctx.opening_window() if t.has("self_intro") or t.has("thanks")), None)
    return hit is not None, hit or (ctx.turns[0] if ctx.turns else None), {}


def _agenda(ctx: _Ctx) -> Result:
    hit = next((t for t in ctx.opening_window() if t.has("agenda")), None)
    return hit is not None, hit or (ctx.turns[0] if ctx.turns else None), {}


def _acceptance(ctx: _Ctx) -> Result:
    agenda = ctx.first(lambda t: t.has("agenda"))
    if agenda is None:
        return False, ctx.turns[0] if ctx.turns else None, {}
    return bool(agenda.cls.get("question")), agenda, {}


def _no_early_pitch(ctx: _Ctx) -> Result:
    first_q = ctx.first(lambda t: t.discovery)
    pitch = next((t for t in ctx.turns if (first_q is None or t.n < first_q.n) and _pitch(ctx, t)), None)
    return pitch is None, pitch, {}


# ----- questioning -----------------------------------------------------------------------------------
def _enough_questions(ctx: _Ctx) -> Result:
    n = len(ctx.discovery)
    return n >= ctx.th.min_questions, ctx.last(lambda t: t.discovery), {"n": n, "min": ctx.th.min_questions}


def _mostly_open(ctx: _Ctx) -> Result:
    qs = ctx.discovery
    if not qs:
        return False, ctx.turns[0] if ctx.turns else None, {"share": 0}
    share = sum(1 for t in qs if not t.closed) / len(qs)
    closed = next((t for t in qs if t.closed), None)
    return share >= ctx.th.open_share, closed, {"share": round(100 * share)}


def _no_closed_streak(ctx: _Ctx) -> Result:
    run, worst = 0, None
    limit = ctx.persona.style.closed_streak
    for t in ctx.turns:
        if not t.discovery:
            continue
        run = run + 1 if t.closed else 0
        if run >= limit and worst is None:
            worst = t
    return worst is None, worst, {"n": limit}


def _broad_to_narrow(ctx: _Ctx) -> Result:
    first = ctx.first(lambda t: t.discovery)
    if first is None:
        return False, ctx.turns[0] if ctx.turns else None, {}
    return not first.closed, first, {}


def _spread(ctx: _Ctx) -> Result:
    if not ctx.turns:
        return False, None, {}
    half = (len(ctx.turns) + 1) // 2
    early = any(t.discovery for t in ctx.turns[:half])
    late = any(t.discovery for t in ctx.turns[half:]) or len(ctx.turns) < 4
    gap = next((t for t in (ctx.turns[half:] if early else ctx.turns[:half]) if not t.discovery), None)
    return early and late, gap, {}


# ----- SPIN ------------------------------------------------------------------------------------------
def _asked(stage: str) -> CheckFn:
    def check(ctx: _Ctx) -> Result:
        hit = ctx.first(lambda t: t.discovery and t.spin == stage)
        shallower = {"P": "S", "I": "P", "N": "I"}.get(stage, "S")
        anchor = ctx.last(lambda t: t.discovery and t.spin == shallower) or ctx.last(lambda t: t.discovery)
        return hit is not None, hit or anchor, {}
    return check


def _uncovered(ctx: _Ctx) -> Result:
    hit = ctx.first(lambda t: t.event("reveal"))
    anchor = ctx.last(lambda t: t.discovery and t.spin == "P") or ctx.last(lambda t: t.discovery)
    return hit is not None, hit or anchor, {}


def _explicit(ctx: _Ctx) -> Result:
    hit = ctx.first(lambda t: t.event("payoff"))
    anchor = ctx.last(lambda t: t.event("imply")) or ctx.last(lambda t: t.discovery)
    return hit is not None, hit or anchor, {}


def _situation_balance(ctx: _Ctx) -> Result:
    qs = ctx.discovery
    if not qs:
        return False, ctx.turns[0] if ctx.turns else None, {"n": 0, "share": 0}
    s = [t for t in qs if t.spin == "S"]
    share = len(s) / len(qs)
    return share <= ctx.th.situation_share_max, (s[-1] if s else None), {"n": len(s), "share": round(100 * share)}


def _implication_on_pain(ctx: _Ctx) -> Result:
    first_i = ctx.first(lambda t: t.discovery and t.spin == "I")
    if first_i is None:
        return None, None, {}
    early = ctx.first(lambda t: t.event("implication_early"))
    return early is None, early or first_i, {}


# ----- listening -------------------------------------------------------------------------------------
def talk_share(turns: list[TurnRecord]) -> float:
    rep = sum(t.words for t in turns)
    customer = sum(t.customer_words for t in turns)
    return rep / (rep + customer) if rep + customer else 0.0


def _talk_share(ctx: _Ctx) -> Result:
    share = talk_share(ctx.turns)
    longest = max(ctx.turns, key=lambda t: t.words, default=None)
    return share <= ctx.th.talk_share_max, longest, {
        "share": round(100 * share), "low": round(100 * ctx.th.talk_share_ideal_low),
        "high": round(100 * ctx.th.talk_share_ideal_high)}


def _no_monologue(ctx: _Ctx) -> Result:
    limit = ctx.persona.style
    long = [t for t in ctx.turns if t.words > limit.monologue("en" if t.lang == "en" else "zh")]
    worst = max(long, key=lambda t: t.words, default=None)
    return worst is None, worst, {"words": worst.words if worst else 0}


def _no_feature_dump(ctx: _Ctx) -> Result:
    hit = ctx.first(lambda t: t.has("feature_dump"))
    return hit is None, hit, {}


def _acknowledged(ctx: _Ctx) -> Result:
    hit = ctx.first(lambda t: t.has("empathy") or t.has("summary"))
    anchor = ctx.first(lambda t: t.event("reveal"))
    return hit is not None, hit or anchor or (ctx.turns[-1] if ctx.turns else None), {}


def _on_topic(ctx: _Ctx) -> Result:
    off = [t for t in ctx.turns if t.has("off_topic")]
    return len(off) <= 1, off[-1] if off else None, {"n": len(off)}


# ----- FAB -------------------------------------------------------------------------------------------
def _fab_turns(ctx: _Ctx) -> list[TurnRecord]:
    return [t for t in ctx.turns if t.has("fab")]


def _pitched(ctx: _Ctx) -> bool:
    """Product talk happened: a benefit statement or a feature list (a first visit needs neither)."""
    return bool(_fab_turns(ctx)) or any(t.has("feature_dump") for t in ctx.turns)


def _presented_benefit(ctx: _Ctx) -> Result:
    fabs = _fab_turns(ctx)
    if not _pitched(ctx) and not ctx.persona.style.expects_fab:
        return None, None, {}
    anchor = ctx.first(lambda t: t.has("feature_dump")) or ctx.last(lambda t: t.event("payoff"))
    return bool(fabs), fabs[0] if fabs else anchor, {}


def _benefit_after_need(ctx: _Ctx) -> Result:
    early = ctx.first(lambda t: t.event("fab_unlinked"))
    if not _fab_turns(ctx):
        return None, None, {}
    return early is None, early, {}


def _tied_to_explicit(ctx: _Ctx) -> Result:
    fabs = _fab_turns(ctx)
    if not _pitched(ctx) and not ctx.persona.style.expects_fab:
        return None, None, {}
    hit = ctx.first(lambda t: t.event("fab_explicit"))
    return hit is not None, hit or (fabs[0] if fabs else ctx.last(lambda t: t.event("payoff"))), {}


def _customer_words(ctx: _Ctx) -> Result:
    fabs = _fab_turns(ctx)
    if not fabs:
        return None, None, {}
    miss = next((t for t in fabs if not t.has("customer_focus")), None)
    return miss is None, miss, {}


# ----- objections ------------------------------------------------------------------------------------
def _handled_all(ctx: _Ctx) -> Result:
    raised = [t for t in ctx.turns if t.event("objection")]
    if not raised:
        return None, None, {}
    open_ids = [k for k, v in ctx.state.objections.items() if v != "handled"]
    after = None
    if open_ids:
        raised_at = next(t for t in ctx.turns if any(e == f"objection:{open_ids[0]}" for e in t.events))
        after = next((t for t in ctx.turns if t.n == raised_at.n + 1), None) or raised_at
        obj = ctx.persona.objection(open_ids[0])
        return False, after, {"kb": obj.tip if obj else None, "objection": open_ids[0]}
    return True, raised[0], {}


def _no_bluff(ctx: _Ctx) -> Result:
    hit = ctx.first(lambda t: t.has("bluff_risk"))
    return hit is None, hit, {}


def _no_pressure(ctx: _Ctx) -> Result:
    hit = ctx.first(lambda t: t.has("pressure"))
    return hit is None, hit, {}


def _price_in_time(ctx: _Ctx) -> Result:
    if ctx.persona.style.price_first:
        return None, None, {}
    hit = ctx.first(lambda t: t.has("price_talk") and not ctx.before(t, lambda u: u.event("reveal"))
                    and not t.event("reveal"))
    return hit is None, hit, {}


# ----- summary ---------------------------------------------------------------------------------------
def _summarised(ctx: _Ctx) -> Result:
    hit = ctx.first(lambda t: t.has("summary"))
    anchor = ctx.last(lambda t: t.event("reveal") or t.event("imply") or t.event("payoff"))
    return hit is not None, hit or anchor, {}


def _summary_after_needs(ctx: _Ctx) -> Result:
    hit = ctx.first(lambda t: t.event("summary"))
    empty = ctx.first(lambda t: t.event("summary_empty"))
    return hit is not None, hit or empty or ctx.first(_any_ask), {}


def _summary_before_close(ctx: _Ctx) -> Result:
    ask = ctx.first(_any_ask)
    summary = ctx.first(lambda t: t.has("summary"))
    if summary is None:
        return False, ask, {}
    if ask is None:
        return None, None, {}
    return summary.n < ask.n, ask, {}


def _confirmed(ctx: _Ctx) -> Result:
    summary = ctx.first(lambda t: t.has("summary"))
    if summary is None:
        return False, None, {}
    return bool(summary.cls.get("question")), summary, {}


# ----- next step -------------------------------------------------------------------------------------
def _asked_next(ctx: _Ctx) -> Result:
    hit = ctx.first(lambda t: t.has("next_step_ask"))
    close = ctx.first(lambda t: t.has("close_ask"))
    return hit is not None or close is not None, hit or close or (ctx.turns[-1] if ctx.turns else None), {}


def _ask_after_needs(ctx: _Ctx) -> Result:
    ask = ctx.first(_any_ask)
    if ask is None:
        return False, ctx.turns[-1] if ctx.turns else None, {}
    ok = ctx.before(ask, lambda t: t.event("reveal"))
    return ok, ask, {}


def _not_pushy(ctx: _Ctx) -> Result:
    hit = ctx.first(lambda t: t.has("pressure") or (t.has("close_ask") and ctx.before(t, lambda u: u.event("not_yet"))))
    return hit is None, hit, {}


def _agreed(ctx: _Ctx) -> Result:
    ask = ctx.last(_any_ask)
    return ctx.state.status == "agreed", ask or (ctx.turns[-1] if ctx.turns else None), {}


CHECKS: dict[Criterion, tuple[tuple[str, CheckFn], ...]] = {
    "opening": (("greeted", _greeted), ("introduced", _introduced), ("agenda", _agenda),
                ("acceptance", _acceptance), ("no_early_pitch", _no_early_pitch)),
    "questioning": (("enough_questions", _enough_questions), ("mostly_open", _mostly_open),
                    ("no_closed_streak", _no_closed_streak), ("broad_to_narrow", _broad_to_narrow),
                    ("spread", _spread)),
    "spin": (("asked_problem", _asked("P")), ("asked_implication", _asked("I")),
             ("asked_need_payoff", _asked("N")), ("uncovered_need", _uncovered), ("explicit_need", _explicit),
             ("situation_balance", _situation_balance), ("implication_on_pain", _implication_on_pain)),
    "listening": (("talk_share", _talk_share), ("no_monologue", _no_monologue),
                  ("no_feature_dump", _no_feature_dump), ("acknowledged", _acknowledged), ("on_topic", _on_topic)),
    "fab": (("presented_benefit", _presented_benefit), ("benefit_after_need", _benefit_after_need),
            ("tied_to_explicit", _tied_to_explicit), ("customer_words", _customer_words)),
    "objections": (("handled_all", _handled_all), ("no_bluff", _no_bluff), ("no_pressure", _no_pressure),
                   ("price_in_time", _price_in_time)),
    "summary": (("summarised", _summarised), ("summary_after_needs", _summary_after_needs),
                ("summary_before_close", _summary_before_close), ("confirmed", _confirmed)),
    "next_step": (("asked_next_step", _asked_next), ("ask_after_needs", _ask_after_needs),
                  ("not_pushy", _not_pushy), ("agreed", _agreed)),
}
CHECK_IDS: dict[Criterion, tuple[str, ...]] = {c: tuple(name for name, _ in fns) for c, fns in CHECKS.items()}


def score(persona: Persona, rubric: Rubric, state: SessionState, turns: list[TurnRecord]) -> Scorecard:
    """The scorecard of a session (finished or not) from its logged turns."""
    ctx = _Ctx(persona, state, turns, rubric.thresholds)
    criteria: dict[str, CriterionScore] = {}
    for criterion in CRITERIA:
        rule = rubric.criteria[criterion]
        checks = []
        for name, fn in CHECKS[criterion]:
            passed, turn, params = fn(ctx)
            kb = params.pop("kb", None) or rule.checks[name].kb
            checks.append(Check(name, passed, kb, _text(turn), params, turn.rep if turn else ""))
        criteria[criterion] = CriterionScore(criterion, rule.weight, tuple(checks))
    total = round(sum(c.points for c in criteria.values()))
    outcome = state.status if state.status in ("agreed", "dismissed") else "ended"
    return Scorecard(
        persona=persona.id, total=max(0, min(100, total)), criteria=criteria, talk_share=talk_share(turns),
        questions=len(ctx.discovery), needs_revealed=state.count_at_least(1),
        needs_explicit=state.count_at_least(3), needs_total=len(persona.needs), outcome=outcome, turns=len(turns),
    )
