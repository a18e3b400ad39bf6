"""Latency of the rep-utterance classifier: p50/p99 per utterance over the labelled sets.

Every rep line in a role-play and every /spin or /fab draft is classified, often several times a
turn, so the budget is well under 1 ms per utterance (goal: p99 < 0.5 ms). The cue file is loaded
and compiled once before timing; its load time is reported separately. `rewrite_closed` (which
classifies its own suggestion) and a 4,000-character message are measured too.
Run: `python benchmarks/bench_classifier.py [--rounds N]`.
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import time
from collections.abc import Callable
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
if str(REPO) not in sys.path:  # runnable as a plain script from anywhere
    sys.path.insert(0, str(REPO))

from bot.engine.classifier import DEFAULT_PATH, classify, load_lexicon, parse_lexicon, rewrite_closed  # noqa: E402

GOAL_P99_MS = 0.5
BUDGET_MS = 1.0
DATA = (
    REPO / "tests" / "engine" / "data" / "classify_labelled.tsv",
    REPO / "tests" / "engine" / "data" / "classify_heldout.tsv",
    REPO / "tests" / "engine" / "data" / "classify_field.tsv",
    REPO / "tests" / "engine" / "data" / "classify_heldout2.tsv",
    REPO.parent / "shared" / "eval" / "classify_sample.tsv",
)


def utterances() -> list[str]:
    texts: list[str] = []
    for path in DATA:
        if path.is_file():
            for line in path.read_text(encoding="utf-8").splitlines():
                if line.strip() and not line.startswith("#"):
                    texts.append(line.split("\t")[0])
    return texts


def _percentile(sorted_values: list[float], fraction: float) -> float:
    index = min(len(sorted_values) - 1, max(0, round(fraction * (len(sorted_values) - 1))))
    return sorted_values[index]


def measure(
    name: str, func: Callable[[str], object], texts: list[str], rounds: int
) -> dict[str, float | str]:
    for text in texts:  # warm-up: regex caches, OpenCC, branch predictors
        func(text)
    per_text: list[list[float]] = [[] for _ in texts]
    for _ in range(rounds):
        for times, text in zip(per_text, texts, strict=True):
            t0 = time.perf_counter_ns()
            func(text)
            times.append((time.perf_counter_ns() - t0) / 1e6)
    samples = sorted(t for times in per_text for t in times)
    medians = sorted(statistics.median(times) for times in per_text)  # robust to a busy machine
    return {
        "name": name,
        "p50": _percentile(samples, 0.50),
        "p99": _percentile(samples, 0.99),
        "p99u": _percentile(medians, 0.99),
        "max": samples[-1],
        "mean": statistics.fmean(samples),
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("--rounds", type=int, default=50, help="passes over the utterances (default 50)")
    args = parser.parse_args(argv)

    import yaml

    t0 = time.perf_counter()
    parse_lexicon(yaml.safe_load(DEFAULT_PATH.read_text(encoding="utf-8")), str(DEFAULT_PATH))
    load_ms = (time.perf_counter() - t0) * 1000
    load_lexicon()

    texts = utterances()
    long_text = ("您对现在的供应商满意吗?我们的设备采用统一协议,这意味着您的管理成本更低。" * 120)[:4000]
    rows = [
        measure("classify", classify, texts, args.rounds),
        measure("rewrite_closed", rewrite_closed, texts, max(1, args.rounds // 5)),
        measure("classify 4000 chars", classify, [long_text], max(5, args.rounds // 5)),
    ]
    print(f"{len(texts)} utterances × {args.rounds} rounds; milliseconds per utterance")
    print(f"cue file load + compile: {load_ms:.1f} ms (once per process)")
    print("p99u = 99th percentile over utterances of each one's median time (robust to a busy machine)")
    load = os.getloadavg()[0] if hasattr(os, "getloadavg") else 0.0
    cpus = os.cpu_count() or 1
    if load > cpus * 0.5:
        print(f"note: load average {load:.1f} on {cpus} CPUs: raw p99/max include other processes' time")
    print()
    header = f"{'function':<22}{'p50':>9}{'p99':>9}{'p99u':>9}{'max':>9}{'mean':>9}"
    print(header)
    print("-" * len(header))
    for row in rows:
        print(
            f"{row['name']:<22}{row['p50']:>9.3f}{row['p99']:>9.3f}{row['p99u']:>9.3f}"
            f"{row['max']:>9.3f}{row['mean']:>9.3f}"
        )
    p99 = float(rows[0]["p99"])
    verdict = "met" if p99 < GOAL_P99_MS else "NOT met"
    print(
        f"\nclassify p99 / 1 ms budget: {p99 / BUDGET_MS:.2f}   goal p99 < {GOAL_P99_MS} ms: {verdict}"
        f"   (≈{1000 / max(float(rows[0]['mean']), 1e-9):,.0f} utterances/s)"
    )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
