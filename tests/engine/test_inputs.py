"""Typed answers: dates and numbers the way reps write them."""

from __future__ import annotations

from datetime import date

import pytest

from bot.engine.inputs import parse_date, parse_number, parse_yesno

MONDAY = date(2026, 11, 23)


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("明天", date(2026, 11, 24)),
        ("后天", date(2026, 11, 25)),
        ("下周二", date(2026, 12, 1)),
        ("周五", date(2026, 11, 27)),
        ("星期天", date(2026, 11, 29)),
        ("12月3日", date(2026, 12, 3)),
        ("2026-12-01", date(2026, 12, 1)),
        ("2026/12/1", date(2026, 12, 1)),
        ("1/15", date(2027, 1, 15)),
        ("三天后", date(2026, 11, 26)),
        ("tomorrow", date(2026, 11, 24)),
        ("Next Friday", date(2026, 12, 4)),
        ("２０２６－１２－０２", date(2026, 12, 2)),
    ],
)
def test_dates(text: str, expected: date) -> None:
    assert parse_date(text, MONDAY) == expected


@pytest.mark.parametrize("text", ["", "下辈子", "13月1日", "2026-02-30", "asap"])
def test_bad_dates(text: str) -> None:
    assert parse_date(text, MONDAY) is None


@pytest.mark.parametrize(
    ("text", "expected"),
    [("12", 12.0), ("1.5", 1.5), ("10,000", 10000.0), ("¥10,000", 10000.0), ("1万", 10000.0), ("-5%", -5.0),
     ("１２", 12.0)],
)
def test_numbers(text: str, expected: float) -> None:
    assert parse_number(text) == expected


@pytest.mark.parametrize("text", ["", "abc", "1e999", "12abc", "nan"])
def test_bad_numbers(text: str) -> None:
    assert parse_number(text) is None


def test_yes_no() -> None:
    assert parse_yesno("是的") is True
    assert parse_yesno("Yes") is True
    assert parse_yesno("没有") is False
    assert parse_yesno("也许") is None
