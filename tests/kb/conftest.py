"""Fixtures for the knowledge-base tests: the real base (read leniently, so a search test fails on
what it measures and `test_check` alone reports invalid files), and a small valid base on disk that
each check test breaks in one way."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest

from bot.kb.cli import REPO_ROOT
from bot.kb.loader import read_knowledge
from bot.kb.models import KnowledgeBase
from bot.kb.search import KnowledgeIndex

KNOWLEDGE = REPO_ROOT / "knowledge"
TALK = REPO_ROOT / "scripts_talk"
REPORTS_KEY = pytest.StashKey[list[str]]()


@pytest.fixture(scope="session")
def real_kb() -> KnowledgeBase:
    kb, _ = read_knowledge(KNOWLEDGE, TALK)
    return kb


@pytest.fixture(scope="session")
def real_index(real_kb: KnowledgeBase) -> KnowledgeIndex:
    return KnowledgeIndex(real_kb)


@pytest.fixture
def report_line(request: pytest.FixtureRequest) -> Callable[[str], None]:
    """Print a figure now (visible with -s) and again in the terminal summary (always visible)."""

    def add(line: str) -> None:
        print(line)
        request.config.stash.setdefault(REPORTS_KEY, []).append(line)

    return add


def pytest_terminal_summary(terminalreporter: pytest.TerminalReporter, config: pytest.Config) -> None:
    lines = config.stash.get(REPORTS_KEY, [])
    if lines:
        terminalreporter.write_sep("-", "knowledge retrieval")
        for line in lines:
            terminalreporter.write_line(line)


ENTRY_FILE = """\
area: objections
title:
  zh: 异议处理
  en: Objections
entries:
  - id: objection.price_too_high
    kind: script
    source: "000"
    tags: [objection, price]
    related: [objection.no_budget]
    script: price_reply
    title:
      zh: 客户说“太贵了”
      en: The customer says “it’s too expensive”
    aliases:
      zh: [太贵了怎么办, 客户嫌贵]
      en: [too expensive, price is too high]
    body:
      zh: 先问清楚和什么比较。
      en: Ask what they compare it with.
  - id: objection.no_budget
    kind: concept
    source: "000"
    title:
      zh: 没有预算
      en: No budget
    aliases:
      zh: [没预算]
      en: [no budget]
    body:
      zh: 问清楚预算周期。
      en: Ask about the budget cycle.
"""


class MiniBase:
    """A small valid knowledge/ + scripts_talk/ tree under tmp_path; tests overwrite single files."""

    def __init__(self, root: Path) -> None:
        self.root = root
        self.knowledge = root / "knowledge"
        self.talk = root / "scripts_talk"
        (self.knowledge / "entries").mkdir(parents=True)
        for lang in ("zh", "en"):
            (self.talk / lang).mkdir(parents=True)
            (self.talk / lang / "price_reply.j2").write_text(
                "{{ customer }}: {{ price }}\n", encoding="utf-8"
            )
        (self.talk / "defaults.yaml").write_text(
            "zh: {customer: 贵公司}\nen: {customer: your company}\n", encoding="utf-8"
        )
        self.write("objections.yaml", ENTRY_FILE)

    def write(self, name: str, text: str) -> Path:
        path = self.knowledge / "entries" / name
        path.write_text(text, encoding="utf-8")
        return path


@pytest.fixture
def mini(tmp_path: Path) -> MiniBase:
    return MiniBase(tmp_path)
