"""Retrieval evaluation shared by the tests and the benchmark: read a TSV set, score top-1/top-3."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

from bot.kb.search import KnowledgeIndex


@dataclass(frozen=True)
class Case:
    query: str
    expected: frozenset[str]


@dataclass
class Report:
    """Top-1 / top-3 hit rates and the misses, for a readable failure message."""

    name: str
    total: int = 0
    top1: int = 0
    top3: int = 0
    misses: list[str] = field(default_factory=list)

    @property
    def top1_rate(self) -> float:
        return self.top1 / self.total if self.total else 0.0

    @property
    def top3_rate(self) -> float:
        return self.top3 / self.total if self.total else 0.0

    def summary(self) -> str:
        return f"{self.name}: {self.total} queries, top-1 {self.top1_rate:.3f}, top-3 {self.top3_rate:.3f}"


def read_cases(path: Path) -> list[Case]:
    """query<TAB>id[,id…][<TAB>note]; '#' lines and blank lines are skipped."""
    cases = []
    for line in path.read_text(encoding="utf-8").splitlines():
        if not line.strip() or line.startswith("#"):
            continue
        query, ids = line.split("\t")[:2]
        cases.append(Case(query.strip(), frozenset(i.strip() for i in ids.split(",") if i.strip())))
    return cases


def evaluate(index: KnowledgeIndex, cases: list[Case], name: str) -> Report:
    report = Report(name)
    for case in cases:
        ids = [hit.entry_id for hit in index.search(case.query, limit=3)]
        report.total += 1
        first = bool(ids) and ids[0] in case.expected
        report.top1 += first
        report.top3 += bool(case.expected & set(ids))
        if not first:
            report.misses.append(f"{case.query!r}: expected {sorted(case.expected)}, got {ids}")
    return report
