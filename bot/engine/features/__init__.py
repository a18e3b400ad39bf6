"""Features plug into the engine here, in one visible place; order matters only for free-text handlers
(the first that claims a message wins)."""

from __future__ import annotations

from typing import TYPE_CHECKING

from bot.engine.features import calc, customers, fab, plan, roleplay, spin, teamwork, visits, weekcheck

if TYPE_CHECKING:
    from bot.engine.core import Engine


def install_all(engine: Engine) -> None:
    """Register every feature's commands, buttons, text handlers, checkers and completion hooks."""
    # Each feature module exposes `install(engine)`; add one line per feature below.
    teamwork.install(engine)  # teams, activity and metrics (#6)
    spin.install(engine)  # /spin SPIN coach (#4)
    fab.install(engine)  # /fab FAB builder (#4)
    calc.install(engine)  # /calc price-change calculator (#4)
    weekcheck.install(engine)  # weekly self-check flow, recorded as activity (#4)
    plan.install(engine)  # /plan next week's visits (#4)
    visits.install(engine)  # /visit1, /visit2, /debrief1, /debrief2 and visit reminders (#4)
    customers.install(engine)  # /customers: stage, relationship, value × attitude grid (#4)
    roleplay.install(engine)  # /roleplay, /hint, /end, /history, /drill: scored role-play practice (#5)
    engine.verify()
