"""/calc: what a price change does to the volume needed for the same gross profit (pricing.discount_math)."""

from __future__ import annotations

from decimal import Decimal
from fractions import Fraction

import pytest
from hypothesis import given
from hypothesis import strategies as st

from bot.engine.features.calc_math import CalcError, Inputs, compute, parse_change, parse_price, validate
from tests.helpers import Rep

EXAMPLE = "/calc 10000 30% -5% 1000"


async def test_worked_example_of_the_seed(rep: Rep) -> None:
    await rep.say("/calc")
    text = rep.last
    for figure in ("¥10,000", "30%", "1,000 台", "单台成本 ¥7,000", "单台毛利 ¥3,000", "总毛利 ¥3,000,000"):
        assert figure in text, figure
    lines = text.splitlines()
    cut5 = next(line for line in lines if line.startswith("• 降价 5%"))
    cut10 = next(line for line in lines if line.startswith("• 降价 10%"))
    up5 = next(line for line in lines if line.startswith("• 提价 5%"))
    assert "¥9,500" in cut5 and "1,200 台" in cut5 and "+20%" in cut5
    assert "¥9,000" in cut10 and "1,500 台" in cut10 and "+50%" in cut10
    assert "¥10,500" in up5 and "858 台" in up5 and "857.14" in up5 and "−14.3%" in up5
    assert rep.button("降价 15%")  # try other changes on the same figures


async def test_worked_example_in_english(en_rep: Rep) -> None:
    await en_rep.say("/calc")
    text = en_rep.last
    assert "unit cost ¥7,000" in text and "total gross profit ¥3,000,000" in text
    assert "1,200 units (volume +20%)" in text and "1,500 units (volume +50%)" in text
    assert "858 units (exactly 857.14" in text and "−14.3%" in text


@pytest.mark.parametrize("args", ["10000 30 -5 1000", "1万 30% 降5% 1000", "¥10,000 30% −5% 1,000台",
                                  "10000 30% 降价 5%", "10k 30 cut5"])
async def test_the_ways_reps_type_the_same_case(rep: Rep, args: str) -> None:
    await rep.say(f"/calc {args}")
    assert "要卖 1,200 台" in rep.last and "+20%" in rep.last
    assert "多卖 200 台" in rep.last


async def test_a_raise_needs_fewer_units(rep: Rep) -> None:
    await rep.say("/calc 10000 30 +5 1000")
    assert "858 台" in rep.last and "少卖 142 台" in rep.last


async def test_try_another_change_with_a_button(rep: Rep) -> None:
    await rep.say("/calc 10000 30 -5 1000")
    await rep.press("降价 10%")
    assert "1,500 台" in rep.last and "+50%" in rep.last
    for forged in ("cc:abc:30:-5:1000", "cc:10000:30:-95:1000", "cc:10000:30:-40:1000", "cc:0:30:-5:1000",
                   "cc:10000:30:-5", "cc:10000:30:-5:0.5"):
        await rep.press_data(forged)
        assert rep.replies[0].text.startswith("⚠️"), forged


BAD_ZH = [
    ("abc 30 -5 1000", "不是一个数字"),
    ("10000 三十 -5 1000", "不是一个数字"),
    ("10000 30 -5 很多", "不是一个数字"),
    ("0 30 -5 1000", "要大于 0"),
    ("-100 30 -5 1000", "要大于 0"),
    ("2000000000 30 -5 1000", "不超过 10 亿"),
    ("10000 0 -5 1000", "0% 和 100% 之间"),
    ("10000 100 -5 1000", "0% 和 100% 之间"),
    ("10000 150 -5 1000", "0% 和 100% 之间"),
    ("10000 30 -95 1000", "−90% 到 +90%"),
    ("10000 30 +120 1000", "−90% 到 +90%"),
    ("10000 30 -30 1000", "没有利润"),
    ("10000 30 -50 1000", "没有利润"),
    ("10000 30 -5 0", "大于 0 的整数"),
    ("10000 30 -5 -3", "大于 0 的整数"),
    ("10000 30 -5 2.5", "大于 0 的整数"),
    ("10000", "用法"),
    ("10000 30 -5 1000 9", "用法"),
]


@pytest.mark.parametrize(("args", "reason"), BAD_ZH)
async def test_bad_numbers_are_refused_in_chinese(rep: Rep, args: str, reason: str) -> None:
    await rep.say(f"/calc {args}")
    assert rep.last.startswith("⚠️") and reason in rep.last
    assert EXAMPLE in rep.last  # always with an example of what works


BAD_EN = [
    ("abc 30 -5 1000", "is not a number"),
    ("0 30 -5 1000", "must be above 0"),
    ("2000000000 30 -5 1000", "at most 1,000,000,000"),
    ("10000 0 -5 1000", "between 0% and 100%"),
    ("10000 100 -5 1000", "between 0% and 100%"),
    ("10000 30 -95 1000", "between −90% and +90%"),
    ("10000 30 -30 1000", "no profit"),
    ("10000 30 -5 0", "whole number above 0"),
    ("10000 30 -5 2.5", "whole number above 0"),
    ("10000", "Usage"),
]


@pytest.mark.parametrize(("args", "reason"), BAD_EN)
async def test_bad_numbers_are_refused_in_english(en_rep: Rep, args: str, reason: str) -> None:
    await en_rep.say(f"/calc {args}")
    assert en_rep.last.startswith("⚠️") and reason in en_rep.last
    assert EXAMPLE in en_rep.last


async def test_calc_in_the_middle_of_a_flow_keeps_the_place(rep: Rep) -> None:
    await rep.say("/prep")
    await rep.say("华为技术")
    await rep.say("/calc 10000 30 -5")
    assert "1,200 台" in rep.replies[0].text
    assert "要见的是谁" in rep.last
    await rep.say("王经理")
    assert "阶段" in rep.last


def test_parsing_of_typed_figures() -> None:
    assert parse_price("1.5万") == Decimal(15000)
    assert parse_price("¥10,000") == Decimal(10000)
    assert parse_change("降5%") == Decimal(-5)
    assert parse_change("涨 5") == Decimal(5)
    assert parse_change("−5%") == Decimal(-5)
    assert parse_change("+5") == Decimal(5)


@given(
    price=st.decimals(min_value=Decimal("0.01"), max_value=Decimal(10) ** 9, places=2),
    margin=st.decimals(min_value=Decimal("0.1"), max_value=Decimal("99.9"), places=1),
    change=st.decimals(min_value=Decimal(-90), max_value=Decimal(90), places=1),
    units=st.integers(min_value=1, max_value=10**9),
)
def test_whole_units_always_keep_the_gross_profit(price: Decimal, margin: Decimal, change: Decimal,
                                                  units: int) -> None:
    """Rounded up, never down: the volume found earns at least the old gross profit, one unit less does not."""
    inputs = validate(price, margin, change, Decimal(units))
    if price * (100 + change) / 100 <= price * (100 - margin) / 100:  # the new price leaves no profit
        with pytest.raises(CalcError, match="calc_no_profit"):
            compute(inputs)
        return
    result = compute(inputs)
    profit = Fraction(result.new_unit_profit)
    target = Fraction(result.total_profit)
    assert result.needed * profit >= target
    assert (result.needed - 1) * profit < target


def test_seed_figures_exactly() -> None:
    def needed(change: int) -> int:
        return compute(Inputs(Decimal(10000), Decimal(30), Decimal(change), 1000)).needed

    assert (needed(-5), needed(-10), needed(5)) == (1200, 1500, 858)
    assert compute(Inputs(Decimal(10000), Decimal(30), Decimal(5), 1000)).needed_exact == Fraction(6000, 7)
