"""Random input straight into the engine (`Runtime.process`): nothing raises, every input is answered, and no
dialog is left in a state that cannot exist.

Sequences mix random text, commands with random arguments, forged button data and real buttons taken from
the previous replies (sometimes mangled), so flows are entered and pushed around, not only poked from outside.
"""

from __future__ import annotations

from typing import Any

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from bot.engine.events import InboundEvent, OutboundMessage
from tests.fuzz.conftest import Harness
from tests.fuzz.strategies import button_data, commands, media, texts

FLOW_STARTS = ["/prep", "/visit1", "/visit2", "/spin", "/fab", "/log", "/plan", "/week", "/roleplay", "/start"]

steps = st.one_of(
    st.tuples(st.just("text"), texts),
    st.tuples(st.just("text"), commands),
    st.tuples(st.just("text"), st.sampled_from(FLOW_STARTS)),
    st.tuples(st.just("button"), button_data),
    st.tuples(st.just("real_button"), st.tuples(st.integers(0, 50), st.sampled_from(["", "0", "9", "x", ":"]))),
    st.tuples(st.just("media"), media),
    st.tuples(st.just("wait"), st.sampled_from([1, 90, 60 * 24 * 8])),  # minutes: resume offers, expiry
)


def real_button(replies: list[OutboundMessage], pick: int, junk: str) -> str | None:
    """A button of the last replies, as pressed, or with junk appended (a stale or tampered payload)."""
    data = [b.data for m in replies for row in m.buttons for b in row]
    if not data:
        return None
    return data[pick % len(data)] + junk


@settings(max_examples=100, deadline=None, suppress_health_check=[HealthCheck.too_slow,
                                                                  HealthCheck.function_scoped_fixture])
@given(sequence=st.lists(steps, min_size=1, max_size=8), language=st.sampled_from(["zh-hans", "en", None, "ru"]))
def test_random_events_are_always_answered_and_leave_a_consistent_store(
    harness: Harness, sequence: list[tuple[str, Any]], language: str | None
) -> None:
    user = 900_000_000 + next(harness.ids)
    common: dict[str, Any] = {"name": "Fuzz", "language_code": language}
    replies: list[OutboundMessage] = []
    for kind, value in sequence:
        if kind == "wait":
            harness.clock.advance(minutes=value)
            continue
        if kind == "text":
            event = InboundEvent.from_text(user, user, value, **common)
        elif kind == "media":
            event = InboundEvent(user_id=user, chat_id=user, kind="unsupported", media=value, **common)
        else:
            data = value if kind == "button" else real_button(replies, *value)
            if data is None:
                continue
            event = InboundEvent(user_id=user, chat_id=user, kind="button", button=data, **common)
        replies = harness.run(harness.runtime.process(event)).messages
        assert replies, f"no answer to {event}"
        assert all(m.text.strip() or m.attachment for m in replies), f"an empty reply to {event}"
    assert not harness.impossible_dialogs()
