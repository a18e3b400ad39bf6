"""Self-test wiring: make ``fakebot`` importable (it lives in tests/) and load its fixtures."""

from __future__ import annotations

import sys
from pathlib import Path

_TESTS_DIR = str(Path(__file__).resolve().parents[1])
if _TESTS_DIR not in sys.path:
    sys.path.insert(0, _TESTS_DIR)

from fakebot.fixtures import fake_api, fake_api_token  # noqa: E402

__all__ = ["fake_api", "fake_api_token"]
