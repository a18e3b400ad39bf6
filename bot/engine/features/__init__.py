"""Features plug into the engine here, in one visible place; order matters only for free-text handlers
(the first that claims a message wins)."""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from bot.engine.core import Engine


def install_all(engine: Engine) -> None:
    """Register every feature's commands, buttons, text handlers, checkers and completion hooks."""
    # Each feature module exposes `install(engine)`; add one line per feature below.
    engine.verify()
