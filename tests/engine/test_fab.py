"""A rep turns a feature into a customer benefit with /fab; weak benefits are sent back to be made concrete."""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml
from sqlalchemy import func, select

from bot.engine.features.cues import CUES_PATH, CuesError, load_cues
from bot.engine.features.fab import assess_benefit
from bot.runtime import Runtime
from db.models import Customer, CustomerRecord
from tests.helpers import Rep


async def fab_until_benefit(rep: Rep, customer: str | None = None) -> None:
    await rep.say("/fab")
    await rep.say(customer if customer else "/skip")
    await rep.say("示波器")
    await rep.say("自动校准功能")
    await rep.say("不需要每次人工校准")
    assert "B 利益" in rep.last


async def test_rep_gets_the_phrasing_in_the_seed_frame(rep: Rep, runtime: Runtime) -> None:
    await fab_until_benefit(rep)
    await rep.say("您每台仪器每月少停机半天,测试进度更有保障")
    assert rep.replies[0].text.startswith("✔")
    await rep.press("保存")
    card = rep.replies[0].text
    assert card.startswith("✅")
    assert "这种自动校准功能意味着不需要每次人工校准,给您带来的真正利益是您每台仪器每月少停机半天" in card
    assert rep.last.startswith("💡")  # one tip after the card
    async with runtime.sessions() as session:  # no customer chosen: nothing saved under a customer
        assert await session.scalar(select(func.count()).select_from(CustomerRecord)) == 0


async def test_weak_benefit_is_sent_back_to_be_made_concrete(rep: Rep) -> None:
    await fab_until_benefit(rep)
    await rep.say("性能很强,质量很好")
    note = rep.replies[0].text
    assert "性能很强" in note and "太空了" in note and "具体" in note
    assert "请核对" in rep.last
    await rep.say("5")  # rewrite the benefit from the review
    await rep.say("贵公司每年少返工 200 小时")
    assert rep.replies[0].text.startswith("✔")
    await rep.press("保存")
    assert "贵公司每年少返工 200 小时" in rep.replies[0].text


async def test_benefit_about_the_product_is_flagged(rep: Rep, en_rep: Rep) -> None:
    await fab_until_benefit(rep)
    await rep.say("这款产品是业界最好的")
    assert "在说产品,不在说客户" in rep.replies[0].text
    await en_rep.say("/fab")
    await en_rep.say("/skip")
    await en_rep.say("scope")
    await en_rep.say("auto-calibration")
    await en_rep.say("no manual calibration before each run")
    await en_rep.say("The product has the best quality")
    assert "talks about the product, not the customer" in en_rep.replies[0].text
    assert "empty praise" in en_rep.replies[0].text


async def test_with_a_customer_the_phrasing_is_saved_under_it(rep: Rep, runtime: Runtime) -> None:
    await fab_until_benefit(rep, customer="华为技术")
    assert "对华为技术意味着什么" in rep.last
    await rep.say("您的测试排期每月多出 2 天")
    await rep.press("保存")
    assert "FAB 话术 · 华为技术" in rep.replies[0].text
    async with runtime.sessions() as session:
        customer = await session.scalar(select(Customer).where(Customer.name == "华为技术"))
        assert customer is not None
        record = await session.scalar(select(CustomerRecord).where(CustomerRecord.customer_id == customer.id))
        assert record is not None and record.kind == "fab"
        assert record.data["answers"]["benefit"] == "您的测试排期每月多出 2 天"


async def test_english_rep_completes_fab(en_rep: Rep) -> None:
    await en_rep.say("/fab")
    await en_rep.say("Acme Instruments")
    await en_rep.say("the new scope")
    await en_rep.say("built-in auto-calibration")
    await en_rep.say("no manual calibration before each run")
    await en_rep.say("you lose half a day less to downtime per instrument each month")
    assert en_rep.replies[0].text.startswith("✔")
    await en_rep.press("Save")
    card = en_rep.replies[0].text
    assert card.startswith("✅")
    assert ("This built-in auto-calibration means no manual calibration before each run; the real benefit to you "
            "is you lose half a day less") in card
    assert en_rep.last.startswith("💡")


@pytest.mark.parametrize("benefit", ["很好", "性能强", "质量很高", "最好的选择", "best", "high quality",
                                     "It is very powerful", "excellent performance"])
def test_empty_praise_is_never_a_concrete_benefit(benefit: str) -> None:
    assert not assess_benefit(benefit, load_cues()).good


@pytest.mark.parametrize("benefit", ["您每月少停机半天", "贵公司一年省下 3 万元电费", "你们的返工率降低 30%",
                                     "you save two hours per test run", "your scrap rate drops by 5%"])
def test_customer_gains_with_substance_pass(benefit: str) -> None:
    assert assess_benefit(benefit, load_cues()).good


def test_a_broken_cue_file_names_file_and_field(tmp_path: Path) -> None:
    good = yaml.safe_load(CUES_PATH.read_text(encoding="utf-8"))
    broken = dict(good, en=dict(good["en"], gain=["re:(unclosed"]))
    path = tmp_path / "coaching.yaml"
    path.write_text(yaml.safe_dump(broken, allow_unicode=True), encoding="utf-8")
    with pytest.raises(CuesError, match=r"coaching\.yaml: en\.gain\[0\]: invalid regular expression"):
        load_cues(path)
    del broken["en"]
    path.write_text(yaml.safe_dump(broken, allow_unicode=True), encoding="utf-8")
    with pytest.raises(CuesError, match=r"coaching\.yaml: en: Field required"):
        load_cues(path)
