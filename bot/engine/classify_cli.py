"""`salescoach classify [--json] [TEXT ...]`: the classifier from a shell, for trainers and for evals.

Kept apart from the CLI wiring so the contract (one JSON line per text, stdin when no TEXT) is
testable with plain string streams.
"""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Iterable
from typing import TextIO

from bot.engine.classifier import Classification, classify, load_lexicon


def _texts(texts: list[str], stdin: TextIO) -> Iterable[str]:
    if texts:
        yield from texts
        return
    for line in stdin:
        line = line.rstrip("\r\n")
        if line.strip():
            yield line


def summary_line(c: Classification) -> str:
    """One readable line: form, SPIN, FAB and the signals that fired."""
    if c.question:
        form = f"{'closed' if c.closed else 'open'} question" + (f", SPIN {c.spin}" if c.spin else "")
    else:
        form = "statement"
    parts = [
        form,
        "FAB" if c.fab else "",
        *(name for name, on in c.signals().items() if on and name != "customer_focus"),
    ]
    return f"{c.text}\t→ " + "; ".join(p for p in parts if p) + f" [{c.lang}, {c.word_count} words]"


def run_classify(texts: list[str], as_json: bool, stdin: TextIO, stdout: TextIO) -> int:
    """Classify each TEXT (or each non-empty stdin line); returns the process exit code."""
    lexicon = load_lexicon()
    for text in _texts(texts, stdin):
        result = classify(text, lexicon)
        if as_json:
            stdout.write(json.dumps(result.contract(), ensure_ascii=False) + "\n")
        else:
            stdout.write(summary_line(result) + "\n")
    stdout.flush()
    return 0


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="salescoach classify", description="Classify rep utterances.")
    parser.add_argument("--json", action="store_true", help="one JSON line per text")
    parser.add_argument("texts", nargs="*", metavar="TEXT", help="texts; without any, one per stdin line")
    args = parser.parse_args(argv)
    return run_classify(args.texts, args.json, sys.stdin, sys.stdout)


if __name__ == "__main__":
    raise SystemExit(main())
