"""Role-play test helpers: transcripts as files, played through the same code as the CLI."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from bot.engine.content import Content
from bot.engine.roleplay.cli import play, result

TRANSCRIPTS = Path(__file__).parent / "transcripts"


def lines_of(name: str) -> list[str]:
    """The rep's turns of a transcript file (blank lines and # comments skipped)."""
    text = (TRANSCRIPTS / name).read_text(encoding="utf-8")
    return [line.strip() for line in text.splitlines() if line.strip() and not line.lstrip().startswith("#")]


def run(content: Content, persona: str, lines: list[str], lang: str = "zh", seed: int = 1) -> dict[str, Any]:
    """Turns and score (the `--json` result) of playing `lines` against `persona`."""
    session = play(content.roleplay.personas[persona], lines, "en" if lang == "en" else "zh", seed)
    return result(content.roleplay, content.messages, session)


def criterion(data: dict[str, Any], name: str) -> dict[str, Any]:
    item: dict[str, Any] = data["score"]["criteria"][name]
    return item
