"""`salescoach ask` and `salescoach kb check`, as plain functions the main CLI dispatches to.

They take their streams as arguments so tests drive them without a subprocess; until the main CLI
wires them, `python -m bot.kb.cli ask …` / `python -m bot.kb.cli kb check` run them directly.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
from collections.abc import Iterable, Sequence
from pathlib import Path
from typing import TextIO

from bot.kb.loader import KnowledgeError, load_knowledge, read_knowledge
from bot.kb.search import Hit, KnowledgeIndex, query_lang

KNOWLEDGE_ENV = "SALESCOACH_KNOWLEDGE_DIR"
TALK_ENV = "SALESCOACH_TALK_DIR"
REPO_ROOT = Path(__file__).resolve().parents[2]


def default_paths() -> tuple[Path, Path]:
    """(knowledge/, scripts_talk/) of this checkout, unless the environment points elsewhere."""
    knowledge = os.environ.get(KNOWLEDGE_ENV) or str(REPO_ROOT / "knowledge")
    talk = os.environ.get(TALK_ENV) or str(REPO_ROOT / "scripts_talk")
    return Path(knowledge), Path(talk)


def _queries(queries: Sequence[str], stdin: TextIO) -> Iterable[str]:
    """The arguments, or else one query per input line (blank lines too, so outputs stay aligned)."""
    if queries:
        yield from queries
        return
    for line in stdin:
        yield line.rstrip("\r\n")


def _result(index: KnowledgeIndex, query: str, hit: Hit) -> dict[str, object]:
    entry = index.kb[hit.entry_id]
    return {"id": hit.entry_id, "title": entry.title_in(query_lang(query)), "score": hit.score}


def run_ask(queries: list[str], as_json: bool, stdin: TextIO, stdout: TextIO, limit: int = 3) -> int:
    """Rank knowledge entries per query; JSON lines (`{"query", "results": [...]}`) or a readable list."""
    knowledge, talk = default_paths()
    index = KnowledgeIndex(load_knowledge(knowledge, talk))
    limit = max(1, limit)
    for query in _queries(queries, stdin):
        hits = index.search(query, limit=limit)
        results = [_result(index, query, hit) for hit in hits]
        if as_json:
            stdout.write(json.dumps({"query": query, "results": results}, ensure_ascii=False) + "\n")
        else:
            stdout.write(f"{query}\n")
            if not hits:
                stdout.write("  (no match)\n")
            for rank, (hit, result) in enumerate(zip(hits, results, strict=True), start=1):
                unsure = "" if hit.confident else "  ?"
                stdout.write(f"  {rank}. {hit.score:5.1f}  {hit.entry_id}  {result['title']}{unsure}\n")
        stdout.flush()
    return 0


def run_kb_check(stdout: TextIO) -> int:
    """Print every problem of knowledge/ and scripts_talk/ (exit 1), or a one-line summary (exit 0)."""
    knowledge, talk = default_paths()
    kb, problems = read_knowledge(knowledge, talk)
    from bot.engine.roleplay.loader import check_roleplay  # the role-play personas and scorecard (#5)

    roleplay, roleplay_problems = check_roleplay(knowledge, kb)
    found: list[object] = [*problems, *roleplay_problems]
    if not found:  # the rest the bot loads at start: flows, metrics, messages, the coaching and classifier cues
        from bot.engine.content import CONTENT_ERRORS, Content

        try:
            content = Content.load(knowledge, talk)
        except CONTENT_ERRORS as exc:
            found.append(exc)
    for problem in found:
        stdout.write(f"{problem}\n")
    if found:
        stdout.write(f"{len(found)} problem(s) found\n")
        return 1
    stdout.write(f"ok: {len(kb.entries)} entries in {len(kb.areas)} areas\n")
    if roleplay is not None:
        stdout.write(f"ok: {len(roleplay.personas)} role-play personas and the scorecard rubric\n")
    stdout.write(f"ok: {len(content.flows)} flows, {len(content.metrics.metrics)} activity metrics, the bot's "
                 "messages and the coaching and classifier cues\n")
    return 0


def main(argv: Sequence[str] | None = None) -> int:
    """Stand-alone entry point (`python -m bot.kb.cli ask|kb check`)."""
    parser = argparse.ArgumentParser(prog="python -m bot.kb.cli")
    sub = parser.add_subparsers(dest="command", required=True)
    ask = sub.add_parser("ask", help="search the knowledge base")
    ask.add_argument("--json", action="store_true")
    ask.add_argument("--limit", type=int, default=3)
    ask.add_argument("query", nargs="*")
    kb = sub.add_parser("kb", help="knowledge base tasks")
    kb.add_argument("kb_command", choices=["check"])
    args = parser.parse_args(argv)
    try:
        if args.command == "ask":
            return run_ask(args.query, args.json, sys.stdin, sys.stdout, limit=args.limit)
        return run_kb_check(sys.stdout)
    except KnowledgeError as exc:
        print(f"salescoach: the knowledge base is invalid:\n{exc}", file=sys.stderr)
        return 2


if __name__ == "__main__":
    raise SystemExit(main())
