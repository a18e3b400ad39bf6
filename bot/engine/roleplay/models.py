"""The persona and scorecard files as typed, frozen models.

A persona is a simulated customer written by a trainer in knowledge/personas/<id>.yaml: who they are,
what they will only tell a rep who asks good Problem and Implication questions, what makes them object,
how much patience they have, how the conversation can end, and what they say in each situation.
Every text exists in Simplified Chinese and English; banks hold several variants so the customer
never sounds like a recording.
"""

from __future__ import annotations

from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, Field, StringConstraints, model_validator

from bot.kb.models import Bilingual, Lang

Text = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=600)]
Word = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=40)]
EntryId = Annotated[str, StringConstraints(pattern=r"^[a-z][a-z0-9_]*(\.[a-z0-9_]+)+$")]
Slug = Annotated[str, StringConstraints(pattern=r"^[a-z][a-z0-9_]{1,31}$")]

BANK_MIN = 3  # variants per language in a reaction bank
LINES_MIN = 2  # variants per language for need stages, objections and facts

Trigger = Literal[
    "price_early",  # price talk before any need is known
    "price",  # any price talk (the purchaser's "never accept the first offer")
    "close_early",  # asking for the order or the next step before any need is known
    "pushy_close",  # pressure, or asking for the order again after a "not yet"
    "closed_streak",  # several closed questions in a row
    "bluff",  # absolute promises, guarantees nobody can keep
    "feature_dump",  # a list of features or a company overview nobody asked for
    "off_topic",  # small talk
    "monologue",  # a turn far longer than the customer's patience
    "situation_overload",  # situation question after situation question
    "next_step",  # any next-step or closing ask (the purchaser's "higher authority")
    "fab",  # a benefit statement (the purchaser answers value with a competitor's price)
]
Handling = Literal["open_question", "problem_question", "empathy", "fab_linked", "next_step", "summary", "question"]
Mishandling = Literal["pressure", "bluff", "close", "feature_dump", "price", "off_topic"]


class _Frozen(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid", hide_input_in_errors=True)


class Lines(_Frozen):
    """Variants of one thing the customer says, per language (at least LINES_MIN each)."""

    zh: tuple[Text, ...] = Field(min_length=LINES_MIN)
    en: tuple[Text, ...] = Field(min_length=LINES_MIN)

    def get(self, lang: Lang) -> tuple[str, ...]:
        return self.zh if lang == "zh" else self.en


class Bank(Lines):
    """A reaction bank: at least BANK_MIN variants per language."""

    zh: tuple[Text, ...] = Field(min_length=BANK_MIN)
    en: tuple[Text, ...] = Field(min_length=BANK_MIN)


class Words(_Frozen):
    """Topic words that point a question at one fact or need (matched in the normalised rep line)."""

    zh: tuple[Word, ...] = ()
    en: tuple[Word, ...] = ()

    def get(self, lang: Lang) -> tuple[str, ...]:
        return self.zh if lang == "zh" else self.en


class Background(_Frozen):
    company: Bilingual
    role: Bilingual
    situation: Bilingual
    task: Bilingual  # the rep's brief: what this practice visit should achieve


class Style(_Frozen):
    """How this customer reacts; the numbers are in classifier word units (CJK characters / words)."""

    price_first: bool = False  # the customer raises price themselves: price talk is never "too early"
    expects_fab: bool = True  # a solution visit: benefits tied to the stated needs are expected
    monologue_zh: int = Field(default=90, ge=20, le=400)
    monologue_en: int = Field(default=60, ge=10, le=300)
    situation_limit: int = Field(default=4, ge=2, le=10)  # S questions in a row before restlessness
    closed_streak: int = Field(default=3, ge=2, le=8)

    def monologue(self, lang: Lang) -> int:
        return self.monologue_zh if lang == "zh" else self.monologue_en


class Patience(_Frozen):
    start: int = Field(ge=1, le=20)
    max: int = Field(ge=1, le=30)
    warn_at: int = Field(default=2, ge=0, le=10)  # at or below: the customer shows impatience

    @model_validator(mode="after")
    def _order(self) -> Patience:
        if self.max < self.start:
            raise ValueError("max must be at least start")
        return self


class Costs(_Frozen):
    """Patience lost per offence (0 = this customer does not mind)."""

    monologue: int = Field(default=2, ge=0, le=10)
    feature_dump: int = Field(default=2, ge=0, le=10)
    off_topic: int = Field(default=1, ge=0, le=10)
    closed_streak: int = Field(default=1, ge=0, le=10)
    situation_overload: int = Field(default=1, ge=0, le=10)
    pressure: int = Field(default=2, ge=0, le=10)
    bluff: int = Field(default=2, ge=0, le=10)
    mishandled: int = Field(default=2, ge=0, le=10)
    premature_close: int = Field(default=1, ge=0, le=10)


class Trust(_Frozen):
    start: int = Field(default=0, ge=-5, le=10)
    opening: int = Field(default=1, ge=0, le=5)  # gained by greeting + agenda (a proper opening)
    good_question: int = Field(default=1, ge=0, le=5)  # gained when a need moves a stage
    summary: int = Field(default=1, ge=0, le=5)
    empathy: int = Field(default=1, ge=0, le=5)


class Fact(_Frozen):
    """An answer to a situation question; facts are given in order unless a topic word matches."""

    keywords: Words = Words()
    text: Lines


class Need(_Frozen):
    """A hidden need: a Problem question opens the pain, an Implication question on it deepens it,
    a Need-payoff question gets the customer to state the value in their own words."""

    id: Slug
    label: Bilingual  # short, for the summary and the scorecard
    keywords: Words = Words()
    min_trust: int = Field(default=0, ge=-5, le=10)
    pain: Lines
    implication: Lines
    payoff: Lines


class Objection(_Frozen):
    id: Slug
    trigger: Trigger
    after: Slug | None = None  # only once this other objection has been raised
    tip: EntryId  # the knowledge entry that teaches how to handle it
    handled_by: tuple[Handling, ...] = Field(min_length=1)
    mishandled_by: tuple[Mishandling, ...] = ("pressure", "bluff", "close", "feature_dump")
    raise_: Lines = Field(alias="raise")
    resolved: Lines
    mishandled: Lines | None = None  # falls back to the persona's `mishandled` bank


class AgreeWhen(_Frozen):
    """What must be true for the customer to accept a next step."""

    needs_revealed: int = Field(default=1, ge=0, le=10)
    needs_payoff: int = Field(default=1, ge=0, le=10)
    trust: int = Field(default=1, ge=-5, le=10)
    summary: bool = False  # the rep must have summarised first
    no_open_objection: bool = True


class Ending(_Frozen):
    agree_when: AgreeWhen
    agree: Lines  # accepts the next step: the session ends well
    not_yet: Bank  # a next-step ask that comes too early
    dismiss: Lines  # patience ran out: a polite goodbye


class Replies(_Frozen):
    """One bank per reaction of the customer."""

    greeting: Bank
    agenda: Bank
    situation_more: Bank
    situation_overload: Bank
    closed: Bank
    problem_none: Bank
    implication_early: Bank
    payoff_early: Bank
    fab_linked: Bank
    fab_unlinked: Bank
    feature_dump: Bank
    monologue: Bank
    summary_confirm: Bank
    summary_empty: Bank
    empathy: Bank
    off_topic: Bank
    price: Bank
    neutral: Bank
    impatient: Bank
    objection_repeat: Bank
    mishandled: Bank


class Coach(_Frozen):
    """Example questions for this customer, quoted by /hint and the scorecard tips."""

    S: Bilingual
    P: Bilingual
    I: Bilingual
    N: Bilingual
    summary: Bilingual
    next_step: Bilingual


class Persona(_Frozen):
    id: Slug
    kind: Literal["transactional", "consultative", "strategic", "purchaser", "first_visit",
                  "second_visit", "developer", "counter"]
    name: Bilingual  # how the customer is called in the chat, e.g. 陈总监 / Director Chen
    title: Bilingual  # the persona button, e.g. 开放进取型客户
    order: int = Field(default=50, ge=0, le=999)  # position in the /roleplay list
    background: Background
    knowledge: tuple[EntryId, ...] = Field(min_length=1)  # what to read before playing
    style: Style = Style()
    patience: Patience
    costs: Costs = Costs()
    trust: Trust = Trust()
    opener: Lines | None = None  # the customer speaks first (a resident walking up to the counter)
    opener_objection: Slug | None = None  # the opener already raises this objection (the purchaser's price)
    facts: tuple[Fact, ...] = Field(min_length=2)
    needs: tuple[Need, ...] = Field(min_length=2, max_length=5)
    objections: tuple[Objection, ...] = Field(min_length=2)
    ending: Ending
    replies: Replies
    coach: Coach

    @model_validator(mode="after")
    def _consistent(self) -> Persona:
        needs = [n.id for n in self.needs]
        if len(set(needs)) != len(needs):
            raise ValueError("needs: ids must be unique")
        objections = [o.id for o in self.objections]
        if len(set(objections)) != len(objections):
            raise ValueError("objections: ids must be unique")
        if self.opener_objection is not None:
            if self.opener is None:
                raise ValueError("opener_objection: needs an opener that raises it")
            if self.opener_objection not in objections:
                raise ValueError(f"opener_objection: names no objection of this persona ({self.opener_objection})")
        for o in self.objections:
            if o.after is not None and o.after not in objections:
                raise ValueError(f"objections: {o.id}.after names no objection of this persona ({o.after})")
            if o.after == o.id:
                raise ValueError(f"objections: {o.id}.after cannot name itself")
        if self.ending.agree_when.needs_revealed > len(self.needs):
            raise ValueError("ending.agree_when.needs_revealed: more than the persona has needs")
        if self.ending.agree_when.needs_payoff > len(self.needs):
            raise ValueError("ending.agree_when.needs_payoff: more than the persona has needs")
        return self

    def need(self, need_id: str) -> Need | None:
        return next((n for n in self.needs if n.id == need_id), None)

    def objection(self, objection_id: str) -> Objection | None:
        return next((o for o in self.objections if o.id == objection_id), None)

    def knowledge_ids(self) -> list[tuple[str, str]]:
        """(field, id) of every knowledge id the file names, for the cross-check with the knowledge base."""
        out = [(f"knowledge[{i}]", k) for i, k in enumerate(self.knowledge)]
        out += [(f"objections[{i}].tip", o.tip) for i, o in enumerate(self.objections)]
        return out


# ------------------------------------------------------------------------------------------------
# The scorecard rubric (knowledge/scorecard.yaml): weights, thresholds and the knowledge id per check.

Criterion = Literal["opening", "questioning", "spin", "listening", "fab", "objections", "summary", "next_step"]
CRITERIA: tuple[Criterion, ...] = (
    "opening", "questioning", "spin", "listening", "fab", "objections", "summary", "next_step",
)


class CheckRule(_Frozen):
    kb: EntryId  # what to read when this check fails


class CriterionRule(_Frozen):
    weight: int = Field(ge=0, le=100)
    label: Bilingual
    checks: dict[Slug, CheckRule] = Field(min_length=1)


class Thresholds(_Frozen):
    min_questions: int = Field(default=5, ge=1, le=40)  # discovery questions in a practice visit
    max_questions_per_turn: int = Field(default=3, ge=1, le=10)
    open_share: float = Field(default=0.6, ge=0, le=1)
    talk_share_max: float = Field(default=0.55, ge=0.1, le=1)
    talk_share_ideal_low: float = Field(default=0.43, ge=0, le=1)
    talk_share_ideal_high: float = Field(default=0.46, ge=0, le=1)
    situation_share_max: float = Field(default=0.5, ge=0, le=1)
    opening_turns: int = Field(default=3, ge=1, le=10)  # greeting and agenda expected this early


class Rubric(_Frozen):
    version: Literal[1]
    thresholds: Thresholds = Thresholds()
    criteria: dict[Criterion, CriterionRule]

    @model_validator(mode="after")
    def _complete(self) -> Rubric:
        missing = [c for c in CRITERIA if c not in self.criteria]
        if missing:
            raise ValueError(f"criteria: missing {', '.join(missing)}")
        if sum(c.weight for c in self.criteria.values()) != 100:
            raise ValueError("criteria: the weights must add up to 100")
        return self

    def knowledge_ids(self) -> list[tuple[str, str]]:
        return [(f"criteria.{c}.checks.{name}.kb", rule.kb)
                for c, crit in self.criteria.items() for name, rule in crit.checks.items()]
