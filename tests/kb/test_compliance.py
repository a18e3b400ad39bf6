"""The compliance guard: unethical requests get the compliance entry first, in both languages,
while ordinary price and negotiation questions are never sent there."""

from __future__ import annotations

import pytest

from bot.kb.models import (
    Bilingual,
    BilingualList,
    ComplianceRule,
    Entry,
    KnowledgeBase,
    PerLang,
    RetrievalConfig,
)
from bot.kb.search import GUARD_SCORE, KnowledgeIndex

GIFTS = "compliance.gifts_and_kickbacks"
HONEST = "compliance.honest_claims"
DATA = "compliance.personal_data"


@pytest.mark.parametrize(
    ("query", "expected"),
    [
        ("采购暗示要回扣,给不给", GIFTS),
        ("能不能私下返点给个人", GIFTS),
        ("过年给采购送购物卡合适吗", GIFTS),
        ("请采购吃饭能帮我拿下单子吗", GIFTS),
        ("給決策人包個紅包", GIFTS),
        ("the buyer hinted he wants a kickback", GIFTS),
        ("should I give the purchasing manager a gift card", GIFTS),
        ("编一个假的竞品价格压一压客户", HONEST),
        ("可以吓唬客户说下个月要涨价吗", HONEST),
        ("客户要保险但我们不给发票行不行", HONEST),
        ("can I make up numbers to win the deal", HONEST),
        ("is it ok to scare the customer into signing", HONEST),
        ("能不能买一份客户名单", DATA),
    ],
)
def test_unethical_requests_answer_with_compliance_first(
    real_index: KnowledgeIndex, query: str, expected: str
) -> None:
    hits = real_index.search(query)
    assert hits, query
    assert hits[0].entry_id == expected, hits
    assert hits[0].guarded
    assert hits[0].confident


@pytest.mark.parametrize(
    "query",
    [
        "客户说太贵了怎么办",
        "客户一直砍价",
        "别家比我们便宜",
        "降价5%要多卖多少",
        "报价单怎么写",
        "客户要求打折",
        "the customer says our price is too high",
        "how do I handle a discount request",
        "负责采购的是谁",
    ],
)
def test_ordinary_price_questions_are_not_routed_to_compliance(
    real_index: KnowledgeIndex, query: str
) -> None:
    hits = real_index.search(query)
    assert hits, query
    assert not any(h.guarded for h in hits), hits
    assert not hits[0].entry_id.startswith("compliance."), hits


@pytest.mark.parametrize(
    "query",
    [
        "怎么给客户讲产品的好处",
        "营业厅员工的提成怎么算",
        "客户很恐慌怎么安抚",
        "渠道返点政策怎么定",
        "my pipeline leaks",
    ],
)
def test_guard_does_not_fire_on_near_misses(real_index: KnowledgeIndex, query: str) -> None:
    """Words that sit next to the guard's (好处, 提成, 恐慌, 返点, leak) in ordinary questions."""
    assert not any(h.guarded for h in real_index.search(query))


def _entry(entry_id: str, zh: str, en: str) -> Entry:
    return Entry(
        id=entry_id,
        kind="warning",
        source="general",
        title=Bilingual(zh=zh, en=en),
        aliases=BilingualList(zh=(zh,), en=(en,)),
        body=Bilingual(zh=zh, en=en),
        area=entry_id.split(".")[0],
    )


def test_guard_mechanics_on_a_small_base() -> None:
    """Independent of the real content: gaps (`*`), both languages, order, unknown entries ignored."""
    kb = KnowledgeBase(
        entries=(
            _entry("objection.price", "客户嫌贵", "too expensive"),
            _entry("compliance.gifts", "送礼", "gifts"),
        ),
        areas=(),
    )
    config = RetrievalConfig(
        compliance=(
            ComplianceRule(entry="compliance.missing", patterns=PerLang(zh=("嫌贵",))),
            ComplianceRule(entry="compliance.gifts", patterns=PerLang(zh=("给*回扣",), en=("give*gift",))),
        )
    )
    index = KnowledgeIndex(kb, config)
    [hit] = index.search("给采购一点回扣", limit=1)
    assert (hit.entry_id, hit.guarded, hit.confident) == ("compliance.gifts", True, True)
    assert hit.score >= GUARD_SCORE
    assert index.search("should I give the buyer a small gift")[0].entry_id == "compliance.gifts"
    assert index.search("給採購一點回扣")[0].guarded  # Traditional input trips it too
    assert not index.search("给回扣的故事讲了一百个字以后才出现的回扣")[0].entry_id.startswith("objection")
    assert [h.entry_id for h in index.search("客户嫌贵")] == ["objection.price"]  # rule for a missing entry
    assert not any(h.guarded for h in index.search("give them the price list"))
