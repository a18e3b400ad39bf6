"""Good and bad transcripts of the same visit, in both languages, scored by the scorecard.

A rep who greets, states an agenda, asks open S→P→I→N questions, summarises and books the next
step must score far above one who pitches features, asks closed questions and pushes for the order;
each criterion's checks must react to exactly what the rep did or failed to do.
"""

from __future__ import annotations

import pytest

from bot.engine.content import Content
from tests.engine.roleplay.helpers import TRANSCRIPTS, criterion, lines_of, run

PAIRS = sorted({p.name.split(".")[0] for p in TRANSCRIPTS.glob("*.good.*.txt")})
CASES = [(persona, lang) for persona in PAIRS for lang in ("zh", "en")]


def test_there_are_pairs_for_at_least_three_personas() -> None:
    assert len(PAIRS) >= 3
    for persona, lang in CASES:
        assert (TRANSCRIPTS / f"{persona}.bad.{lang}.txt").is_file(), f"{persona}: bad {lang} transcript missing"


@pytest.mark.parametrize(("persona", "lang"), CASES)
def test_good_visit_scores_far_above_bad_one(content: Content, persona: str, lang: str) -> None:
    good = run(content, persona, lines_of(f"{persona}.good.{lang}.txt"), lang)
    bad = run(content, persona, lines_of(f"{persona}.bad.{lang}.txt"), lang)
    assert good["score"]["total"] - bad["score"]["total"] >= 20, (good["score"]["total"], bad["score"]["total"])
    assert good["score"]["total"] >= 75
    assert bad["score"]["total"] <= 50
    assert good["score"]["outcome"] == "agreed", good["turns"][-1]
    assert bad["score"]["outcome"] != "agreed"
    # the good rep earns the evidence-weighted criteria, the bad one does not
    for name in ("spin", "fab", "summary", "next_step"):
        assert criterion(good, name)["percent"] > criterion(bad, name)["percent"], name


@pytest.mark.parametrize(("persona", "lang"), CASES)
def test_customer_answers_in_the_reps_language(content: Content, persona: str, lang: str) -> None:
    good = run(content, persona, lines_of(f"{persona}.good.{lang}.txt"), lang)
    for turn in good["turns"]:
        has_cjk = any("\u4e00" <= ch <= "\u9fff" for ch in turn["customer"])
        assert has_cjk == (lang == "zh"), turn


def _without(lines: list[str], *needles: str) -> list[str]:
    kept = [line for line in lines if not any(n in line for n in needles)]
    assert len(kept) < len(lines), needles
    return kept


@pytest.mark.parametrize(("persona", "lang"), CASES)
def test_no_summary_scores_low_on_summary(content: Content, persona: str, lang: str) -> None:
    lines = _without(lines_of(f"{persona}.good.{lang}.txt"), "我总结一下", "Let me summarise")
    data = run(content, persona, lines, lang)
    summary = criterion(data, "summary")
    assert summary["percent"] <= 25
    assert summary["checks"]["summarised"] is False
    assert summary["kb"] == "visit1.summary"
    good = run(content, persona, lines_of(f"{persona}.good.{lang}.txt"), lang)
    assert criterion(good, "summary")["percent"] == 100


@pytest.mark.parametrize(("persona", "lang"), CASES)
def test_no_next_step_ask_scores_low_on_next_step(content: Content, persona: str, lang: str) -> None:
    lines = lines_of(f"{persona}.good.{lang}.txt")
    while lines and any(w in lines[-1] for w in ("可以吗", "work for you", "Does that work", "Would that",
                                                   "could we", "Could we", "您看可以吗")):
        lines.pop()
    data = run(content, persona, lines, lang)
    step = criterion(data, "next_step")
    assert step["checks"]["asked_next_step"] is False
    assert step["percent"] <= 25
    assert data["score"]["outcome"] != "agreed"
    assert step["kb"] == "visit1.close_next"


MONOLOGUE = {
    "zh": "我们公司成立于1998年,是行业领先的企业,在全国有三十个办事处,服务过上千家客户,产品线非常齐全,"
          "获得了多项认证,研发团队有两百多人,每年把销售额的百分之十五投入研发,我们的服务网络覆盖全国每个省,"
          "响应时间是业界最快的,很多世界五百强企业都是我们的长期合作伙伴,我们的口碑在行业里也是数一数二的。",
    "en": "Our company was founded in 1998 and is an industry leader with thirty offices nationwide, more than a "
          "thousand customers, a complete product line, many certifications and an R&D team of over two hundred "
          "people; we invest fifteen percent of sales in research, our service network covers every province, our "
          "response time is the fastest in the industry, many Fortune 500 firms are long-term partners of ours, and "
          "last year alone we opened five new training centres and won three national awards for quality.",
}


@pytest.mark.parametrize(("persona", "lang"), CASES)
def test_a_monologue_costs_listening_and_the_tip_quotes_it(content: Content, persona: str, lang: str) -> None:
    lines = lines_of(f"{persona}.good.{lang}.txt")
    lines.insert(2, MONOLOGUE[lang])
    data = run(content, persona, lines, lang)
    listening = criterion(data, "listening")
    assert listening["checks"]["no_monologue"] is False
    assert listening["percent"] < criterion(run(content, persona, lines_of(f"{persona}.good.{lang}.txt"), lang),
                                            "listening")["percent"]
    assert MONOLOGUE[lang][:15] in listening["tip"]


def test_closed_questions_become_a_tip_not_a_dominant_penalty(content: Content) -> None:
    """Rackham: the open/closed ratio alone does not predict success, so closing a question costs a
    questioning check and earns a rewrite tip, but a rep who still develops the needs keeps a high score."""
    lines = lines_of("first_visit_engineer.good.zh.txt")
    open_q = "您能介绍一下测试组现在的工作情况吗?"
    closed = "你们测试组是八个人吧?"
    lines[lines.index(open_q)] = closed
    good = run(content, "first_visit_engineer", lines_of("first_visit_engineer.good.zh.txt"))
    data = run(content, "first_visit_engineer", lines)
    questioning = criterion(data, "questioning")
    assert questioning["checks"]["broad_to_narrow"] is False
    assert "八个人" in questioning["tip"]  # the tip quotes the rep's own closed question …
    assert good["score"]["total"] - data["score"]["total"] <= 10  # … and costs a little, not the visit
    assert data["score"]["total"] >= 80


def test_implication_and_need_payoff_outweigh_open_situation_questions(content: Content) -> None:
    """Two reps ask the same number of open questions; the one who goes P→I→N scores far higher than
    the one who stays with situation questions — depth, not openness, carries the weight."""
    opening = lines_of("first_visit_engineer.good.zh.txt")[:2]
    shallow = [*opening, "您能介绍一下测试组现在的工作情况吗?", "你们公司主要做什么产品?",
               "你们的采购流程是怎样的?", "今年有哪些新项目?"]
    deep = [*opening, "您能介绍一下测试组现在的工作情况吗?", "在测试工作中,您现在遇到的最大困难是什么?",
            "测试慢下来,对项目进度和客户有什么影响?", "如果能把测试时间缩短一半,对您的团队意味着什么?"]
    s = run(content, "first_visit_engineer", shallow)
    d = run(content, "first_visit_engineer", deep)
    assert criterion(d, "spin")["score"] - criterion(s, "spin")["score"] >= 10
    assert criterion(s, "questioning")["checks"]["mostly_open"] is True


@pytest.mark.parametrize(("persona", "lang"), CASES)
def test_every_tip_quotes_the_rep_or_names_what_to_do_and_a_real_entry(content: Content, persona: str,
                                                                       lang: str) -> None:
    bad = run(content, persona, lines_of(f"{persona}.bad.{lang}.txt"), lang)
    reps = [t["rep"] for t in bad["turns"]]
    quoted = 0
    for name, item in bad["score"]["criteria"].items():
        assert item["tip"].strip(), name
        assert content.kb.get(item["kb"]) is not None, (name, item["kb"])
        if any(rep.rstrip("。.")[:12] in item["tip"] for rep in reps):
            quoted += 1
    assert quoted >= 4  # most tips point at something the rep actually said


@pytest.mark.parametrize(("persona", "lang"), CASES)
def test_points_add_up_and_are_explained_by_checks(content: Content, persona: str, lang: str) -> None:
    data = run(content, persona, lines_of(f"{persona}.bad.{lang}.txt"), lang)
    criteria = data["score"]["criteria"]
    assert sum(item["max"] for item in criteria.values()) == 100
    assert abs(sum(item["score"] for item in criteria.values()) - data["score"]["total"]) <= 4  # rounding
    for item in criteria.values():
        applicable = [v for v in item["checks"].values() if v is not None]
        share = sum(applicable) / len(applicable) if applicable else 1
        assert item["percent"] == round(100 * share)
