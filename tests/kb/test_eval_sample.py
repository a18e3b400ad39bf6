"""The public retrieval sample (../shared/eval/kb_sample.tsv beside the repo): top-1 ≥ 0.90, top-3 ≥ 0.97."""

from __future__ import annotations

from collections.abc import Callable

import pytest

from bot.kb.cli import REPO_ROOT
from bot.kb.search import KnowledgeIndex
from tests.kb.evaluation import evaluate, read_cases

SAMPLE = REPO_ROOT.parent / "shared" / "eval" / "kb_sample.tsv"


@pytest.mark.skipif(not SAMPLE.is_file(), reason=f"{SAMPLE} is not present")
def test_public_sample(real_index: KnowledgeIndex, report_line: Callable[[str], None]) -> None:
    report = evaluate(real_index, read_cases(SAMPLE), "public sample (kb_sample.tsv)")
    report_line(report.summary())
    detail = "\n".join(report.misses)
    assert report.top1_rate >= 0.90, detail
    assert report.top3_rate >= 0.97, detail
