"""Choosing the customer's words: a variant not yet said in this session where possible, never the
line said just before, and reproducible (the choice depends only on the session seed, the turn and
the bank), so the same rep turns always give the same transcript."""

from __future__ import annotations

import random

from bot.engine.roleplay.state import SessionState


def _rng(state: SessionState, key: str, salt: int = 0) -> random.Random:
    return random.Random(f"{state.seed}:{state.turn}:{key}:{salt}")


def pick(state: SessionState, key: str, lines: tuple[str, ...], avoid: str = "") -> str:
    """One variant of `lines`, cycling through the unsaid ones first; `avoid` is never returned
    when another variant exists."""
    if not lines:
        return ""
    slot = f"{state.lang}:{key}"
    used = state.used.setdefault(slot, [])
    fresh = [i for i in range(len(lines)) if i not in used]
    if not fresh:
        last = used[-1] if used else None
        used.clear()
        fresh = [i for i in range(len(lines)) if i != last] or list(range(len(lines)))
    choices = [i for i in fresh if lines[i] != avoid] or [i for i in range(len(lines)) if lines[i] != avoid]
    if not choices:
        choices = fresh
    index = _rng(state, key).choice(choices)
    used.append(index)
    return lines[index]
