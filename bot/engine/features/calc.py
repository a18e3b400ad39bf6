"""/calc — the price-change calculator (pricing.discount_math).

`/calc` alone shows the seed's worked example; `/calc PRICE MARGIN% [CHANGE%] [UNITS]` computes the
rep's own case; buttons under every answer try other price changes on the same numbers.
"""

from __future__ import annotations

import re
from decimal import Decimal
from fractions import Fraction
from typing import TYPE_CHECKING

from bot.engine.events import Button, Lang, OutboundMessage
from bot.engine.features.calc_math import (
    CUT_WORDS,
    DEFAULT_UNITS,
    EXAMPLE_CHANGES,
    EXAMPLE_MARGIN,
    EXAMPLE_PRICE,
    EXAMPLE_UNITS,
    RAISE_WORDS,
    CalcError,
    Inputs,
    Result,
    compute,
    fmt_exact,
    fmt_money,
    fmt_number,
    fmt_percent,
    parse_change,
    parse_percent,
    parse_price,
    parse_units,
    payload_number,
    validate,
)
from bot.engine.i18n import Messages
from db.store import DialogState

if TYPE_CHECKING:
    from bot.engine.core import Engine, Turn

PREFIX = "cc"  # cc:<price>:<margin>:<change>:<units>
TRY_CHANGES = tuple(Decimal(c) for c in (-5, -10, -15, -20, 5, 10))
MAX_TRY_BUTTONS = 4
KNOWLEDGE = ("pricing.discount_math", "pricing.price_traps")
_SPLIT = re.compile(r"[\s，、;；]+")
_SIGN_WORDS = {*CUT_WORDS, *RAISE_WORDS, "-", "+", "−"}


def split_args(args: str) -> list[str]:
    """Whitespace-separated values; a lone sign word joins the value after it (降 5% → 降5%)."""
    tokens = [p.strip(",") for p in _SPLIT.split(args.strip()) if p.strip(",")]
    out: list[str] = []
    for token in tokens:
        if out and out[-1].lower() in _SIGN_WORDS:
            out[-1] += token
        else:
            out.append(token)
    return out


def parse_args(tokens: list[str]) -> tuple[Inputs, list[Decimal], bool]:
    """(inputs, the price changes to show, units defaulted?) or CalcError."""
    if not 2 <= len(tokens) <= 4:
        raise CalcError("calc_usage")
    parsers = [("price", parse_price), ("margin", parse_percent), ("change", parse_change), ("units", parse_units)]
    values: list[Decimal] = []
    for (field, parser), token in zip(parsers, tokens, strict=False):
        value = parser(token)
        if value is None:
            raise CalcError("calc_not_number", field=field, value=token[:40])
        values.append(value)
    price, margin = values[0], values[1]
    changes = [values[2]] if len(values) > 2 else list(EXAMPLE_CHANGES)
    units = values[3] if len(values) > 3 else Decimal(DEFAULT_UNITS)
    inputs = validate(price, margin, changes[0], units)
    for change in changes[1:]:
        validate(price, margin, change, units)
    return inputs, changes, len(values) < 4


def _change_label(t: Messages, lang: str, change: Decimal) -> str:
    pct = fmt_number(abs(change)) + "%"
    if change < 0:
        return t(lang, "calc_change_cut", pct=pct)
    if change > 0:
        return t(lang, "calc_change_raise", pct=pct)
    return t(lang, "calc_change_none")


def _line(t: Messages, lang: str, r: Result) -> str:
    exact = r.needed_exact.denominator != 1
    return t(lang, "calc_line", change=_change_label(t, lang, r.inputs.change), new_price=fmt_money(r.new_price),
             new_unit_profit=fmt_money(r.new_unit_profit), needed=fmt_number(r.needed),
             exact=fmt_exact(r.needed_exact) if exact else "", volume=fmt_percent(r.volume_change))


def _base(t: Messages, lang: str, r: Result, default_units: bool) -> str:
    i = r.inputs
    return t(lang, "calc_base", price=fmt_money(i.price), margin=fmt_number(i.margin) + "%",
             units=fmt_number(i.units), default_units=default_units, cost=fmt_money(r.cost),
             unit_profit=fmt_money(r.unit_profit), total=fmt_money(r.total_profit))


def _verdict(t: Messages, lang: str, r: Result) -> str:
    change = r.inputs.change
    profit_change = Fraction(r.new_unit_profit) / Fraction(r.unit_profit) * 100 - 100
    if change < 0:
        return t(lang, "calc_verdict_cut", change=_change_label(t, lang, change),
                 profit=fmt_percent(profit_change).lstrip("−"), volume=fmt_percent(r.volume_change),
                 more=fmt_number(r.needed - r.inputs.units))
    if change > 0:
        return t(lang, "calc_verdict_raise", change=_change_label(t, lang, change),
                 profit=fmt_percent(profit_change).lstrip("+"), fewer=fmt_number(max(r.inputs.units - r.needed, 0)))
    return t(lang, "calc_verdict_none")


def _buttons(t: Messages, lang: str, inputs: Inputs, shown: list[Decimal],
             links: list[tuple[str, str]]) -> list[list[Button]]:
    row: list[Button] = []
    for change in TRY_CHANGES:
        if change in shown or len(row) >= MAX_TRY_BUTTONS:
            continue
        candidate = Inputs(inputs.price, inputs.margin, change, inputs.units)
        try:
            compute(candidate)
        except CalcError:
            continue  # no button for a price that leaves no profit
        data = ":".join([PREFIX, payload_number(inputs.price), payload_number(inputs.margin),
                         payload_number(change), str(inputs.units)])
        if len(data.encode()) <= 64:
            row.append(Button(_change_label(t, lang, change), data))
    rows = [row] if row else []
    rows += [[Button("📖 " + title[:56], f"k:{entry_id}")] for entry_id, title in links]
    return rows


def render(t: Messages, lang: Lang, inputs: Inputs, changes: list[Decimal], default_units: bool,
           example: bool, links: list[tuple[str, str]]) -> OutboundMessage:
    """The answer card: the base figures, one line per price change, a verdict or the lesson."""
    results = [compute(Inputs(inputs.price, inputs.margin, c, inputs.units)) for c in changes]
    first = results[0]
    parts = [t(lang, "calc_example_title" if example else "calc_title"), _base(t, lang, first, default_units),
             t(lang, "calc_keep", total=fmt_money(first.total_profit)) + "\n" + "\n".join(_line(t, lang, r)
                                                                                       for r in results)]
    if len(results) == 1:
        parts.append(_verdict(t, lang, first))
    else:
        parts.append(t(lang, "calc_lesson"))
    parts.append(t(lang, "calc_usage_hint"))
    return OutboundMessage("\n\n".join(parts), buttons=_buttons(t, lang, inputs, changes, links))


def install(engine: Engine) -> None:
    t = engine.t

    def links(lang: Lang) -> list[tuple[str, str]]:
        """Buttons to the pricing entries that exist (the knowledge base may still be growing)."""
        found = [(entry_id, engine.content.kb.get(entry_id)) for entry_id in KNOWLEDGE]
        return [(entry_id, entry.title_in(lang)) for entry_id, entry in found if entry is not None]

    def refusal(lang: Lang, error: CalcError) -> OutboundMessage:
        values = dict(error.values)
        if "field" in values:
            values["field"] = t(lang, f"calc_field_{values['field']}")
        if isinstance(values.get("change"), Decimal):
            values["change"] = _change_label(t, lang, Decimal(str(values["change"])))
        return OutboundMessage(t(lang, error.code, **values))

    async def tail(turn: Turn, dialog: DialogState | None) -> list[OutboundMessage]:
        """Inside a flow, say where the rep was, as /ask does."""
        if dialog is None or dialog.phase == "resume":
            return []
        return await engine.open_flow(turn, dialog, dialog.flow)

    async def command(turn: Turn, dialog: DialogState | None) -> list[OutboundMessage]:
        tokens = split_args(turn.event.args)
        if not tokens:
            example = Inputs(EXAMPLE_PRICE, EXAMPLE_MARGIN, EXAMPLE_CHANGES[0], EXAMPLE_UNITS)
            out = [render(t, turn.lang, example, list(EXAMPLE_CHANGES), False, True, links(turn.lang))]
            return out + await tail(turn, dialog)
        try:
            inputs, changes, defaulted = parse_args(tokens)
            out = [render(t, turn.lang, inputs, changes, defaulted, False, links(turn.lang))]
        except CalcError as error:
            out = [refusal(turn.lang, error)]
        return out + await tail(turn, dialog)

    async def button(turn: Turn, dialog: DialogState | None, rest: str) -> list[OutboundMessage] | None:
        parts = rest.split(":")
        if len(parts) != 4 or len(rest) > 60:
            return None
        price, margin, change, units = (parse_price(parts[0]), parse_percent(parts[1]), parse_change(parts[2]),
                                        parse_units(parts[3]))
        if price is None or margin is None or change is None or units is None:
            return None
        try:
            inputs = validate(price, margin, change, units)
            return [render(t, turn.lang, inputs, [change], False, False, links(turn.lang))]
        except CalcError:
            return None  # our buttons only carry figures that compute

    engine.add_command("calc", command)
    engine.add_button(PREFIX, button)
