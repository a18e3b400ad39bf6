"""`salescoach roleplay --persona ID [--transcript FILE] [--json]`: role-play in a terminal.

Interactive when no transcript is given and stdin is a terminal (/hint, /repeat, /restart, /end,
/quit); otherwise the rep's turns are read one per line (from FILE, or stdin with `-` or a pipe) and
the conversation runs to its end. Nothing is stored: this is a practice and evaluation tool; the
scored sessions reps keep are the ones played in the bot (/roleplay). The same seed gives the same
transcript, so trainers can compare runs.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any, TextIO

from bot.engine.i18n import Messages
from bot.engine.roleplay import render
from bot.engine.roleplay.conversation import start, take_turn
from bot.engine.roleplay.hints import hint
from bot.engine.roleplay.loader import RoleplayContent, load_roleplay
from bot.engine.roleplay.models import Persona
from bot.engine.roleplay.scoring import score
from bot.engine.roleplay.state import SessionState, TurnRecord
from bot.kb.loader import load_knowledge
from bot.kb.models import Lang

MAX_TURNS = 200
DEFAULT_SEED = 1


@dataclass
class Session:
    persona: Persona
    lang: Lang
    seed: int
    state: SessionState
    turns: list[TurnRecord]
    opener: str | None


def new_session(persona: Persona, lang: Lang, seed: int) -> Session:
    state, opener = start(persona, lang, seed)
    return Session(persona, lang, seed, state, [], opener)


def play(persona: Persona, lines: list[str], lang: Lang, seed: int = DEFAULT_SEED) -> Session:
    """Play the rep's lines against the persona until the customer ends it or the lines run out."""
    session = new_session(persona, lang, seed)
    for line in lines[:MAX_TURNS]:
        if not session.state.active:
            break
        session.turns.append(take_turn(persona, session.state, line))
    if session.state.active:
        session.state.status = "ended"
    return session


def run_transcript(content: RoleplayContent, t: Messages, persona: Persona, lines: list[str], lang: Lang,
                   seed: int = DEFAULT_SEED) -> dict[str, Any]:
    """The `--json` result (persona, turns and score) of playing the rep's lines."""
    return result(content, t, play(persona, lines, lang, seed))


def result(content: RoleplayContent, t: Messages, session: Session) -> dict[str, Any]:
    card = score(session.persona, content.rubric, session.state, session.turns)
    tips = render.tips(t, session.persona, card, session.lang)
    turns = [{"rep": r.rep, "customer": r.customer} for r in session.turns]
    out: dict[str, Any] = {"persona": session.persona.id, "seed": session.seed}
    if session.opener:
        out["opener"] = session.opener
    out["turns"] = turns
    out["score"] = card.as_json(tips)
    return out


def _read_lines(source: TextIO) -> list[str]:
    lines = []
    for raw in source:
        line = raw.rstrip("\r\n")
        if not line.strip() or line.lstrip().startswith("#"):
            continue
        if line.strip().lower() in ("/end", "/quit", "/exit"):
            break
        lines.append(line.strip())
    return lines


def _guess_lang(lines: list[str], wanted: str | None) -> Lang:
    if wanted in ("zh", "en"):
        return "en" if wanted == "en" else "zh"
    from bot.engine.classifier import detect_lang

    sample = " ".join(lines[:3])
    return "en" if sample and detect_lang(sample) == "en" else "zh"


def _print_result(out: TextIO, t: Messages, content: RoleplayContent, session: Session) -> None:
    card = score(session.persona, content.rubric, session.state, session.turns)
    out.write("\n" + render.scorecard_text(t, session.persona, content.rubric, card, session.lang) + "\n")


def _interactive(content: RoleplayContent, t: Messages, persona: Persona, lang: Lang, seed: int,
                 stdin: TextIO, out: TextIO) -> int:
    session = new_session(persona, lang, seed)
    out.write(render.briefing(t, persona, lang) + "\n\n")
    out.write((render.customer_line(t, persona, lang, session.opener) if session.opener
               else t(lang, "rp_scene", name=persona.name.get(lang))) + "\n")
    while session.state.active:
        out.write("> ")
        out.flush()
        raw = stdin.readline()
        if not raw:
            break
        line = raw.strip()
        if not line:
            continue
        command = line.lower()
        if command in ("/quit", "/exit", "/end"):
            break
        if command == "/hint":
            out.write(render.hint_text(t, hint(persona, session.state, lang), lang) + "\n")
            continue
        if command == "/repeat":
            last = session.state.last_line or t(lang, "rp_scene", name=persona.name.get(lang))
            out.write(render.customer_line(t, persona, lang, last) + "\n")
            continue
        if command == "/restart":
            session = new_session(persona, lang, seed + 1)
            out.write(t(lang, "rp_restarted", name=persona.name.get(lang)) + "\n")
            continue
        record = take_turn(persona, session.state, line)
        session.turns.append(record)
        out.write(render.customer_line(t, persona, "en" if record.lang == "en" else "zh", record.customer) + "\n")
    if session.state.active:
        session.state.status = "ended"
    if not session.turns:
        out.write(t(lang, "rp_cancelled_empty", name=persona.name.get(lang)) + "\n")
        return 0
    _print_result(out, t, content, session)
    return 0


def run_roleplay(knowledge_dir: Path, talk_dir: Path, persona_id: str, transcript: str | None, as_json: bool,
                 lang: str | None, seed: int, stdin: TextIO, stdout: TextIO, stderr: TextIO) -> int:
    """The `salescoach roleplay` command; returns the exit code (2 for bad arguments)."""
    kb = load_knowledge(knowledge_dir, talk_dir)
    content = load_roleplay(knowledge_dir, kb)
    t = Messages(talk_dir / "messages")
    persona = content.personas.get(persona_id.strip().lower())
    if persona is None:
        known = ", ".join(p.id for p in content.ordered())
        stderr.write(f"salescoach: unknown persona {persona_id!r}; choose one of: {known}\n")
        return 2
    if transcript is None and stdin.isatty() and not as_json:
        return _interactive(content, t, persona, _guess_lang([], lang), seed, stdin, stdout)
    try:
        if transcript is None or transcript == "-":
            lines = _read_lines(stdin)
        else:
            with open(transcript, encoding="utf-8") as handle:
                lines = _read_lines(handle)
    except (OSError, UnicodeDecodeError) as exc:
        stderr.write(f"salescoach: cannot read the transcript {transcript}: {exc}\n")
        return 2
    if not lines:
        stderr.write("salescoach: the transcript has no rep turns (one line per turn; # starts a comment)\n")
        return 2
    chosen = _guess_lang(lines, lang)
    session = play(persona, lines, chosen, seed)
    if as_json:
        stdout.write(json.dumps(result(content, t, session), ensure_ascii=False) + "\n")
        return 0
    if session.opener:
        stdout.write(render.customer_line(t, persona, chosen, session.opener) + "\n")
    for turn in session.turns:
        said = render.customer_line(t, persona, "en" if turn.lang == "en" else "zh", turn.customer)
        stdout.write(f"> {turn.rep}\n{said}\n")
    _print_result(stdout, t, content, session)
    return 0
