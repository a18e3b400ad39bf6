"""Rep-utterance classifier: question or statement, open or closed, SPIN stage, FAB, and coaching signals.

One deterministic function, ``classify``, serves the SPIN coach, the FAB builder, the first-visit
closed-question check and the role-play engine, so that they all judge a rep's line the same way.
It is rules plus the cue lists of ``knowledge/classifier.yaml`` (a trainer extends those, not this
code): no model download, microseconds per call, and the same answer every time.

How it reads a line: normalise (full-width, Traditional, case), split into sentences, decide per
sentence whether it asks and how (particles, A-not-A, wh-words, auxiliaries, tags, invitations),
take the SPIN stage of the deepest discovery question (acceptance checks, agenda, summaries,
next-step and close asks are procedure, not discovery), and judge FAB and the signals on the
statements. A pitch with a tag ("…, right?") is a question that seeks agreement: it gets no SPIN
stage and its claim is judged like a statement (FAB, feature dump, bluff).
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Mapping
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path
from types import MappingProxyType
from typing import Annotated, Literal, get_args

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError

from bot.text.normalize import to_simplified, to_simplified_phrases

Lang = Literal["zh", "en"]
Spin = Literal["S", "P", "I", "N"]

DEFAULT_PATH = Path(__file__).resolve().parents[2] / "knowledge" / "classifier.yaml"
MAX_CHARS = 4096  # longer input is judged on its first 4096 characters (Telegram's message limit)
SIGNALS: tuple[str, ...] = (
    "greeting",
    "self_intro",
    "thanks",
    "agenda",
    "summary",
    "next_step_ask",
    "close_ask",
    "price_talk",
    "feature_dump",
    "pressure",
    "off_topic",
    "commitment_language",
    "empathy",
    "bluff_risk",
    "customer_focus",
)
_SPIN_DEPTH: dict[Spin, int] = {"S": 0, "P": 1, "I": 2, "N": 3}


class ClassifierConfigError(ValueError):
    """The cue file is malformed; the message names the file and the field."""


# --------------------------------------------------------------------------------------------------
# The cue file, validated (field names are the YAML keys)

Cue = Annotated[str, Field(min_length=1)]


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class QuestionCues(_Strict):
    wh: list[Cue]
    wh_guard: list[Cue]
    relative: list[Cue]
    closed_strong: list[Cue]
    closed_weak: list[Cue]
    tag: list[Cue]
    closed_particle: list[Cue]
    open_particle: list[Cue]
    confirm_particle: list[Cue]
    choice: list[Cue]
    indirect: list[Cue]
    indirect_open: list[Cue]
    invitation: list[Cue]
    self_invite: list[Cue]
    proposal: list[Cue]
    procedural: list[Cue]
    rep_lead: list[Cue]
    our_side: list[Cue]
    aux_start: list[Cue]
    subject: list[Cue]
    filler: list[Cue]


class SpinCues(_Strict):
    conditional: list[Cue]
    positive: list[Cue]
    negation: list[Cue]
    value: list[Cue]
    meaning: list[Cue]
    consequence: list[Cue]
    problem: list[Cue]


class FabCues(_Strict):
    feature: list[Cue]
    link: list[Cue]
    benefit: list[Cue]
    customer: list[Cue]
    frame: list[Cue]


class DumpCues(_Strict):
    subject: list[Cue]
    claim: list[Cue]


class SignalCues(_Strict):
    greeting: list[Cue]
    self_intro: list[Cue]
    thanks: list[Cue]
    agenda: list[Cue]
    agenda_purpose: list[Cue]
    agenda_time: list[Cue]
    summary: list[Cue]
    next_step: list[Cue]
    next_step_time: list[Cue]
    next_step_verb: list[Cue]
    next_step_us: list[Cue]
    close_order: list[Cue]
    close_request: list[Cue]
    close_now: list[Cue]
    close_habit: list[Cue]
    price: list[Cue]
    pressure: list[Cue]
    off_topic: list[Cue]
    commitment: list[Cue]
    empathy: list[Cue]
    bluff: list[Cue]
    customer: list[Cue]


class RewriteRule(_Strict):
    pattern: Cue
    template: Cue
    spin: Spin | None = None


class FallbackRewrites(_Strict):
    S: Cue
    P: Cue
    I: Cue
    N: Cue


class LanguageCues(_Strict):
    question: QuestionCues
    spin: SpinCues
    fab: FabCues
    dump: DumpCues
    signals: SignalCues
    rewrites: list[RewriteRule]
    fallback: FallbackRewrites


class CueFile(_Strict):
    version: Literal[1]
    zh: LanguageCues
    en: LanguageCues


# --------------------------------------------------------------------------------------------------
# Compiled form

# English word lists used token by token rather than as patterns
_WORD_SETS = (
    "question.wh",
    "question.wh_guard",
    "question.relative",
    "question.aux_start",
    "question.subject",
)
# lists that only count at the end of a sentence
_AT_END = ("question.tag", "question.closed_particle", "question.open_particle", "question.confirm_particle")


@dataclass(frozen=True, slots=True)
class Rewrite:
    pattern: re.Pattern[str]
    template: str
    spin: Spin | None


@dataclass(frozen=True, slots=True)
class LanguageRules:
    """One language's cue lists compiled to regular expressions (one alternation per list)."""

    lang: Lang
    patterns: Mapping[str, re.Pattern[str] | None]
    words: Mapping[str, frozenset[str]]
    fillers: re.Pattern[str] | None
    rewrites: tuple[Rewrite, ...]
    fallback: Mapping[Spin, str]

    def has(self, key: str, text: str) -> bool:
        pattern = self.patterns[key]
        return pattern is not None and pattern.search(text) is not None


@dataclass(frozen=True, slots=True)
class Lexicon:
    """Both languages' rules; immutable, so one instance can be shared by every caller."""

    zh: LanguageRules
    en: LanguageRules
    source: str = field(default="")

    def rules(self, lang: Lang) -> LanguageRules:
        return self.zh if lang == "zh" else self.en


_LEFT = r"(?<![a-z0-9'])"
_RIGHT = r"(?![a-z0-9])"


def _cue_regex(cue: str, lang: Lang) -> tuple[str, bool]:
    """One cue → (regex source, needs word boundaries on both sides).

    `re:` cues are used verbatim (Simplified), plain cues literally; English plain cues match whole
    words only. The boundaries are returned as a flag so that a list shares one pair of them: one
    lookbehind per position instead of one per cue keeps long English lines fast.
    """
    if cue.startswith("re:"):
        return to_simplified(cue[3:]), False
    text = _fold(cue)
    if lang == "zh":
        return re.escape(text), False
    prefix = text.endswith("*")
    core = text[:-1] if prefix else text
    body = re.escape(core) + (r"[a-z'-]*" if prefix else "")
    left, right = core[:1].isalnum(), core[-1:].isalnum() or prefix
    if left and right:
        return body, True
    return (_LEFT if left else "") + body + (_RIGHT if right else ""), False


def _alternation(cues: list[str], lang: Lang, where: str, key: str) -> str:
    bounded: list[str] = []
    free: list[str] = []
    for i, cue in enumerate(cues):
        source, needs_bounds = _cue_regex(cue, lang)
        try:
            re.compile(source)
        except re.error as exc:
            raise ClassifierConfigError(
                f"{where}: {lang}.{key}[{i}]: invalid regular expression {cue!r}: {exc}"
            ) from exc
        (bounded if needs_bounds else free).append(source)
    if bounded:
        free.insert(0, _LEFT + "(?:" + "|".join(bounded) + ")" + _RIGHT)
    return "(?:" + "|".join(free) + ")"


def _compile_list(cues: list[str], lang: Lang, where: str, key: str) -> re.Pattern[str] | None:
    if not cues:
        return None
    source = _alternation(cues, lang, where, key)
    if key in _AT_END:
        source = (r"(?:^|[,—–-])\s*" if lang == "en" and key == "question.tag" else "") + source + r"\s*$"
    return re.compile(source)


def _compile_language(cues: LanguageCues, lang: Lang, where: str) -> LanguageRules:
    patterns: dict[str, re.Pattern[str] | None] = {}
    words: dict[str, frozenset[str]] = {}
    for group_name in ("question", "spin", "fab", "dump", "signals"):
        group: BaseModel = getattr(cues, group_name)
        for name in type(group).model_fields:
            key = f"{group_name}.{name}"
            values: list[str] = getattr(group, name)
            if lang == "en" and key in _WORD_SETS:
                words[key] = frozenset(_fold(v) for v in values)
            elif key != "question.filler":
                patterns[key] = _compile_list(values, lang, where, key)
    fillers = None
    if cues.question.filler:
        alt = _alternation(cues.question.filler, lang, where, "question.filler")
        fillers = re.compile(r"^(?:" + alt + r"\.?[\s,]*)+")
    rewrites = []
    for i, rule in enumerate(cues.rewrites):
        try:
            pattern = re.compile(to_simplified(rule.pattern), re.IGNORECASE)
        except re.error as exc:
            raise ClassifierConfigError(
                f"{where}: {lang}.rewrites[{i}].pattern: invalid regular expression: {exc}"
            ) from exc
        unknown = set(re.findall(r"{(\w+)}", rule.template)) - set(pattern.groupindex)
        if unknown:
            raise ClassifierConfigError(
                f"{where}: {lang}.rewrites[{i}].template: {sorted(unknown)} are not groups of the pattern"
            )
        rewrites.append(Rewrite(pattern, rule.template, rule.spin))
    fallback: dict[Spin, str] = {s: getattr(cues.fallback, s) for s in get_args(Spin)}
    return LanguageRules(
        lang=lang,
        patterns=MappingProxyType(patterns),
        words=MappingProxyType(words),
        fillers=fillers,
        rewrites=tuple(rewrites),
        fallback=MappingProxyType(fallback),
    )


def parse_lexicon(data: object, where: str = "<data>") -> Lexicon:
    """Validate raw YAML data and compile it; errors name `where` and the offending field."""
    try:
        parsed = CueFile.model_validate(data)
    except ValidationError as exc:
        problems = "; ".join(
            f"{'.'.join(str(p) for p in err['loc']) or '(top)'}: {err['msg']}" for err in exc.errors()
        )
        raise ClassifierConfigError(f"{where}: {problems}") from exc
    return Lexicon(
        zh=_compile_language(parsed.zh, "zh", where),
        en=_compile_language(parsed.en, "en", where),
        source=where,
    )


@lru_cache(maxsize=4)
def load_lexicon(path: str | None = None) -> Lexicon:
    """Load and compile the cue file once per path (cached: the file is read at first use, not at import)."""
    file = Path(path) if path else DEFAULT_PATH
    try:
        data = yaml.safe_load(file.read_text(encoding="utf-8"))
    except OSError as exc:
        raise ClassifierConfigError(f"{file}: cannot read: {exc}") from exc
    except yaml.YAMLError as exc:
        raise ClassifierConfigError(f"{file}: not valid YAML: {exc}") from exc
    return parse_lexicon(data, str(file))


# --------------------------------------------------------------------------------------------------
# Result


@dataclass(frozen=True, slots=True)
class Classification:
    """What a rep's line does. `closed` is None for statements, `spin` None for statements and for
    procedural questions (acceptance checks, next-step or closing asks, summaries, small talk)."""

    text: str
    lang: Lang
    question: bool
    closed: bool | None
    spin: Spin | None
    fab: bool
    greeting: bool = False
    self_intro: bool = False
    thanks: bool = False
    agenda: bool = False
    summary: bool = False
    next_step_ask: bool = False
    close_ask: bool = False
    price_talk: bool = False
    feature_dump: bool = False
    pressure: bool = False
    off_topic: bool = False
    commitment_language: bool = False
    empathy: bool = False
    bluff_risk: bool = False
    customer_focus: bool = False
    word_count: int = 0

    def contract(self) -> dict[str, object]:
        """The `salescoach classify --json` line."""
        return {
            "text": self.text,
            "question": self.question,
            "closed": self.closed,
            "spin": self.spin,
            "fab": self.fab,
        }

    def signals(self) -> dict[str, bool]:
        return {name: bool(getattr(self, name)) for name in SIGNALS}


# --------------------------------------------------------------------------------------------------
# Text handling

_CJK = re.compile(r"[\u3400-\u9fff]")
_WORD = re.compile(r"[a-z0-9]+(?:'[a-z]+)?")
_LATIN_WORD = re.compile(r"[A-Za-z0-9]+(?:['’][A-Za-z]+)*")
_TERMINATOR = re.compile(r"[。!?;\n]|\.(?=\s|$)")
_ABBREVIATIONS = frozenset(
    {"mr", "mrs", "ms", "dr", "st", "no", "vs", "approx", "e.g", "i.e", "etc", "inc", "co"}
)
_SEGMENT = re.compile(r"\s*(?:[,;:、]|\s[—–-]\s|—|–)\s*")
_TRAILING = re.compile(r"[\s\"'“”‘’)\]）」』~～…]+$")
_ZH_SOFT_END = re.compile(r"(?<=[\u4e00-\u9fff])[啊呀哦啦嘛哈]+$")


def _normal(text: str) -> str:
    """NFKC + Traditional→Simplified (with Taiwan phrases) + straight apostrophes; case kept for rewrites."""
    return to_simplified_phrases(unicodedata.normalize("NFKC", text)).replace("’", "'").replace("‘", "'")


def _fold(text: str) -> str:
    return _normal(text).lower().strip()


@dataclass(frozen=True, slots=True)
class _Sentence:
    raw: str  # case kept, terminator removed
    low: str  # lower case
    qmark: bool


def _sentences(normal: str) -> list[_Sentence]:
    out: list[_Sentence] = []
    start = 0
    for m in _TERMINATOR.finditer(normal):
        if m.group() == ".":
            word = re.search(r"([A-Za-z.]+)$", normal[start : m.start()])
            if word and word.group(1).lower() in _ABBREVIATIONS:
                continue
        _add_sentence(out, normal[start : m.start()], m.group() == "?")
        start = m.end()
    _add_sentence(out, normal[start:], False)
    return out


def _add_sentence(out: list[_Sentence], chunk: str, qmark: bool) -> None:
    raw = _TRAILING.sub("", chunk.strip())
    if raw.strip(" ,.;:!?-—"):
        out.append(_Sentence(raw=raw, low=raw.lower(), qmark=qmark))
    elif qmark and out:  # "…吗??" or "? " after a sentence: the question mark belongs to it
        last = out.pop()
        out.append(_Sentence(raw=last.raw, low=last.low, qmark=True))


def _segments(text: str) -> list[str]:
    return [s for s in _SEGMENT.split(text) if s.strip()]


def detect_lang(text: str) -> Lang:
    """Chinese when CJK characters are at least as many as Latin words (mixed 'scope带宽' lines are Chinese)."""
    cjk = len(_CJK.findall(text))
    return (
        "zh"
        if cjk and cjk >= len(_LATIN_WORD.findall(text))
        else ("en" if _LATIN_WORD.search(text) else "zh")
    )


def word_count(text: str) -> int:
    """CJK characters + Latin words: comparable units for talk share across languages."""
    return len(_CJK.findall(text)) + len(_LATIN_WORD.findall(text))


# --------------------------------------------------------------------------------------------------
# Questions


@dataclass(frozen=True, slots=True)
class _QuestionForm:
    question: bool
    closed: bool | None = None
    tag: bool = False  # closed by a confirmation tag (对吧 / 吧? / …, right?): it seeks agreement


_NOT_A_QUESTION = _QuestionForm(False)
_COPULAS = frozenset({"is", "are", "was", "were"})


def _zh_form(s: _Sentence, r: LanguageRules) -> _QuestionForm:
    body = _ZH_SOFT_END.sub("", s.low)
    segments = _segments(body) or [body]
    # 不管用什么… asks nothing, unless the line carries a "?"
    live = segments if s.qmark else [seg for seg in segments if not r.has("question.wh_guard", seg)]
    wh = any(r.has("question.wh", seg) for seg in live)
    strong = any(r.has("question.closed_strong", seg) for seg in live)
    weak = any(r.has("question.closed_weak", seg) for seg in live)
    invite = r.has("question.invitation", body) and not r.has("question.self_invite", body)
    tag = r.has("question.tag", body)
    particle = r.has("question.closed_particle", body)
    confirm = s.qmark and r.has("question.confirm_particle", body)
    open_particle = r.has("question.open_particle", body)
    choice = r.has("question.choice", body)
    indirect = r.has("question.indirect", body)
    if not (
        s.qmark or tag or particle or confirm or open_particle or strong or weak or wh or invite or indirect
    ):
        return _NOT_A_QUESTION
    if not (s.qmark or tag or particle or confirm) and _timed_agenda(body, r):
        return _NOT_A_QUESTION  # 今天我想花十五分钟向您请教一下…: announcing the plan of the visit
    if r.has("question.proposal", body) and _proposes(body, r):
        return _QuestionForm(True, True)
    if invite:
        return _QuestionForm(True, False)
    if tag or confirm:
        return _QuestionForm(True, True, tag=True)
    if particle or strong or choice:
        return _QuestionForm(True, True)
    if weak and not wh:
        return _QuestionForm(True, True)
    if wh or open_particle or indirect:
        return _QuestionForm(True, False)  # 请问贵公司的采购流程… asks for an account
    return _QuestionForm(True, True)  # declarative with "?": 你们用的是安捷伦?


def _en_clause(seg: str, r: LanguageRules) -> str:
    return r.fillers.sub("", seg) if r.fillers is not None else seg


def _en_form(s: _Sentence, r: LanguageRules) -> _QuestionForm:
    body = s.low
    tag = r.has("question.tag", body)
    segments = _segments(body) or [body]
    wh_words, aux, subject = (
        r.words["question.wh"],
        r.words["question.aux_start"],
        r.words["question.subject"],
    )
    kind = ""
    first = ""
    for index in range(len(segments) - 1, -1, -1):
        clause = _en_clause(segments[index], r)
        words = _WORD.findall(clause)
        if words:
            if r.has("question.invitation", clause):
                kind = "invite"
            elif r.has("question.indirect", clause):
                embedded = any(w in wh_words for w in words) or r.has("question.indirect_open", clause)
                kind = "invite" if embedded else "aux"  # "I was wondering how…" / "…if you…"
            elif r.has("question.proposal", clause):
                kind = "proposal"
            elif words[0] in wh_words:
                relative = index > 0 and words[0] in r.words["question.relative"]
                pronoun = len(words) > 1 and words[1] in r.words["question.wh_guard"]
                # "what matters most is breakdowns": a wh-clause as the subject of a later "is" (in a
                # question a subject follows it: "what tools are you using")
                cleft = any(
                    w in _COPULAS and (i + 1 == len(words) or words[i + 1] not in subject)
                    for i, w in enumerate(words[2:], 2)
                )
                if not s.qmark and (relative or pronoun or cleft):
                    return _QuestionForm(True, True) if tag else _NOT_A_QUESTION  # "what we offer is…"
                if not relative:
                    kind, first = "wh", words[0]
            elif words[0] in aux and (s.qmark or (len(words) > 1 and words[1] in subject)):
                kind = "aux"
        if kind or not s.qmark:
            break  # without "?" only the last clause may ask ("Should you need anything, call me")
    if not (s.qmark or tag or kind):
        return _NOT_A_QUESTION
    if kind == "invite":
        return _QuestionForm(True, False)
    if tag:
        return _QuestionForm(True, True, tag=True)
    if kind == "proposal":
        return _QuestionForm(True, True)
    if kind == "wh":
        return _QuestionForm(True, first == "which" and r.has("question.choice", body))
    return _QuestionForm(True, True)


def _proposes(text: str, r: LanguageRules) -> bool:
    return _next_step(text, r) or r.has("signals.close_order", text) or r.has("signals.commitment", text)


def _next_step(text: str, r: LanguageRules) -> bool:
    """A demo, trial or visit; or a future time, a meeting verb and our side proposing it."""
    return r.has("signals.next_step", text) or (
        r.has("signals.next_step_time", text)
        and r.has("signals.next_step_verb", text)
        and r.has("signals.next_step_us", text)
    )


def _timed_agenda(text: str, r: LanguageRules) -> bool:
    """The purpose of the visit together with the time it takes (了解…需求, 就十分钟 / twenty minutes)."""
    return r.has("signals.agenda_purpose", text) and r.has("signals.agenda_time", text)


def _agenda(text: str, r: LanguageRules) -> bool:
    return r.has("signals.agenda", text) or _timed_agenda(text, r)


def _close_question(s: _Sentence, form: _QuestionForm, r: LanguageRules) -> bool:
    """Asking for the order: a yes/no ask, or an open one about our deal now (我们什么时候可以签?).

    A question about the customer's habits (你们一般什么时候下单? / How does your purchase order
    process work?) is discovery, not a close.
    """
    return (
        r.has("signals.close_order", s.low)
        and not r.has("signals.close_habit", s.low)
        and (bool(form.closed) or r.has("signals.close_now", s.low))
    )


def _claim(body: str, r: LanguageRules) -> bool:
    """A tagged pitch (…, right? / …,对吧?): a FAB, a feature dump, a bluff, or a statement about our
    side that does not speak of the customer (我们的价格是最低的 / We have 200 engineers in China)."""
    return (
        _fab(body, r)
        or _dump(body, r)
        or r.has("signals.bluff", body)
        or (r.has("question.our_side", body) and not r.has("fab.customer", body))
    )


def _untagged(text: str, r: LanguageRules) -> str:
    """The sentence without its confirmation tag ("…, right" / "…,对吧" / "…吧")."""
    body = _ZH_SOFT_END.sub("", text) if r.lang == "zh" else text
    for key in ("question.tag", "question.confirm_particle"):
        pattern = r.patterns[key]
        if pattern is not None:
            body = pattern.sub("", body)
    return body.rstrip(" ,;:—–-")


# --------------------------------------------------------------------------------------------------
# SPIN


def _procedural(s: _Sentence, form: _QuestionForm, r: LanguageRules, summary_turn: bool) -> bool:
    """Acceptance checks, next-step and closing asks, summaries and small talk are no discovery questions.

    In a turn that summarises, a tagged confirmation ("Let me make sure I understood. X, right?")
    checks the summary.
    """
    last = _en_clause(_segments(s.low)[-1], r) if r.lang == "en" and _segments(s.low) else s.low
    return (
        r.has("question.procedural", last)
        or r.has("question.procedural", s.low)
        or _next_step(s.low, r)
        or _close_question(s, form, r)
        or _agenda(s.low, r)
        or r.has("signals.summary", s.low)
        or (summary_turn and form.tag)
        or r.has("signals.off_topic", s.low)
    )


def _positive_conditional(text: str, r: LanguageRules) -> bool:
    """如果…能… / if you could…: a hypothetical improvement (need-payoff), not a feared failure."""
    pattern = r.patterns["spin.conditional"]
    if pattern is None:
        return False
    for m in pattern.finditer(text):
        clause = re.split(r"[,;:?!。]", text[m.start() :], maxsplit=1)[0]
        if r.has("spin.positive", clause) and not r.has("spin.negation", clause):
            return True
    return False


def _hoped_for_meaning(text: str, r: LanguageRules) -> bool:
    """如果全国的销售都按一套流程做,对您意味着什么? / If testing took half the time, what would that
    mean for your team?: the meaning of a hypothetical state that names no failure is its value (N);
    the meaning of a hypothetical failure (如果系统半夜死机…) is a consequence (I)."""
    pattern = r.patterns["spin.conditional"]
    if pattern is None or not r.has("spin.meaning", text):
        return False
    for m in pattern.finditer(text):
        clause = re.split(r"[,;:?!。]", text[m.start() :], maxsplit=1)[0]
        clause = r.patterns["spin.meaning"].sub(" ", clause) if r.patterns["spin.meaning"] else clause
        failing = r.has("spin.problem", clause) and not r.has("spin.positive", clause)
        if not (r.has("spin.negation", clause) or failing):
            return True
    return False


def _spin(s: _Sentence, r: LanguageRules) -> Spin:
    segments = _segments(s.low)
    while len(segments) > 1 and r.has("question.rep_lead", segments[0]):
        segments = segments[1:]  # "我们的设备能省一半时间, 您现在…?" is judged on the asking part
    core = ", ".join(segments)
    if _positive_conditional(core, r) or r.has("spin.value", core) or _hoped_for_meaning(core, r):
        return "N"
    if r.has("spin.consequence", core):
        return "I"
    if r.has("spin.problem", core):
        return "P"
    return "S"


def _deepest(stages: list[Spin]) -> Spin | None:
    best: Spin | None = None
    for stage in stages:
        if best is None or _SPIN_DEPTH[stage] > _SPIN_DEPTH[best]:
            best = stage
    return best


# --------------------------------------------------------------------------------------------------
# Statements


def _fab(text: str, r: LanguageRules) -> bool:
    """Feature linked to a customer benefit, or the FAB frame itself (…意味着…给您带来的真正利益是…).

    A guaranteed outcome (保证让你们业绩翻倍 / will definitely cut…) is a bluff, not a benefit.
    """
    if r.has("signals.bluff", text):
        return False
    return r.has("fab.frame", text) or (
        r.has("fab.feature", text)
        and r.has("fab.benefit", text)
        and (r.has("fab.link", text) or r.has("fab.customer", text))
    )


def _dump(text: str, r: LanguageRules) -> bool:
    return r.has("dump.subject", text) and r.has("dump.claim", text) and not _fab(text, r)


# --------------------------------------------------------------------------------------------------
# Entry points


@dataclass(frozen=True, slots=True)
class _Analysis:
    sentences: tuple[_Sentence, ...]
    forms: tuple[_QuestionForm, ...]
    rules: LanguageRules


def _analyse(text: str, lexicon: Lexicon | None) -> tuple[_Analysis, Lang, str]:
    lex = lexicon if lexicon is not None else load_lexicon()
    normal = _normal(text[:MAX_CHARS])
    lang = detect_lang(normal)
    rules = lex.rules(lang)
    sentences = tuple(_sentences(normal))
    form = _zh_form if lang == "zh" else _en_form
    return _Analysis(sentences, tuple(form(s, rules) for s in sentences), rules), lang, normal


def classify(text: str, lexicon: Lexicon | None = None) -> Classification:
    """Classify one rep utterance (any length; empty text is a non-question with no signals)."""
    analysis, lang, normal = _analyse(text, lexicon)
    r = analysis.rules
    low = normal.lower()
    pairs = list(zip(analysis.sentences, analysis.forms, strict=True))
    questions = [(s, f) for s, f in pairs if f.question]
    last_form = next((f for f in reversed(analysis.forms) if f.question), None)
    statements = [s.low for s, f in pairs if not f.question]
    summary_turn = r.has("signals.summary", low)
    # "您下周三有空吗?我想带技术同事过来。": the time is asked in one sentence, the visit proposed in the next
    next_step_turn = any(_next_step(s.low, r) for s, _ in pairs) or _next_step(low, r)

    discovery: list[_Sentence] = []
    rep_claims: list[str] = []  # what the rep asserts inside questions (bluffing is judged on it)
    for s, f in questions:
        body = _untagged(s.low, r) if f.tag else ""
        if body and _claim(body, r):
            statements.append(body)  # a pitch with a tag ("…, right?") seeks agreement, not facts
            continue
        segments = _segments(s.low)
        lead = ", ".join(segments[:-1])
        if lead and r.has("fab.link", lead):
            statements.append(lead)  # "这款…意味着…, 您看对您有帮助吗?" — the leading part may be a FAB
        elif lead and r.has("question.rep_lead", segments[0]):
            rep_claims.append(lead)
        if not _procedural(s, f, r, summary_turn) and not (
            next_step_turn and r.has("signals.next_step_time", s.low)
        ):
            discovery.append(s)
    # several questions in one turn: credit the deepest stage reached
    spin = _deepest([_spin(s, r) for s in discovery])
    fab = any(_fab(t, r) for t in statements)

    close_ask = any(_close_question(s, f, r) for s, f in questions) or any(
        r.has("signals.close_order", t) and r.has("signals.close_request", t) for t in statements
    )
    return Classification(
        text=text,
        lang=lang,
        question=bool(questions),
        closed=last_form.closed if last_form is not None else None,
        spin=spin,
        fab=fab,
        greeting=r.has("signals.greeting", low),
        self_intro=r.has("signals.self_intro", low),
        thanks=r.has("signals.thanks", low),
        agenda=_agenda(low, r),
        summary=r.has("signals.summary", low),
        next_step_ask=next_step_turn,
        close_ask=close_ask,
        price_talk=r.has("signals.price", low),
        feature_dump=any(_dump(t, r) for t in statements),
        pressure=r.has("signals.pressure", low),
        off_topic=r.has("signals.off_topic", low),
        commitment_language=r.has("signals.commitment", low),
        empathy=r.has("signals.empathy", low),
        bluff_risk=any(r.has("signals.bluff", t) for t in (*statements, *rep_claims)),
        customer_focus=r.has("signals.customer", low),
        word_count=word_count(text),
    )


_ZH_VOCATIVE = re.compile(
    r"^[\u4e00-\u9fff]{1,3}(?:经理|总|工|主任|老师|先生|女士|小姐|主管|科长|处长|部长|总监),\s*"
)
_EN_VOCATIVE = re.compile(r"^(?:(?:mr|mrs|ms|dr)\.?\s+[a-z]+|[a-z]+),\s+(?=[a-z])", re.IGNORECASE)


def _fill(rule: Rewrite, m: re.Match[str], lang: Lang) -> str:
    values = {}
    for name in rule.pattern.groupindex:
        value = (m.group(name) or "").strip()
        if lang == "en":
            value = re.sub(
                r"^(You|Your|The|We|Our|It|This|That|These|Those|A|An|They|Is|Are|Do|Does)\b",
                lambda w: w.group(1).lower(),
                value,
            )
            value = re.sub(r"\bprice\b(?!\s+of\b)", "pricing", value) if name == "x" else value
        values[name] = value
    out = rule.template.format_map(values)
    out = re.sub(r"\s{2,}", " ", out).replace(" ,", ",").replace(" ?", "?").strip()
    return out[:1].upper() + out[1:] if lang == "en" else out


def rewrite_closed(text: str, lang: Lang | None = None, lexicon: Lexicon | None = None) -> str | None:
    """An open rewrite of a closed discovery question, or None when there is nothing to open up.

    None for statements, open questions and procedural questions (acceptance checks, next-step and
    closing asks, summary checks, small talk): those are meant to be answered yes or no.

    `lang` is the language of the suggestion (default: the text's). Pattern rewrites keep the rep's
    topic; when none fits, a generic open question for the question's SPIN stage is suggested. A
    rewrite is only offered if it classifies as an open question itself.
    """
    lex = lexicon if lexicon is not None else load_lexicon()
    result = classify(text, lex)
    if not result.question or not result.closed or result.spin is None:
        return None  # statements, open questions, and checks that should stay closed (您看可以吗?)
    target: Lang = lang or result.lang
    rules = lex.rules(target)
    spin: Spin = result.spin or "S"
    if target == result.lang:
        analysis, _, _ = _analyse(text, lex)
        asked = [s for s, f in zip(analysis.sentences, analysis.forms, strict=True) if f.question]
        body = asked[-1].raw.strip(" ?.。!") if asked else ""
        body = _ZH_VOCATIVE.sub("", body) if target == "zh" else _EN_VOCATIVE.sub("", body)
        for rule in rules.rewrites:
            if rule.spin is not None and rule.spin != spin:
                continue
            m = rule.pattern.search(body)
            if m is None:
                continue
            candidate = _fill(rule, m, target)
            check = classify(candidate, lex)
            if check.question and check.closed is False:
                return candidate
    return rules.fallback[spin]
