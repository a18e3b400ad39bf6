"""What the visit, customer and reminder features share about a rep's customers: the stage ladder,
relationship levels, the value × attitude grid, labels, dates, and the saved records of a customer.

Pure helpers and small reads; the wording lives in scripts_talk/messages/*/customers.yaml.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime
from typing import Any
from zoneinfo import ZoneInfo

from bot.engine.i18n import Messages
from db.store import CustomerInfo, Store

STAGES: tuple[str, ...] = ("lead", "effective", "quasi", "customer")
"""普通信息 → 有效信息 → 准客户 → deal (info.stage_criteria); `customer` is a closed deal, as in /prep."""
STAGE_ALIASES = {"deal": "customer"}
STAGE_EVENTS = {"effective": "effective_leads", "quasi": "quasi_customers", "customer": "deals"}
"""The activity metric a customer earns when it moves up into that stage."""
RELATIONSHIPS: tuple[str, ...] = ("C", "B", "A")
VALUE_TIERS: tuple[str, ...] = ("large", "medium", "small")  # columns of the grid, left to right
ATTITUDES: tuple[str, ...] = ("good", "neutral", "poor")  # rows of the grid, top to bottom
BLANK = {"zh": "……", "en": "…"}

RECORD_KINDS: tuple[str, ...] = ("prep", "visit1_plan", "visit1_debrief", "visit2_plan", "visit2_debrief")


def stage_of(value: str | None) -> str:
    value = STAGE_ALIASES.get(value or "", value or "")
    return value if value in STAGES else "lead"


def stage_rank(value: str | None) -> int:
    return STAGES.index(stage_of(value))


def grid_cell(value_tier: str, attitude: str) -> int | None:
    """Cell 1–9 of customers.value_attitude_matrix (row = attitude, column = value), None if unset."""
    if value_tier not in VALUE_TIERS or attitude not in ATTITUDES:
        return None
    return ATTITUDES.index(attitude) * 3 + VALUE_TIERS.index(value_tier) + 1


def stage_label(t: Messages, lang: str, stage: str | None) -> str:
    return t(lang, f"cust_stage_{stage_of(stage)}")


def value_label(t: Messages, lang: str, tier: str) -> str:
    return t(lang, f"cust_value_{tier}") if tier in VALUE_TIERS else t(lang, "cust_unset")


def attitude_label(t: Messages, lang: str, attitude: str) -> str:
    return t(lang, f"cust_attitude_{attitude}") if attitude in ATTITUDES else t(lang, "cust_unset")


def relationship_label(relationship: str) -> str:
    return relationship if relationship in RELATIONSHIPS else "C"


def cell_action(t: Messages, lang: str, cell: int | None) -> str:
    return t(lang, f"cust_grid_{cell}") if cell is not None else t(lang, "cust_grid_unset")


def day_label(day: date, lang: str) -> str:
    """12月1日(周二) / Tue 1 Dec — what a rep reads at a glance on a phone."""
    if lang == "zh":
        return f"{day.month}月{day.day}日(周{'一二三四五六日'[day.weekday()]})"
    return f"{day.strftime('%a')} {day.day} {day.strftime('%b')}"


def short_day(day: date, lang: str) -> str:
    """11月23日 / 23 Nov — for dates inside a line that already has brackets."""
    return f"{day.month}月{day.day}日" if lang == "zh" else f"{day.day} {day.strftime('%b')}"


def local_day(moment: datetime, timezone: str) -> date:
    return moment.astimezone(zone(timezone)).date()


def zone(name: str) -> ZoneInfo:
    try:
        return ZoneInfo(name)
    except (KeyError, ValueError):
        return ZoneInfo("Asia/Shanghai")


@dataclass(frozen=True)
class Saved:
    """A saved flow under a customer: its answers and when it was saved."""

    kind: str
    answers: dict[str, Any]
    created_at: datetime


async def latest_saved(store: Store, user_id: int, customer_id: int, kind: str) -> Saved | None:
    record = await store.records.latest(user_id, customer_id, kind)
    if record is None:
        return None
    answers = record.data.get("answers") if isinstance(record.data, dict) else None
    return Saved(kind, dict(answers) if isinstance(answers, dict) else {}, record.created_at)


async def chosen_customer(store: Store, user_id: int, slots: dict[str, Any]) -> CustomerInfo | None:
    """The rep's own customer picked at a flow's customer step (typed names are looked up too)."""
    chosen = slots.get("customer")
    if not isinstance(chosen, dict):
        return None
    if chosen.get("id") is not None:
        try:
            return await store.customers.get(user_id, int(chosen["id"]))
        except (TypeError, ValueError):
            return None
    name = str(chosen.get("name") or "").strip()
    return await store.customers.find_by_name(user_id, name) if name else None


def text_list(value: Any) -> list[str]:
    """A list answer as clean strings (None, a string or junk become a short list or nothing)."""
    if isinstance(value, list):
        return [str(v).strip() for v in value if str(v).strip()]
    if isinstance(value, str) and value.strip():
        return [value.strip()]
    return []
