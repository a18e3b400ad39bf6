"""What the resilience tests observe: the running totals in /log replies, which count processing exactly."""

from __future__ import annotations

import re
from collections import Counter

from tests.fakebot.server import FakeBotApi

TOTAL = re.compile(r"合计 (\d+)")  # "/log calls 1" answers "… 本周(2026-W48)合计 N …"


def log_totals(api: FakeBotApi, chat_id: int) -> Counter[int]:
    """How often each running total was shown in the chat (a total shown twice = a reply sent twice)."""
    totals: Counter[int] = Counter()
    for message in api.sent(chat_id):
        match = TOTAL.search(message.text or "")
        if match:
            totals[int(match.group(1))] += 1
    return totals


def processed_exactly_once(totals: Counter[int], sent: int) -> bool:
    """Every /log was processed once: the totals are exactly 1..sent (no gap = none lost, no sent+1 = none twice)."""
    return set(totals) == set(range(1, sent + 1))
