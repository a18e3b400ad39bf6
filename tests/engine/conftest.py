"""Engine-test fixtures shared by several modules."""

from __future__ import annotations

from tests.engine.teams_helpers import team_runtime

__all__ = ["team_runtime"]
