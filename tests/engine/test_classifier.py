"""The rep-utterance classifier: accuracy on labelled sets, rewrites, robustness, cue-file validation, CLI.

Accuracy is measured on our own labelled set (written before the rules were tuned), the field set
(misreadings reported from use plus variations of the same families, written before the rules were
changed for them), two held-out sets written after tuning ended (the honest figures; the first one
lost its blindness when five of its misses were reported from the field and fixed), and the public
sample beside the repo. Figures are printed (visible with -s) and repeated in the terminal summary.
"""

from __future__ import annotations

import io
import json
import time
from collections.abc import Callable
from dataclasses import FrozenInstanceError, dataclass, field
from pathlib import Path
from typing import Any

import pytest
import yaml

from bot.engine.classifier import (
    DEFAULT_PATH,
    SIGNALS,
    Classification,
    ClassifierConfigError,
    Lexicon,
    classify,
    load_lexicon,
    parse_lexicon,
    rewrite_closed,
)
from bot.engine.classify_cli import main as cli_main
from bot.engine.classify_cli import run_classify
from bot.text.normalize import to_simplified

DATA = Path(__file__).resolve().parent / "data"
LABELLED = DATA / "classify_labelled.tsv"
HELDOUT = DATA / "classify_heldout.tsv"
FIELD = DATA / "classify_field.tsv"
HELDOUT2 = DATA / "classify_heldout2.tsv"
SAMPLE = Path(__file__).resolve().parents[2].parent / "shared" / "eval" / "classify_sample.tsv"
FIELDS = ("question", "closed", "spin", "fab")
LABELLED_SIGNALS = tuple(s for s in SIGNALS if s != "customer_focus")


# --------------------------------------------------------------------------------------------------
# Labelled data and scoring


@dataclass(frozen=True)
class Case:
    text: str
    expected: dict[str, str]  # field → "y"/"n"/"-"/"S"… as written in the file
    lang: str | None = None
    signals: frozenset[str] | None = None  # None: the file does not label signals


def read_cases(path: Path) -> list[Case]:
    cases = []
    for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1):
        if not line.strip() or line.startswith("#"):
            continue
        cols = line.split("\t")
        assert len(cols) in (5, 7), f"{path.name}:{number}: expected 5 or 7 columns, got {len(cols)}"
        signals = None
        if len(cols) == 7:
            signals = frozenset() if cols[6] == "-" else frozenset(cols[6].split(","))
            assert signals <= set(LABELLED_SIGNALS), f"{path.name}:{number}: unknown signal {signals}"
        cases.append(
            Case(
                cols[0],
                dict(zip(FIELDS, cols[1:5], strict=True)),
                cols[5] if len(cols) == 7 else None,
                signals,
            )
        )
    return cases


def observed(c: Classification) -> dict[str, str]:
    return {
        "question": "y" if c.question else "n",
        "closed": "-" if c.closed is None else ("y" if c.closed else "n"),
        "spin": c.spin or "-",
        "fab": "y" if c.fab else "n",
    }


@dataclass
class Score:
    name: str
    total: int = 0
    hits: dict[str, int] = field(default_factory=dict)
    misses: list[str] = field(default_factory=list)

    def add(self, key: str, ok: bool, text: str, got: object, want: object) -> None:
        self.hits[key] = self.hits.get(key, 0) + int(ok)
        if not ok:
            self.misses.append(f"{key}: got {got!r}, want {want!r} :: {text}")

    def rate(self, key: str) -> float:
        return self.hits.get(key, 0) / self.total if self.total else 0.0

    def line(self, keys: tuple[str, ...]) -> str:
        figures = "  ".join(f"{k} {self.rate(k):.3f}" for k in keys)
        return f"classifier {self.name} (n={self.total}): {figures}"


def score(name: str, cases: list[Case]) -> Score:
    result = Score(name, total=len(cases))
    for case in cases:
        c = classify(case.text)
        got = observed(c)
        for key in FIELDS:
            result.add(key, got[key] == case.expected[key], case.text, got[key], case.expected[key])
        if case.lang is not None:
            result.add("lang", c.lang == case.lang, case.text, c.lang, case.lang)
        if case.signals is not None:
            for signal in LABELLED_SIGNALS:
                value = bool(getattr(c, signal))
                result.add(signal, value == (signal in case.signals), case.text, value, not value)
    return result


class _SummaryPlugin:
    """Repeats the accuracy figures in pytest's terminal summary, so they show without -s."""

    def __init__(self) -> None:
        self.lines: list[str] = []

    def pytest_terminal_summary(self, terminalreporter: Any) -> None:
        if self.lines:
            terminalreporter.write_sep("-", "utterance classifier")
            for line in self.lines:
                terminalreporter.write_line(line)


@pytest.fixture(scope="session")
def report(pytestconfig: pytest.Config) -> Callable[[str], None]:
    plugin = _SummaryPlugin()
    pytestconfig.pluginmanager.register(plugin, "classifier-figures")

    def add(line: str) -> None:
        print(line)
        plugin.lines.append(line)

    return add


# --------------------------------------------------------------------------------------------------
# Accuracy


def test_labelled_set_covers_every_class() -> None:
    cases = read_cases(LABELLED)
    assert len(cases) >= 160
    by_lang = {lang: [c for c in cases if c.lang == lang] for lang in ("zh", "en")}
    assert all(len(v) >= 70 for v in by_lang.values()), {k: len(v) for k, v in by_lang.items()}
    for lang, group in by_lang.items():
        for spin in "SPIN":
            for closed in "yn":
                n = sum(1 for c in group if c.expected["spin"] == spin and c.expected["closed"] == closed)
                assert n >= 3, (lang, spin, closed, n)
        assert sum(c.expected["question"] == "n" for c in group) >= 30, lang
        assert sum(c.expected["fab"] == "y" for c in group) >= 8, lang
        assert sum(c.expected["question"] == "y" and c.expected["spin"] == "-" for c in group) >= 8, lang
    for signal in LABELLED_SIGNALS:
        assert sum(1 for c in cases if c.signals and signal in c.signals) >= 4, signal
    assert sum(1 for c in cases if to_simplified(c.text) != c.text) >= 15  # Traditional Chinese
    no_mark = [
        c for c in cases if c.expected["question"] == "y" and not c.text.rstrip().endswith(("?", "？"))
    ]
    assert len(no_mark) >= 12


def test_accuracy_on_own_labelled_set(report: Callable[[str], None]) -> None:
    result = score("own labelled set", read_cases(LABELLED))
    report(result.line((*FIELDS, "lang")))
    report(result.line(LABELLED_SIGNALS).replace("classifier own labelled set", "  signals"))
    detail = "\n".join(result.misses)
    for key in (*FIELDS, "lang"):
        assert result.rate(key) >= 0.9, f"{key}\n{detail}"
    for signal in LABELLED_SIGNALS:
        assert result.rate(signal) >= 0.9, f"{signal}\n{detail}"


def test_field_set_covers_the_reported_families() -> None:
    cases = read_cases(FIELD)
    assert len(cases) >= 100
    by_lang = {lang: [c for c in cases if c.lang == lang] for lang in ("zh", "en")}
    assert all(len(v) >= 40 for v in by_lang.values()), {k: len(v) for k, v in by_lang.items()}
    for lang, group in by_lang.items():
        for signal in (
            "agenda",
            "next_step_ask",
            "close_ask",
            "summary",
            "bluff_risk",
            "pressure",
            "feature_dump",
        ):
            assert sum(1 for c in group if c.signals and signal in c.signals) >= 2, (lang, signal)
        tagged_pitches = [c for c in group if c.expected["closed"] == "y" and c.expected["fab"] == "y"]
        assert len(tagged_pitches) >= 2, lang
        for spin in "PIN":
            assert sum(1 for c in group if c.expected["spin"] == spin) >= 3, (lang, spin)


def test_accuracy_on_field_set(report: Callable[[str], None]) -> None:
    result = score("field set", read_cases(FIELD))
    report(result.line((*FIELDS, "lang")))
    report(result.line(LABELLED_SIGNALS).replace("classifier field set", "  signals"))
    detail = "\n".join(result.misses)
    for key in (*FIELDS, "lang", *LABELLED_SIGNALS):
        assert result.rate(key) >= 0.9, f"{key}\n{detail}"


@pytest.mark.skipif(not HELDOUT.is_file(), reason="held-out set not written yet")
def test_accuracy_on_heldout_set(report: Callable[[str], None]) -> None:
    result = score("held-out set", read_cases(HELDOUT))
    report(result.line((*FIELDS, "lang")))
    report(result.line(LABELLED_SIGNALS).replace("classifier held-out set", "  signals"))
    detail = "\n".join(result.misses)
    if result.misses:
        report("  held-out misses:\n    " + "\n    ".join(result.misses))
    for key in FIELDS:
        assert result.rate(key) >= 0.8, f"{key}\n{detail}"


@pytest.mark.skipif(not HELDOUT2.is_file(), reason="second held-out set not written yet")
def test_accuracy_on_second_heldout_set(report: Callable[[str], None]) -> None:
    result = score("held-out set 2", read_cases(HELDOUT2))
    report(result.line((*FIELDS, "lang")))
    report(result.line(LABELLED_SIGNALS).replace("classifier held-out set 2", "  signals"))
    detail = "\n".join(result.misses)
    if result.misses:
        report("  held-out 2 misses:\n    " + "\n    ".join(result.misses))
    for key in (*FIELDS, "lang"):
        assert result.rate(key) >= 0.8, f"{key}\n{detail}"


@pytest.mark.skipif(not SAMPLE.is_file(), reason=f"{SAMPLE} is not present")
def test_accuracy_on_public_sample(report: Callable[[str], None]) -> None:
    result = score("public sample", read_cases(SAMPLE))
    report(result.line(FIELDS))
    detail = "\n".join(result.misses)
    for key in FIELDS:
        assert result.rate(key) >= 0.85, f"{key}\n{detail}"


# --------------------------------------------------------------------------------------------------
# Behaviour the callers rely on


@pytest.mark.parametrize(
    ("text", "question", "closed", "spin"),
    [
        ("您对现在的供应商满意吗?", True, True, "P"),
        ("你们每个月采购大概六万,对吧?", True, True, "S"),
        ("你们现在用的什么设备", True, False, "S"),
        ("Is the current price acceptable", True, True, "P"),
        ("how many shifts run the test line", True, False, "S"),
        ("Your lab is in Shenzhen, right", True, True, "S"),
        ("您看是周二还是周四方便?", True, True, None),  # choice → closed; a next-step ask has no SPIN stage
        ("我给您介绍一下我们的新款示波器。", False, None, None),  # the rep offering to talk asks nothing
        ("What we usually recommend is a pilot.", False, None, None),
    ],
)
def test_question_forms(text: str, question: bool, closed: bool | None, spin: str | None) -> None:
    c = classify(text)
    assert (c.question, c.closed, c.spin) == (question, closed, spin)


@pytest.mark.parametrize(
    ("traditional", "simplified"),
    [
        (
            "這款示波器存儲深度1G點，這意味著您能一次抓到完整波形。",
            "这款示波器存储深度1G点,这意味着您能一次抓到完整波形。",
        ),
        ("現在的軟體在使用上有沒有什麼不方便的地方", "现在的软件在使用上有没有什么不方便的地方"),
        ("您對現在的對講系統滿意嗎？", "您对现在的对讲系统满意吗?"),
        ("這些故障會對你們的出貨時間造成什麼影響", "这些故障会对你们的出货时间造成什么影响"),
        ("如果維護成本能降低三成，對貴公司有什麼幫助？", "如果维护成本能降低三成,对贵公司有什么帮助?"),
        (
            "我們的熱水器採用恆溫技術，這意味著您洗澡時水溫穩定，給您帶來的真正利益是更安心。",
            "我们的热水器采用恒温技术,这意味着您洗澡时水温稳定,给您带来的真正利益是更安心。",
        ),
    ],
)
def test_traditional_and_full_width_read_like_simplified(traditional: str, simplified: str) -> None:
    a, b = classify(traditional), classify(simplified)
    assert observed(a) == observed(b)
    assert a.signals() == b.signals()


def test_signals_and_counts() -> None:
    c = classify(
        "王经理您好,我是华测仪器的小李,谢谢您抽时间。今天主要想了解一下贵公司的测试需求,大约二十分钟,您看可以吗?"
    )
    assert (
        c.greeting and c.self_intro and c.thanks and c.agenda and c.commitment_language and c.customer_focus
    )
    assert c.question and c.closed and c.spin is None
    assert c.lang == "zh"
    en = classify("Our scope is the best on the market.")
    assert en.feature_dump and not en.fab and not en.customer_focus and en.lang == "en" and en.word_count == 8
    assert classify("你们的scope带宽够用吗?").lang == "zh"
    assert classify("示波器 bandwidth").word_count == 4


def test_a_line_can_carry_a_fab_and_a_question() -> None:
    c = classify("这款示波器存储深度1G点,这意味着您能一次抓到完整波形。您现在每天要测多少块板子?")
    assert c.fab and c.question and c.closed is False and c.spin == "S"


@pytest.mark.parametrize(
    ("claim", "tag"),
    [
        ("Our scope has 200MHz bandwidth, which will save you time", ", right?"),
        ("我们的示波器带宽高达200MHz,能帮您提高效率", ",对吧?"),
        ("Our product is the best on the market", ", wouldn't you agree?"),
        ("我们的软件是市场上功能最全的", ",您说是不是?"),
        ("這款儀器很輕,您的工程師帶到現場會方便很多", ",是吧?"),
    ],
)
def test_a_pitch_with_a_tag_is_still_a_pitch(claim: str, tag: str) -> None:
    """A tag asks for agreement, not for facts: no SPIN stage, no rewrite, and the pitch is judged as if stated."""
    stated, tagged = classify(claim + ("。" if tag.startswith(",") else ".")), classify(claim + tag)
    assert tagged.question and tagged.closed and tagged.spin is None
    assert (tagged.fab, tagged.feature_dump) == (stated.fab, stated.feature_dump)
    assert stated.fab or stated.feature_dump
    assert rewrite_closed(claim + tag) is None


@pytest.mark.parametrize(
    ("promise", "question"),
    [
        ("我们的课程保证让你们业绩翻倍。", "你们现在的培训供应商保证效果吗?"),
        (
            "We guarantee your uptime will never drop below 99.9%.",
            "Is uptime guaranteed in your current contract?",
        ),
        ("用了这套系统,一定能让投诉减少一半。", "这套系统一定能让投诉减少吗?"),
    ],
)
def test_promising_outcomes_is_bluffing_asking_about_them_is_not(promise: str, question: str) -> None:
    assert classify(promise).bluff_risk and not classify(promise).fab
    asked = classify(question)
    assert asked.question and not asked.bluff_risk


@pytest.mark.parametrize(
    ("hoped_for", "feared"),
    [
        ("如果全国的销售都按一套流程做,对您意味着什么?", "如果系统半夜死机,对您的值班人员意味着什么?"),
        (
            "If every salesperson followed one process, what would that mean for you?",
            "If the scanner goes down during peak hours, what would that mean for your team?",
        ),
    ],
)
def test_the_meaning_of_a_hypothetical_depends_on_what_it_names(hoped_for: str, feared: str) -> None:
    assert classify(hoped_for).spin == "N"
    assert classify(feared).spin == "I"


@pytest.mark.parametrize(
    "text",
    [
        "下周三我带方案过来,请您约生产副总一起谈一谈,可以吗?",
        "Could our GM fly over and meet you next month to discuss the rollout?",
        "Would you like to buy our new model today?",
        "您今天要不要先订两台?",
        "Does that work?",
        "这样安排您觉得行不行?",
        "我确认一下,您最关心的是交期和售后响应,对吗?",
        "Let me make sure I understood. The real issue is the downtime on night shifts, right?",
    ],
)
def test_procedural_questions_get_no_spin_stage_and_no_rewrite(text: str) -> None:
    c = classify(text)
    assert c.question and c.closed and c.spin is None
    assert rewrite_closed(text) is None


@pytest.mark.parametrize(
    "text",
    [
        "你们每个月的订单量大概有多少?",
        "对大客户的成交和新人成长有什么影响?",
        "How does your purchase order process work today?",
    ],
)
def test_order_words_in_a_discovery_question_are_no_close(text: str) -> None:
    c = classify(text)
    assert not c.close_ask and c.spin is not None


def test_any_problems_question_is_closed_and_opens_up() -> None:
    """Decision: 有什么…吗 asks "are there any …?" — a yes/no question, so it is closed and gets a rewrite."""
    c = classify("现在的测试效率有什么问题吗?")
    assert c.question and c.closed and c.spin == "P"
    rewrite = rewrite_closed("现在的测试效率有什么问题吗?")
    assert rewrite is not None and "哪些" in rewrite and classify(rewrite).closed is False
    assert classify("现在的测试效率有什么问题?").closed is False


# --------------------------------------------------------------------------------------------------
# Rewrites


def test_rewrites_of_the_brief() -> None:
    assert (
        rewrite_closed("您对现在的供应商满意吗?", "zh")
        == "您觉得现在的供应商在哪些方面做得好、哪些方面还可以改进?"
    )
    assert (
        rewrite_closed("Is the current price acceptable?", "en")
        == "How do you feel about the current pricing?"
    )


def test_every_closed_discovery_question_gets_an_open_rewrite() -> None:
    offered = 0
    for case in read_cases(LABELLED) + read_cases(FIELD):
        c = classify(case.text)
        rewrite = rewrite_closed(case.text)
        if not (c.question and c.closed and c.spin):
            assert rewrite is None, case.text  # statements, open questions, 您看可以吗-style checks
            continue
        assert rewrite, case.text
        r = classify(rewrite)
        assert r.question and r.closed is False and r.lang == c.lang, (case.text, rewrite)
        offered += 1
    assert offered >= 50


def test_rewrite_in_the_requested_language() -> None:
    suggestion = rewrite_closed("你们有没有专门的测试部门?", "en")
    assert suggestion is not None and classify(suggestion).lang == "en"
    assert rewrite_closed("Do you have a dedicated test team?") is not None
    assert rewrite_closed("What problems do you have with the probes?") is None


# --------------------------------------------------------------------------------------------------
# Robustness and speed


@pytest.mark.parametrize(
    "text",
    [
        "",
        "   ",
        "\n\n",
        "?",
        "？？？",
        "🙂🎉",
        "……",
        "。",
        "a",
        "吗",
        "Mr.",
        "价格" * 3000,
        "why? " * 2000,
        "\u200b\u200b",
        "<b>hi</b>",
        "1234567890",
        "你们 use 什么 scope?",
    ],
)
def test_odd_input_never_crashes(text: str) -> None:
    c = classify(text)
    assert isinstance(c.question, bool) and c.lang in ("zh", "en") and c.word_count >= 0
    assert c.closed is None or c.question
    rewrite_closed(text)


def test_empty_text_is_a_silent_statement() -> None:
    c = classify("")
    assert not c.question and c.closed is None and c.spin is None and not any(c.signals().values())
    assert c.word_count == 0


def test_huge_input_stays_fast() -> None:
    text = "您对现在的供应商满意吗?我们的设备很好。" * 2000
    started = time.perf_counter()
    classify(text)
    assert time.perf_counter() - started < 0.5


def test_result_is_frozen_and_deterministic() -> None:
    a = classify("你们每个月采购大概六万,对吧?")
    with pytest.raises(FrozenInstanceError):
        a.question = False  # type: ignore[misc]
    assert a == classify("你们每个月采购大概六万,对吧?")


# --------------------------------------------------------------------------------------------------
# The cue file


def _raw() -> dict[str, Any]:
    data: dict[str, Any] = yaml.safe_load(DEFAULT_PATH.read_text(encoding="utf-8"))
    return data


def test_lexicon_loads_once() -> None:
    assert load_lexicon() is load_lexicon()
    assert isinstance(load_lexicon(), Lexicon)


def test_a_trainer_can_extend_the_cues(tmp_path: Path) -> None:
    data = _raw()
    data["zh"]["signals"]["off_topic"].append("装修")
    path = tmp_path / "classifier.yaml"
    path.write_text(yaml.safe_dump(data, allow_unicode=True), encoding="utf-8")
    custom = load_lexicon(str(path))
    assert classify("您家最近在装修吧?", custom).off_topic
    assert not classify("您家最近在装修吧?").off_topic


@pytest.mark.parametrize(
    ("breakage", "message"),
    [
        (lambda d: d["zh"]["question"].pop("wh"), "zh.question.wh"),
        (lambda d: d["en"]["spin"]["problem"].append("re:(unclosed"), "en.spin.problem["),
        (lambda d: d["zh"]["signals"]["greeting"].append(""), "zh.signals.greeting"),
        (lambda d: d["en"]["fab"].update(extra=["x"]), "en.fab.extra"),
        (lambda d: d.update(version=2), "version"),
        (
            lambda d: d["en"]["rewrites"].append({"pattern": "^is (?P<x>.+)$", "template": "How is {y}?"}),
            "en.rewrites[",
        ),
        (lambda d: d["zh"]["fallback"].pop("N"), "zh.fallback.N"),
    ],
)
def test_a_broken_cue_file_names_file_and_field(
    tmp_path: Path, breakage: Callable[[dict[str, Any]], object], message: str
) -> None:
    data = _raw()
    breakage(data)
    path = tmp_path / "classifier.yaml"
    path.write_text(yaml.safe_dump(data, allow_unicode=True), encoding="utf-8")
    with pytest.raises(ClassifierConfigError) as err:
        load_lexicon(str(path))
    assert str(path) in str(err.value) and message in str(err.value)


def test_unreadable_or_invalid_yaml(tmp_path: Path) -> None:
    with pytest.raises(ClassifierConfigError, match="cannot read"):
        load_lexicon(str(tmp_path / "missing.yaml"))
    bad = tmp_path / "bad.yaml"
    bad.write_text("zh: [unclosed", encoding="utf-8")
    with pytest.raises(ClassifierConfigError, match="not valid YAML"):
        load_lexicon(str(bad))
    with pytest.raises(ClassifierConfigError, match="<data>"):
        parse_lexicon(None)


# --------------------------------------------------------------------------------------------------
# Command line


def test_cli_json_for_arguments() -> None:
    out = io.StringIO()
    assert (
        run_classify(
            ["您对现在的供应商满意吗?", "Our product is the best on the market."],
            True,
            io.StringIO("ignored\n"),
            out,
        )
        == 0
    )
    lines = out.getvalue().splitlines()
    assert len(lines) == 2
    first = json.loads(lines[0])
    assert first == {
        "text": "您对现在的供应商满意吗?",
        "question": True,
        "closed": True,
        "spin": "P",
        "fab": False,
    }
    assert "供应商" in lines[0]  # ensure_ascii=False
    assert json.loads(lines[1]) == {
        "text": "Our product is the best on the market.",
        "question": False,
        "closed": None,
        "spin": None,
        "fab": False,
    }


def test_cli_reads_stdin_lines_and_skips_empty_ones() -> None:
    out = io.StringIO()
    stdin = io.StringIO("你们现在用的什么设备\n\n   \nIs the current price acceptable?\r\n")
    assert run_classify([], True, stdin, out) == 0
    rows = [json.loads(line) for line in out.getvalue().splitlines()]
    assert [r["text"] for r in rows] == ["你们现在用的什么设备", "Is the current price acceptable?"]
    assert rows[0]["closed"] is False and rows[1]["closed"] is True


def test_cli_readable_summary(capsys: pytest.CaptureFixture[str]) -> None:
    assert cli_main(["您对现在的供应商满意吗?", "这款仪器很轻,您的工程师带到现场会方便很多。"]) == 0
    lines = capsys.readouterr().out.splitlines()
    assert len(lines) == 2
    assert "closed question, SPIN P" in lines[0]
    assert "statement; FAB" in lines[1]
