"""Parsing of typed answers (numbers, dates, yes/no, choices) in Chinese and English."""

from __future__ import annotations

import re
from datetime import date, timedelta

from bot.text.normalize import fold, squash

_CN_DIGITS = {"零": 0, "〇": 0, "一": 1, "二": 2, "两": 2, "三": 3, "四": 4, "五": 5, "六": 6, "七": 7,
              "八": 8, "九": 9, "十": 10}
_WEEKDAYS_ZH = {"一": 0, "二": 1, "三": 2, "四": 3, "五": 4, "六": 5, "日": 6, "天": 6}
_WEEKDAYS_EN = {"mon": 0, "tue": 1, "wed": 2, "thu": 3, "fri": 4, "sat": 5, "sun": 6}
_YES = {"是", "是的", "对", "对的", "好", "好的", "可以", "有", "行", "嗯", "y", "yes", "yeah", "yep", "ok", "okay",
        "sure", "true", "1"}
_NO = {"否", "不", "不是", "没有", "没", "不行", "不好", "无", "n", "no", "nope", "false", "0"}


def parse_number(text: str) -> float | None:
    """A plain number, allowing thousands separators, full-width digits, %, ¥ and 万 (×10,000)."""
    raw = fold(text).replace(",", "").replace("，", "").replace("¥", "").replace("￥", "").replace("元", "")
    raw = raw.replace("%", "").replace(" ", "")
    factor = 1.0
    if raw.endswith("万"):
        factor, raw = 10_000.0, raw[:-1]
    if not re.fullmatch(r"[+-]?(\d+(\.\d*)?|\.\d+)", raw):
        return None
    value = float(raw) * factor
    if value != value or value in (float("inf"), float("-inf")):
        return None
    return value


def parse_yesno(text: str) -> bool | None:
    word = squash(text)
    if word in _YES:
        return True
    if word in _NO:
        return False
    return None


def _cn_number(token: str) -> int | None:
    if token.isdigit():
        return int(token)
    if token in _CN_DIGITS:
        return _CN_DIGITS[token]
    if len(token) == 2 and token[0] == "十":
        return 10 + _CN_DIGITS.get(token[1], 0)
    if len(token) in (2, 3) and token[1] == "十":
        tens = _CN_DIGITS.get(token[0], 0) * 10
        return tens + (_CN_DIGITS.get(token[2], 0) if len(token) == 3 else 0)
    return None


def parse_date(text: str, today: date) -> date | None:
    """Absolute (2026-12-01, 12/1, 12月1日) or relative (明天, 下周二, tomorrow, next friday) dates."""
    s = re.sub(r"[\s!?.。!?]+$", "", re.sub(r"\s+", "", fold(text)))
    if not s:
        return None
    relative = {"今天": 0, "今日": 0, "today": 0, "明天": 1, "明日": 1, "tomorrow": 1, "后天": 2,
                "大后天": 3, "dayaftertomorrow": 2}
    if s in relative:
        return today + timedelta(days=relative[s])
    m = re.fullmatch(r"(\d{4})[-/.年](\d{1,2})[-/.月](\d{1,2})[日号]?", s)
    if m:
        return _safe_date(int(m[1]), int(m[2]), int(m[3]))
    m = re.fullmatch(r"(\d{1,2})[-/.月](\d{1,2})[日号]?", s)
    if m:
        candidate = _safe_date(today.year, int(m[1]), int(m[2]))
        if candidate and candidate < today - timedelta(days=30):
            candidate = _safe_date(today.year + 1, int(m[1]), int(m[2]))
        return candidate
    m = re.fullmatch(r"(\d{1,2}|[一二三四五六七八九十]{1,3})(?:天|日)(?:后|以后)", s)
    if m:
        n = _cn_number(m[1])
        return today + timedelta(days=n) if n is not None else None
    m = re.fullmatch(r"(下下|下|本|这|这个|下个)?(?:周|星期|礼拜)([一二三四五六日天])", s)
    if m:
        target = _WEEKDAYS_ZH[m[2]]
        prefix = m[1] or ""
        monday = today - timedelta(days=today.weekday())
        weeks = 2 if prefix == "下下" else 1 if prefix in ("下", "下个") else 0
        result = monday + timedelta(weeks=weeks, days=target)
        if not prefix and result < today:
            result += timedelta(weeks=1)
        return result
    m = re.fullmatch(r"(next|this)?(mon|tue|wed|thu|fri|sat|sun)[a-z]*", s)
    if m:
        target = _WEEKDAYS_EN[m[2]]
        monday = today - timedelta(days=today.weekday())
        result = monday + timedelta(weeks=1 if m[1] == "next" else 0, days=target)
        if m[1] != "next" and result < today:
            result += timedelta(weeks=1)
        return result
    m = re.fullmatch(r"in(\d{1,3})days?", s)
    if m:
        return today + timedelta(days=int(m[1]))
    return None


def _safe_date(year: int, month: int, day: int) -> date | None:
    try:
        return date(year, month, day)
    except ValueError:
        return None


def parse_indices(text: str, size: int) -> list[int] | None:
    """'1 3 4', '1,3', '1、3' → zero-based indices within range, or None when not such a list."""
    parts = [p for p in re.split(r"[\s,，、;；]+", fold(text)) if p]
    if not parts or not all(p.isdigit() for p in parts):
        return None
    indices = sorted({int(p) - 1 for p in parts})
    if any(i < 0 or i >= size for i in indices):
        return None
    return indices
