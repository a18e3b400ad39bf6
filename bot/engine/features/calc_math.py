"""The price-change calculation of pricing.discount_math, in exact decimal arithmetic.

Given a unit price, a gross margin and a price change, how many units must be sold to keep the same
gross profit? The cost stays fixed, so every point of discount comes straight out of the unit profit:
at a 30 % margin a 5 % cut needs 20 % more volume. Inputs are parsed as reps type them (10000, 1万,
¥10,000, 30%, −5%, 降5%), and anything absurd is refused with the reason.
"""

from __future__ import annotations

import math
import re
import unicodedata
from dataclasses import dataclass
from decimal import Decimal, InvalidOperation
from fractions import Fraction

MAX_PRICE = Decimal(10) ** 9
MAX_UNITS = 10**9
MAX_CHANGE = Decimal(90)
EXAMPLE_PRICE, EXAMPLE_MARGIN, EXAMPLE_UNITS = Decimal(10000), Decimal(30), 1000
EXAMPLE_CHANGES = (Decimal(-5), Decimal(-10), Decimal(5))  # the seed's three cases
DEFAULT_UNITS = 1000


class CalcError(ValueError):
    """A refused input: `code` picks the message, `values` fill it."""

    def __init__(self, code: str, **values: object) -> None:
        super().__init__(code)
        self.code = code
        self.values = values


_MULTIPLIERS = {"万": Decimal(10_000), "w": Decimal(10_000), "千": Decimal(1000), "k": Decimal(1000),
                "亿": Decimal(10) ** 8, "m": Decimal(10) ** 6}
CUT_WORDS = ("降价", "降", "减价", "减", "下调", "下降", "打折", "让利", "少", "cut", "down", "minus", "less", "off")
RAISE_WORDS = ("提价", "涨价", "涨", "提", "加价", "加", "上调", "上涨", "raise", "up", "plus", "more")
_NUMBER = re.compile(r"\d+(?:\.\d+)?|\.\d+")


def _clean(text: str) -> str:
    s = unicodedata.normalize("NFKC", text).strip().lower()
    for ch in ("−", "–", "—", "－"):  # unicode minus and dashes typed on phones
        s = s.replace(ch, "-")
    return s.replace(" ", "")


def _decimal(raw: str, *, multipliers: bool = True, signed: bool = True) -> Decimal | None:
    """A plain decimal, optionally signed and with a multiplier suffix (万, 千, k, 亿); None when not a number."""
    s = raw.replace(",", "").replace("，", "")
    factor = Decimal(1)
    if multipliers:
        for suffix, mult in _MULTIPLIERS.items():
            if s.endswith(suffix) and len(s) > len(suffix):
                s, factor = s[: -len(suffix)], mult
                break
    sign = Decimal(1)
    if signed and s[:1] in ("-", "+"):
        sign, s = (Decimal(-1) if s[0] == "-" else Decimal(1)), s[1:]
    if not _NUMBER.fullmatch(s):
        return None
    try:
        return sign * Decimal(s) * factor
    except InvalidOperation:
        return None


def parse_price(text: str) -> Decimal | None:
    s = _clean(text)
    for mark in ("¥", "￥", "rmb", "cny", "元", "$", "/台", "每台"):
        s = s.replace(mark, "")
    return _decimal(s)


def parse_percent(text: str) -> Decimal | None:
    s = _clean(text).replace("%", "").replace("个点", "")
    return _decimal(s, multipliers=False)


def parse_change(text: str) -> Decimal | None:
    """-5, −5%, 降5%, 降价5%, cut5 → −5; +5, 涨5%, up5 → +5; a bare 5 means +5."""
    s = _clean(text)
    sign = Decimal(1)
    if s.startswith(("-", "+")):
        sign, s = (Decimal(-1) if s[0] == "-" else Decimal(1)), s[1:]
    else:
        for words, word_sign in ((CUT_WORDS, Decimal(-1)), (RAISE_WORDS, Decimal(1))):
            word = next((w for w in sorted(words, key=len, reverse=True) if s.startswith(w)), None)
            if word is not None:
                sign, s = word_sign, s[len(word):]
                break
    value = _decimal(s.replace("%", "").replace("个点", ""), multipliers=False, signed=False)
    return None if value is None else sign * value


def parse_units(text: str) -> Decimal | None:
    s = _clean(text)
    for unit in ("台", "个", "件", "套", "units", "unit", "pcs"):
        if s.endswith(unit):
            s = s[: -len(unit)]
            break
    return _decimal(s)


@dataclass(frozen=True)
class Inputs:
    price: Decimal
    margin: Decimal  # percent of the price
    change: Decimal  # percent, negative = price cut
    units: int


@dataclass(frozen=True)
class Result:
    inputs: Inputs
    cost: Decimal
    unit_profit: Decimal
    total_profit: Decimal
    new_price: Decimal
    new_unit_profit: Decimal
    needed_exact: Fraction
    needed: int  # rounded up: selling fewer would lose gross profit

    @property
    def volume_change(self) -> Fraction:
        """Relative change in volume, in percent (of the exact requirement)."""
        return (self.needed_exact / self.inputs.units - 1) * 100


def _shown(value: Decimal) -> str:
    """A refused value as the rep will recognise it, but never a wall of digits."""
    if abs(value) >= Decimal(10) ** 15:
        return f"{value:.3e}"
    return fmt_number(value)


def validate(price: Decimal, margin: Decimal, change: Decimal, units: Decimal) -> Inputs:
    """Raise CalcError for anything a rep could not mean; else the checked inputs."""
    if price <= 0 or price > MAX_PRICE:
        raise CalcError("calc_bad_price", value=_shown(price))
    if not Decimal(0) < margin < Decimal(100):
        raise CalcError("calc_bad_margin", value=_shown(margin))
    if abs(change) > MAX_CHANGE:
        raise CalcError("calc_bad_change", value=_shown(change))
    if units <= 0 or units != units.to_integral_value() or units > MAX_UNITS:
        raise CalcError("calc_bad_units", value=_shown(units))
    return Inputs(price, margin, change, int(units))


def compute(inputs: Inputs) -> Result:
    price, margin, change, units = inputs.price, inputs.margin, inputs.change, inputs.units
    unit_profit = price * margin / 100
    cost = price - unit_profit
    new_price = price * (100 + change) / 100
    new_unit_profit = new_price - cost
    if new_unit_profit <= 0:
        raise CalcError("calc_no_profit", new_price=fmt_money(new_price), cost=fmt_money(cost),
                        loss=fmt_money(-new_unit_profit), zero=new_unit_profit == 0, change=change)
    total = unit_profit * units
    exact = Fraction(total) / Fraction(new_unit_profit)
    return Result(inputs, cost, unit_profit, total, new_price, new_unit_profit, exact, math.ceil(exact))


def fmt_number(value: Decimal | int) -> str:
    """12,345 or 12,345.67 — no trailing zeros, no exponent."""
    d = Decimal(value)
    if d == d.to_integral_value():
        return f"{int(d):,}"
    text = f"{d.quantize(Decimal('0.01')):,.2f}"
    return text.rstrip("0").rstrip(".")


def fmt_money(value: Decimal) -> str:
    return ("−¥" if value < 0 else "¥") + fmt_number(abs(value))


def fmt_percent(value: Fraction) -> str:
    """+20%, −14.3%: one decimal at most, with a sign."""
    rounded = Decimal(value.numerator) / Decimal(value.denominator)
    rounded = rounded.quantize(Decimal("0.1"))
    text = fmt_number(abs(rounded))
    if rounded == 0:
        return "0%"
    return ("+" if rounded > 0 else "−") + text + "%"


def fmt_exact(value: Fraction) -> str:
    d = Decimal(value.numerator) / Decimal(value.denominator)
    return fmt_number(d.quantize(Decimal("0.01")))


def payload_number(value: Decimal) -> str:
    """A compact, exponent-free form for button data."""
    text = format(value.normalize(), "f")
    return text.rstrip("0").rstrip(".") if "." in text else text
