"""Random Telegram updates through the adapter: `Update.de_json` of random (well-formed) update dicts, the
inbox, `event_from_update` and the real handlers of the Application, sending to the fake Bot API.

Nothing raises out of a handler (no error is logged), every message and button press is answered with at
least one message, updates the bot does not answer (edits, channel posts, member changes) are marked done,
and no update is left pending in the inbox once processed.
"""

from __future__ import annotations

import logging
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from pydantic import SecretStr
from telegram import Update

from bot.telegram.app import AnyApplication, build_application
from bot.telegram.convert import chat_id_of, event_from_update
from bot.telegram.inbox import Dispatcher
from tests.fakebot.server import FakeBotApi
from tests.fuzz.conftest import Harness
from tests.fuzz.strategies import updates

ANSWERING = ("sendmessage", "editmessagetext", "sendphoto", "senddocument")


class Errors(logging.Handler):
    """Collects error records: a handler that raised shows up here (PTB hands it to our error handler)."""

    def __init__(self) -> None:
        super().__init__(logging.ERROR)
        self.records: list[logging.LogRecord] = []

    def emit(self, record: logging.LogRecord) -> None:
        self.records.append(record)


@dataclass
class Adapter:
    harness: Harness
    api: FakeBotApi
    application: AnyApplication
    dispatcher: Dispatcher
    errors: Errors


@pytest.fixture(scope="module")
def adapter(harness: Harness) -> Iterator[Adapter]:
    api = FakeBotApi(strict=True)
    api.start()
    runtime = harness.runtime
    runtime.settings = runtime.settings.model_copy(update={
        "telegram_bot_token": SecretStr(api.token), "telegram_api_base_url": api.base_url, "send_rate": 0})
    application = build_application(runtime.settings, runtime)
    harness.run(application.initialize())
    errors = Errors()
    logging.getLogger().addHandler(errors)
    try:
        yield Adapter(harness, api, application, Dispatcher(application, runtime), errors)
    finally:
        logging.getLogger().removeHandler(errors)
        harness.run(application.shutdown())
        api.stop()


def answers(api: FakeBotApi, chat_id: int, since: int) -> int:
    return sum(1 for c in api.calls()[since:]
               if c.method.lower() in ANSWERING and c.ok and c.params.get("chat_id") == chat_id)


@settings(max_examples=100, deadline=None, suppress_health_check=[HealthCheck.too_slow,
                                                                  HealthCheck.function_scoped_fixture])
@given(data=st.data())
def test_random_updates_through_the_adapter(adapter: Adapter, data: st.DataObject) -> None:
    harness, api = adapter.harness, adapter.api
    update_id = 800_000_000 + next(harness.ids)
    payload: dict[str, Any] = data.draw(updates(update_id))
    errors_before, calls_before = len(adapter.errors.records), len(api.calls())

    harness.run(adapter.dispatcher.store([payload]))  # as the poller and the webhook do; it queues the update
    update = Update.de_json(payload, adapter.application.bot)
    event = event_from_update(update)
    harness.run(adapter.dispatcher.wait_idle())

    raised = [r.getMessage() for r in adapter.errors.records[errors_before:]]
    assert not raised, raised
    status = harness.inbox_status(update_id)
    assert status in ("done", "ignored"), f"update left {status}: {payload}"
    if event is not None:
        assert answers(api, chat_id_of(update), calls_before) >= 1, f"no answer to {payload}"
    else:
        assert not (payload.get("message") or payload.get("callback_query")), f"not understood: {payload}"
    assert not harness.impossible_dialogs()
