"""Self-test wiring: the fake Bot API fixtures (tests/conftest.py may load them too)."""

from __future__ import annotations

from tests.fakebot.fixtures import fake_api, fake_api_token

__all__ = ["fake_api", "fake_api_token"]
