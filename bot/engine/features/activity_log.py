"""/log METRIC N [CUSTOMER] and /log with buttons; /undo takes back the rep's last /log entry.

Amounts are whole numbers from 1 to the metric's `max` in knowledge/metrics.yaml; anything else is
refused with an example and changes nothing. Flows and role-plays record their own events; /undo only
ever touches the rep's own entries made with /log.
"""

from __future__ import annotations

import re
from typing import TYPE_CHECKING
from zoneinfo import ZoneInfo

from bot.engine.events import Button, OutboundMessage
from bot.engine.features.teamkit import metric_buttons, metrics_repo, rep_timezone
from bot.engine.metrics import Metric
from bot.engine.periods import week_containing
from bot.text.normalize import fold
from db.store import CustomerInfo, DialogState

if TYPE_CHECKING:
    from bot.engine.core import Engine, Turn

LOG_PREFIX = "lg"
MAX_CUSTOMER = 100
_NUMBER = re.compile(r"^[+-]?\d+(?:[.,]\d+)?$|^[+-]?[.,]\d+$")
_GLUED = re.compile(r"^(\D+?)\s*([+-]?\d+(?:[.,]\d+)?)$")


class ActivityLog:
    def __init__(self, engine: Engine) -> None:
        self.engine = engine
        self.t = engine.t
        self.catalog = engine.content.metrics

    async def log(self, turn: Turn, dialog: DialogState | None) -> list[OutboundMessage]:
        lang, args = turn.lang, " ".join(turn.event.args.split())
        if not args:
            return [self._metric_menu(turn, more=False)]
        parsed = self._parse(args)
        if parsed is None:
            return [OutboundMessage(self.t(lang, "log_usage"))]
        metric, metric_text, amount_text, customer_text = parsed
        if metric is None:
            return [OutboundMessage(self.t(lang, "log_unknown_metric", metric=metric_text[:40]),
                                    buttons=metric_buttons(self.catalog, lang, f"{LOG_PREFIX}:m:",
                                                           self.catalog.log_buttons))]
        if amount_text is None:
            return [self._amount_menu(turn, metric)]
        amount = self._amount(amount_text, metric)
        if amount is None:
            return [OutboundMessage(self.t(lang, "log_bad_amount", metric=metric.label(lang), max=metric.max,
                                           given=amount_text[:20], mkey=metric.label(lang)))]
        customer: CustomerInfo | None = None
        created = False
        if customer_text:
            if len(customer_text) > MAX_CUSTOMER:
                return [OutboundMessage(self.t(lang, "log_customer_too_long", limit=MAX_CUSTOMER))]
            customer, created = await self._customer(turn, customer_text)
        return await self._record(turn, metric, amount, customer, created)

    def _parse(self, args: str) -> tuple[Metric | None, str, str | None, str] | None:
        """METRIC [N] [CUSTOMER] → (metric, its text, the amount's text or None, the customer's text).

        The amount is the first number-like token after the metric (aliases may have spaces, e.g.
        `next meeting 2`); `电话5` without a space works too. A metric followed by something that is not a
        number (`/log 电话 五`) keeps that text as the amount, so the reply says the amount is wrong.
        None when the text starts with a number (no metric).
        """
        tokens = args.split(" ")
        if _NUMBER.match(tokens[0]):
            return None
        for i in range(1, len(tokens)):
            if _NUMBER.match(tokens[i]):
                text = " ".join(tokens[:i])
                return self.catalog.resolve(text), text, tokens[i], " ".join(tokens[i + 1:])
        whole = self.catalog.resolve(args)
        if whole is not None:
            return whole, args, None, ""
        glued = _GLUED.match(tokens[0])
        if glued and self.catalog.resolve(glued.group(1)) is not None:
            return self.catalog.resolve(glued.group(1)), glued.group(1), glued.group(2), " ".join(tokens[1:])
        for i in range(len(tokens) - 1, 0, -1):
            head = self.catalog.resolve(" ".join(tokens[:i]))
            if head is not None:
                return head, " ".join(tokens[:i]), " ".join(tokens[i:]), ""
        return None if len(tokens) > 3 else (None, args, None, "")

    @staticmethod
    def _amount(text: str, metric: Metric) -> int | None:
        if not text.isdigit():
            return None
        value = int(text)
        return value if 1 <= value <= metric.max else None

    async def _customer(self, turn: Turn, text: str) -> tuple[CustomerInfo, bool]:
        """The rep's customer by exact name, else the only one whose name contains it, else a new one."""
        wanted = fold(text)
        customers = await turn.store.customers.list_for(turn.user.id, limit=500)
        exact = [c for c in customers if fold(c.name) == wanted]
        if exact:
            return exact[0], False
        partial = [c for c in customers if wanted in fold(c.name)]
        if len(partial) == 1:
            return partial[0], False
        return await turn.store.customers.ensure(turn.user.id, text), True

    async def _record(self, turn: Turn, metric: Metric, amount: int, customer: CustomerInfo | None,
                      created: bool) -> list[OutboundMessage]:
        lang = turn.lang
        tz, _team = await rep_timezone(turn)
        week = week_containing(turn.now, tz)
        total = await turn.store.activity.add_counting(
            turn.user.id, metric.key, amount, since=week.start, until=week.end, source="log", occurred_at=turn.now,
            customer_id=customer.id if customer else None)
        text = self.t(lang, "log_done", metric=metric.label(lang), amount=amount, total=total, week=week.label,
                      customer=customer.name if customer else "", created=created)
        return [OutboundMessage(text)]

    def _metric_menu(self, turn: Turn, more: bool) -> OutboundMessage:
        lang = turn.lang
        keys = None if more else self.catalog.log_buttons
        rows = metric_buttons(self.catalog, lang, f"{LOG_PREFIX}:m:", keys, per_row=2 if not more else 3)
        if not more and len(self.catalog.log_buttons) < len(self.catalog.metrics):
            rows.append([Button(self.t(lang, "log_more_button"), f"{LOG_PREFIX}:more")])
        return OutboundMessage(self.t(lang, "log_pick_metric"), buttons=rows)

    def _amount_menu(self, turn: Turn, metric: Metric) -> OutboundMessage:
        lang = turn.lang
        amounts = [n for n in self.catalog.amount_buttons if n <= metric.max]
        row = [Button(str(n), f"{LOG_PREFIX}:a:{metric.key}:{n}") for n in amounts]
        return OutboundMessage(self.t(lang, "log_pick_amount", metric=metric.label(lang), mkey=metric.label(lang),
                                      max=metric.max), buttons=[row])

    async def button(self, turn: Turn, dialog: DialogState | None, rest: str) -> list[OutboundMessage] | None:
        """lg:more · lg:m:<metric> · lg:a:<metric>:<n>; an unknown metric or amount is refused (None)."""
        parts = rest.split(":")
        if parts == ["more"]:
            return [self._metric_menu(turn, more=True)]
        if len(parts) == 2 and parts[0] == "m":
            metric = self.catalog.get(parts[1])
            return [self._amount_menu(turn, metric)] if metric else None
        if len(parts) == 3 and parts[0] == "a":
            metric = self.catalog.get(parts[1])
            if metric is None:
                return None
            amount = self._amount(parts[2], metric)
            if amount is None:
                return None
            replies = await self._record(turn, metric, amount, None, False)
            replies[0].edit = True  # replace the amount buttons: a second tap cannot log twice
            return replies
        return None

    async def undo(self, turn: Turn, dialog: DialogState | None) -> list[OutboundMessage]:
        lang = turn.lang
        repo = metrics_repo(turn)
        entry = await repo.last_log(turn.user.id)
        if entry is None:
            return [OutboundMessage(self.t(lang, "undo_nothing"))]
        await repo.delete_event(turn.user.id, entry.id)
        metric = self.catalog.get(entry.kind)
        label = metric.label(lang) if metric else entry.kind
        tz, _team = await rep_timezone(turn)
        when = entry.occurred_at.astimezone(ZoneInfo(tz)).strftime("%m-%d %H:%M")
        week = week_containing(turn.now, tz)
        total = (await repo.user_sums(turn.user.id, week.start, week.end)).get(entry.kind, 0)
        return [OutboundMessage(self.t(lang, "undo_done", metric=label, amount=entry.amount, when=when,
                                       total=total))]


def install(engine: Engine) -> ActivityLog:
    feature = ActivityLog(engine)
    engine.add_command("log", feature.log)
    engine.add_command("undo", feature.undo)
    engine.add_button(LOG_PREFIX, feature.button)
    return feature
