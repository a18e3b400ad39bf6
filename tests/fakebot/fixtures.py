"""Pytest fixtures for the fake Bot API.

Import them into a conftest.py::

    pytest_plugins = ["tests.fakebot.fixtures"]   # or: from tests.fakebot.fixtures import fake_api
"""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from .server import DEFAULT_TOKEN, FakeBotApi

TEST_TOKEN = DEFAULT_TOKEN  # "123456:TEST-TOKEN-abcdefghijklmnopqrstuv"


@pytest.fixture
def fake_api_token() -> str:
    return TEST_TOKEN


@pytest.fixture
def fake_api(fake_api_token: str) -> Iterator[FakeBotApi]:
    """A started :class:`FakeBotApi` on a free 127.0.0.1 port, stopped after the test."""
    api = FakeBotApi(fake_api_token)
    api.start()
    try:
        yield api
    finally:
        api.stop()
