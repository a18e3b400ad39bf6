"""Retrieval on the real base: short, long, English, Traditional and misspelt questions, and the
low-confidence answer for questions that are not about selling."""

from __future__ import annotations

import io
import json
import shutil
from collections.abc import Callable
from pathlib import Path

import pytest

from bot.kb.cli import REPO_ROOT, default_paths, run_ask, run_kb_check
from bot.kb.models import KnowledgeBase
from bot.kb.search import CONFIDENT_SCORE, Hit, KnowledgeIndex, grams, query_lang
from tests.kb.evaluation import evaluate, read_cases

OWN_SET = Path(__file__).with_name("queries_own.tsv")


def test_own_held_out_set(real_index: KnowledgeIndex, report_line: Callable[[str], None]) -> None:
    cases = read_cases(OWN_SET)
    assert len(cases) >= 80
    report = evaluate(real_index, cases, "own set (tests/kb/queries_own.tsv)")
    report_line(report.summary())
    assert report.top3_rate >= 0.9, "\n".join(report.misses)


@pytest.mark.parametrize(
    ("query", "expected"),
    [
        ("太贵", "objection.price_too_high"),  # two characters
        (
            "我昨天去见了一个客户,他一直说我们价格太高了,我应该怎么回答他",
            "objection.price_too_high",
        ),  # rambling
        ("customer says our price is too high", "objection.price_too_high"),  # English
        ("客戶嫌價格太貴怎麼辦", "objection.price_too_high"),  # Traditional
        ("ＳＰＩＮ是什么", "spin.overview"),  # full-width
        ("暗视性问题", "spin.implication"),  # homophone typo
        ("implcation question", "spin.implication"),  # English typo
    ],
)
def test_kinds_of_question(real_index: KnowledgeIndex, query: str, expected: str) -> None:
    hits = real_index.search(query)
    assert [h.entry_id for h in hits][:1] == [expected], hits
    assert hits[0].confident


@pytest.mark.parametrize(
    "query", ["今天天气怎么样", "asdf", "股票明天会涨吗", "tell me a joke", "", "   ", "？？？"]
)
def test_nonsense_is_not_confident(real_index: KnowledgeIndex, query: str) -> None:
    hits = real_index.search(query)
    assert all(not h.confident for h in hits), hits
    assert real_index.best(query) is None


def test_hits_are_well_formed(real_index: KnowledgeIndex, real_kb: KnowledgeBase) -> None:
    hits = real_index.search("客户说太贵了怎么办", limit=5)
    assert 1 <= len(hits) <= 5
    assert all(isinstance(h, Hit) and h.entry_id in real_kb for h in hits)
    assert [h.score for h in hits] == sorted((h.score for h in hits), reverse=True)
    assert all(0 <= h.score <= 100 for h in hits)
    assert hits[0].matched
    assert hits[0].confident == (hits[0].score >= CONFIDENT_SCORE)
    best = real_index.best("客户说太贵了怎么办")
    assert best is not None
    assert best.entry_id == hits[0].entry_id
    assert real_index.search("太贵", limit=0) == []


def test_huge_and_odd_input_is_fast_and_safe(real_index: KnowledgeIndex) -> None:
    assert isinstance(real_index.search("价格" * 5000), list)
    assert isinstance(real_index.search("😀🎉 👍"), list)
    assert isinstance(real_index.search("\x00\n\t"), list)


def test_normalisation_is_shared_by_both_sides(real_index: KnowledgeIndex) -> None:
    assert real_index.normalize("請問客戶說太貴了怎麼辦？") == real_index.normalize("请问客户说太贵了怎么办")
    assert real_index.normalize("How do I handle the price objection?") == "handle price objection"
    assert query_lang("什么是SPIN") == "zh"
    assert query_lang("what is SPIN") == "en"
    assert {"太贵", "太", "贵"} <= set(grams("太贵"))
    assert "<sp" in grams("spin")


def test_ask_cli_json_lines_from_stdin() -> None:
    """`salescoach ask --json` without QUERY: one JSON line per input line, titles in its language."""
    out = io.StringIO()
    stdin = io.StringIO("客户说太贵了怎么办\n\nwhat is an implication question\n")
    assert run_ask([], True, stdin, out) == 0
    lines = [json.loads(line) for line in out.getvalue().splitlines()]
    assert [line["query"] for line in lines] == ["客户说太贵了怎么办", "", "what is an implication question"]
    first = lines[0]["results"][0]
    assert set(first) == {"id", "title", "score"}
    assert first["id"] == "objection.price_too_high"
    assert any("\u4e00" <= ch <= "\u9fff" for ch in first["title"])
    assert lines[1]["results"] == []
    assert lines[2]["results"][0]["id"] == "spin.implication"
    assert lines[2]["results"][0]["title"].isascii()


def test_ask_cli_readable_and_kb_check() -> None:
    out = io.StringIO()
    assert run_ask(["太贵", "asdf"], False, io.StringIO(), out, limit=2) == 0
    text = out.getvalue()
    assert "objection.price_too_high" in text
    assert "(no match)" in text
    report = io.StringIO()
    assert run_kb_check(report) == 0, report.getvalue()
    assert report.getvalue().startswith("ok: ")


def test_default_paths_follow_the_environment(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.delenv("SALESCOACH_KNOWLEDGE_DIR", raising=False)
    monkeypatch.delenv("SALESCOACH_TALK_DIR", raising=False)
    assert default_paths() == (REPO_ROOT / "knowledge", REPO_ROOT / "scripts_talk")
    monkeypatch.setenv("SALESCOACH_KNOWLEDGE_DIR", str(tmp_path / "k"))
    monkeypatch.setenv("SALESCOACH_TALK_DIR", str(tmp_path / "t"))
    assert default_paths() == (tmp_path / "k", tmp_path / "t")


@pytest.mark.parametrize(("path", "old", "new", "named"), [
    ("knowledge/metrics.yaml", "    max: 50\n", "    max: lots\n", "metrics.yaml: metrics.0.max"),
    ("knowledge/flows/prep.yaml", "  card: prep_card\n", "  card: no_such_card\n", "complete.card"),
    ("scripts_talk/messages/en/core.yaml", "error_generic:", "error_generic_gone:", "error_generic"),
])
def test_kb_check_finds_what_would_stop_the_bot(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, path: str, old: str, new: str, named: str
) -> None:
    """A trainer's slip outside the entries (a metric limit, a flow's card, a message) fails `kb check`
    with the file and field named, as it would stop the bot, instead of passing it."""
    shutil.copytree(REPO_ROOT / "knowledge", tmp_path / "knowledge")
    shutil.copytree(REPO_ROOT / "scripts_talk", tmp_path / "scripts_talk")
    broken = tmp_path / path
    text = broken.read_text(encoding="utf-8")
    assert old in text
    broken.write_text(text.replace(old, new, 1), encoding="utf-8")
    monkeypatch.setenv("SALESCOACH_KNOWLEDGE_DIR", str(tmp_path / "knowledge"))
    monkeypatch.setenv("SALESCOACH_TALK_DIR", str(tmp_path / "scripts_talk"))
    report = io.StringIO()
    assert run_kb_check(report) == 1
    assert named in report.getvalue()
    assert report.getvalue().endswith("1 problem(s) found\n")
