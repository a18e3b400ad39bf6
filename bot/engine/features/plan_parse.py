"""Parsing the lines of the weekly visit plan: "华为 周二 演示方案" → customer, date, purpose.

A rep types a whole week in one message, one visit a line, in whatever order feels natural
("周二 华为 演示方案", "Acme next Tue demo"); the day may be a weekday, a relative day or a date,
and must fall in next week. Lines that fit are rewritten in one canonical form that reads well in the
plan and parses back exactly.
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass
from datetime import date, timedelta

from bot.engine.inputs import parse_date

MAX_NAME = 100
MAX_PURPOSE = 200
SEP = " · "
WEEKDAYS_ZH = "一二三四五六日"
WEEKDAYS_EN = ("Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun")
_ZH_DAY = {"一": 0, "二": 1, "三": 2, "四": 3, "五": 4, "六": 5, "日": 6, "天": 6,
           "1": 0, "2": 1, "3": 2, "4": 3, "5": 4, "6": 5, "7": 6}
_EN_DAY = {"mon": 0, "tue": 1, "wed": 2, "thu": 3, "fri": 4, "sat": 5, "sun": 6}

_DAY = re.compile(
    r"(?P<zh>(?P<zhpre>下下|下个|下|本|这个|这)?(?:周|週|星期|礼拜|禮拜)(?P<zhday>[一二三四五六日天1-7]))"
    r"|(?P<en>(?<![a-z])(?P<enpre>next\s+|this\s+)?(?P<enday>mon|tue|wed|thu|fri|sat|sun)"
    r"(?:day|s|sday|nesday|r|rs|rsday|urday)?\.?(?![a-z]))"
    r"|(?P<iso>(?<!\d)\d{4}[-/.]\d{1,2}[-/.]\d{1,2}(?!\d)|\d{4}年\d{1,2}月\d{1,2}[日号]?)"
    r"|(?P<md>(?<!\d)\d{1,2}月\d{1,2}[日号]?|(?<![\d.])\d{1,2}[-/]\d{1,2}(?![\d.]))"
    r"|(?P<rel>大后天|后天|明天|今天|(?<![a-z])tomorrow(?![a-z]))",
    re.IGNORECASE,
)
_CANONICAL = re.compile(r"^(?P<date>\d{4}-\d{2}-\d{2}) \S+" + re.escape(SEP) + r"(?P<customer>.+?)"
                        + re.escape(SEP) + r"(?P<purpose>.+)$")
_TRIM = " \t,，、:：;；|/-—–·"


@dataclass(frozen=True)
class Visit:
    customer: str
    day: date
    purpose: str

    def canonical(self, lang: str) -> str:
        weekday = "周" + WEEKDAYS_ZH[self.day.weekday()] if lang == "zh" else WEEKDAYS_EN[self.day.weekday()]
        return f"{self.day.isoformat()} {weekday}{SEP}{self.customer}{SEP}{self.purpose}"


@dataclass(frozen=True)
class LineError:
    code: str  # plan_no_day | plan_out_of_week | plan_no_customer | plan_no_purpose | plan_too_long
    line: str


def next_week(today: date) -> tuple[date, date]:
    """Monday and Sunday of the week after `today`'s."""
    monday = today - timedelta(days=today.weekday()) + timedelta(days=7)
    return monday, monday + timedelta(days=6)


def _resolve(m: re.Match[str], today: date) -> date | None:
    monday, _ = next_week(today)
    if m.group("zh"):
        prefix = m.group("zhpre") or ""
        offset = {"下下": 7, "本": -7, "这": -7, "这个": -7}.get(prefix, 0)
        return monday + timedelta(days=_ZH_DAY[m.group("zhday")] + offset)
    if m.group("en"):
        prefix = (m.group("enpre") or "").strip().lower()
        return monday + timedelta(days=_EN_DAY[m.group("enday").lower()] - (7 if prefix == "this" else 0))
    return parse_date(m.group(0), today)


def parse_line(line: str, today: date) -> Visit | LineError:
    """One line of the plan, checked: a customer, a day in next week, and a purpose."""
    text = unicodedata.normalize("NFKC", line).strip()
    canonical = _CANONICAL.match(text)
    if canonical:  # already checked once (e.g. kept while the rep adds more lines)
        day = date.fromisoformat(canonical["date"])
        return _checked(canonical["customer"], day, canonical["purpose"], text, today)
    found = list(_DAY.finditer(text))
    if not found:
        return LineError("plan_no_day", text)
    # "Sun Microsystems Fri demo": prefer a day with the customer's name before it
    m = next((f for f in found if text[: f.start()].strip(_TRIM)), found[0])
    resolved = _resolve(m, today)
    if resolved is None:
        return LineError("plan_no_day", text)
    day = resolved
    before, after = text[: m.start()].strip(_TRIM), text[m.end():].strip(_TRIM)
    if before:
        customer, purpose = before, after
    else:
        head, _, rest = after.partition(" ")
        customer, purpose = head.strip(_TRIM), rest.strip(_TRIM)
    return _checked(customer, day, purpose, text, today)


def _checked(customer: str, day: date, purpose: str, text: str, today: date) -> Visit | LineError:
    monday, sunday = next_week(today)
    if not customer:
        return LineError("plan_no_customer", text)
    if not purpose:
        return LineError("plan_no_purpose", text)
    if len(customer) > MAX_NAME or len(purpose) > MAX_PURPOSE:
        return LineError("plan_too_long", text)
    if not monday <= day <= sunday:
        return LineError("plan_out_of_week", text)
    return Visit(customer, day, purpose)


def parse_canonical(item: str) -> Visit | None:
    """A saved plan line back into a visit (None if it is not in the canonical form)."""
    m = _CANONICAL.match(item)
    if m is None:
        return None
    return Visit(m["customer"], date.fromisoformat(m["date"]), m["purpose"])
