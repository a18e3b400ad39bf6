"""`salescoach` command line: console, run, ask, classify, roleplay, report, db upgrade, kb check."""

from __future__ import annotations

import argparse
import asyncio
import logging
import sys
from collections.abc import Sequence

from bot.config import ConfigError, Settings, load_settings


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="salescoach", description="SalesCoach, the sales-coaching bot")
    sub = parser.add_subparsers(dest="command", required=True)

    console = sub.add_parser("console", help="chat with the coach in this terminal (no token needed)")
    console.add_argument("--user", default="rep", help="your name (each name has its own data)")
    console.add_argument("--lang", choices=["zh", "en"], default=None)

    run = sub.add_parser("run", help="run the Telegram bot (long polling, or --webhook URL)")
    run.add_argument("--webhook", metavar="URL", default=None, help="public HTTPS URL Telegram should call")

    ask = sub.add_parser("ask", help="search the knowledge base")
    ask.add_argument("--json", action="store_true")
    ask.add_argument("--limit", type=int, default=3)
    ask.add_argument("query", nargs="*")

    classify = sub.add_parser("classify", help="classify rep utterances (question, closed, SPIN, FAB)")
    classify.add_argument("--json", action="store_true")
    classify.add_argument("text", nargs="*")

    report = sub.add_parser("report", help="weekly metrics per rep (plain table, or --json)")
    report.add_argument("--json", action="store_true")
    report.add_argument("--week", metavar="YYYY-Www", default=None, help="ISO week (default: this week)")
    report.add_argument("--team", metavar="NAME", default=None, help="only this team")

    roleplay = sub.add_parser("roleplay", help="role-play with a simulated customer (interactive, or --transcript)")
    roleplay.add_argument("--persona", required=True, metavar="ID", help="the customer persona (knowledge/personas)")
    roleplay.add_argument("--transcript", metavar="FILE", default=None, help="rep turns, one per line (- = stdin)")
    roleplay.add_argument("--json", action="store_true", help="print turns and score as JSON")
    roleplay.add_argument("--lang", choices=["zh", "en"], default=None, help="language of the scorecard")
    roleplay.add_argument("--seed", type=int, default=1, help="seed of the customer's word choices")

    db = sub.add_parser("db", help="database tasks")
    db_sub = db.add_subparsers(dest="db_command", required=True)
    db_sub.add_parser("upgrade", help="apply the migrations")

    kb = sub.add_parser("kb", help="knowledge base tasks")
    kb_sub = kb.add_subparsers(dest="kb_command", required=True)
    kb_sub.add_parser("check", help="validate knowledge/ and scripts_talk/")
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    args = _parser().parse_args(argv)
    logging.basicConfig(level=logging.WARNING, format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    try:
        settings = load_settings()
        return _dispatch(args, settings)
    except ConfigError as exc:
        print(f"salescoach: {exc}", file=sys.stderr)
        return 2
    except Exception as exc:
        from bot.engine.content import CONTENT_ERRORS  # here: the engine's import is slow for --help

        if not isinstance(exc, CONTENT_ERRORS):
            raise
        print(f"salescoach: the content in knowledge/ or scripts_talk/ is invalid:\n{exc}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        return 130


class RedactSecrets(logging.Filter):
    """Replaces the bot token in every log record (httpx logs request URLs, which contain it)."""

    def __init__(self, secrets: list[str]) -> None:
        super().__init__()
        self.secrets = [s for s in secrets if s]

    def filter(self, record: logging.LogRecord) -> bool:
        message = record.getMessage()
        if any(s in message for s in self.secrets):
            for secret in self.secrets:
                message = message.replace(secret, "[REDACTED]")
            record.msg, record.args = message, None
        return True


def _configure_logging(settings: Settings, token: str) -> None:
    redact = RedactSecrets([token, token.split(":", 1)[-1]])
    for handler in logging.getLogger().handlers:
        handler.addFilter(redact)
    logging.getLogger().setLevel(settings.log_level.upper())
    for noisy in ("httpx", "httpcore", "alembic", "apscheduler", "aiosqlite"):
        logging.getLogger(noisy).setLevel(logging.WARNING)


def _dispatch(args: argparse.Namespace, settings: Settings) -> int:
    if args.command == "ask":
        from bot.kb.cli import run_ask

        return run_ask(args.query, args.json, sys.stdin, sys.stdout, limit=args.limit)
    if args.command == "classify":
        from bot.engine.classify_cli import run_classify

        return run_classify(args.text, args.json, sys.stdin, sys.stdout)
    if args.command == "report":
        from bot.reports.cli import run_report

        return run_report(settings, args.json, args.week, args.team, sys.stdout, sys.stderr)
    if args.command == "roleplay":
        from bot.engine.roleplay.cli import run_roleplay

        return run_roleplay(settings.knowledge_dir, settings.talk_dir, args.persona, args.transcript, args.json,
                            args.lang, args.seed, sys.stdin, sys.stdout, sys.stderr)
    if args.command == "kb":
        from bot.kb.cli import run_kb_check

        return run_kb_check(sys.stdout)
    if args.command == "db":
        from db.session import upgrade

        upgrade(settings.database_url)
        print("database is up to date")
        return 0
    if args.command == "console":
        from bot.console.console import run_console
        from bot.runtime import Runtime

        asyncio.run(run_console(Runtime(settings), args.user, args.lang))
        return 0
    if args.command == "run":
        from bot.telegram.app import run_bot

        _configure_logging(settings, settings.require_token())
        return run_bot(settings, webhook_url=args.webhook)
    return 2


if __name__ == "__main__":
    raise SystemExit(main())
