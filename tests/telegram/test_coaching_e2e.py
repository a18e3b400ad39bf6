"""The coaching flows over Telegram: a rep runs /spin and /fab to ✅ against the fake Bot API."""

from __future__ import annotations

from sqlalchemy import select

from bot.telegram.app import BotService
from db.models import CustomerRecord
from tests.fakebot.server import FakeBotApi

REP = 7441


async def say(api: FakeBotApi, text: str, expect: str, language_code: str = "zh-hans") -> str:
    mark = api.mark(REP)
    api.push_text(REP, text, language_code=language_code)
    await api.wait_for_async(expect, chat_id=REP, since=mark)
    return "\n".join(m.text or "" for m in api.sent(REP)[mark:])


async def press(api: FakeBotApi, label: str, expect: str, language_code: str = "zh-hans") -> str:
    mark = api.mark(REP)
    api.press_button(REP, label, language_code=language_code)
    await api.wait_for_async(expect, chat_id=REP, since=mark)
    return "\n".join(m.text or "" for m in api.sent(REP)[mark:])


async def test_spin_then_fab_to_completion(fake_api: FakeBotApi, bot: BotService) -> None:
    await say(fake_api, "/spin", "为哪位客户准备提问")
    await say(fake_api, "华为技术", "准备谈哪个产品")
    await say(fake_api, "200MHz 示波器", "S 背景问题")
    note = await say(fake_api, "贵公司现在用的是什么示波器?\n测试慢吗?", "点评")
    assert "封闭式问题" in note
    await press(fake_api, "完成", "P 难点问题")
    await say(fake_api, "在测试精度方面,你们遇到了哪些困难?", "点评")
    await press(fake_api, "完成", "I 暗示问题")
    await say(fake_api, "测试精度不够会对产品交付造成什么影响?", "点评")
    await press(fake_api, "完成", "N 需求-效益问题")
    await say(fake_api, "如果测试时间能缩短一半,对您的团队意味着什么?", "点评")
    await press(fake_api, "完成", "请核对")
    done = await press(fake_api, "保存", "提问质量")
    assert "✅" in done and "华为技术" in done

    await say(fake_api, "/fab", "说给哪位客户")
    await press(fake_api, "华为技术", "哪个产品")  # the customer from /spin is offered as a button
    await say(fake_api, "示波器", "F 特征")
    await say(fake_api, "自动校准功能", "A 优点")
    await say(fake_api, "不需要每次人工校准", "B 利益")
    weak = await say(fake_api, "质量很好", "请核对")
    assert "太空了" in weak
    await say(fake_api, "5", "B 利益")
    await say(fake_api, "您每台仪器每月少停机半天", "请核对")
    card = await press(fake_api, "保存", "小贴士")
    assert "✅" in card and "给您带来的真正利益是您每台仪器每月少停机半天" in card
    for message in fake_api.sent(REP):
        assert len(message.text or "") <= 4096
    async with bot.runtime.sessions() as session:
        kinds = sorted((await session.scalars(select(CustomerRecord.kind))).all())
    assert kinds == ["fab", "spin"]


async def test_fab_in_english(fake_api: FakeBotApi, bot: BotService) -> None:
    en = "en"
    await say(fake_api, "/fab", "Which customer", en)
    await say(fake_api, "/skip", "Which product", en)
    await say(fake_api, "the new scope", "F Feature", en)
    await say(fake_api, "built-in auto-calibration", "A Advantage", en)
    await say(fake_api, "no manual calibration before each run", "B Benefit", en)
    await say(fake_api, "you save two hours on every test run", "Please check", en)
    card = await press(fake_api, "Save", "Tip", en)
    assert "the real benefit to you is you save two hours" in card
