"""A full role-play over Telegram: the real Application against the fake Bot API, from /roleplay and
the persona buttons to the scorecard, plus a trainer drill joined by its deep-link code."""

from __future__ import annotations

import re

from sqlalchemy import select

from bot.telegram.app import BotService
from db.models_roleplay import RoleplayScorecard
from tests.engine.roleplay.helpers import lines_of
from tests.fakebot.server import FakeBotApi

REP = 5561
TRAINER = 5562


async def say(api: FakeBotApi, user: int, text: str, expect: str) -> str:
    mark = api.mark(user)
    api.push_text(user, text)
    found = await api.wait_for_async(expect, chat_id=user, since=mark, timeout=10)
    return found[-1].text or ""


async def test_roleplay_over_telegram_to_the_scorecard(fake_api: FakeBotApi, bot: BotService) -> None:
    await say(fake_api, REP, "/roleplay", "选一位客户")
    mark = fake_api.mark(REP)
    fake_api.press_button(REP, "开放进取型")
    await fake_api.wait_for_async("你走进陈总监的办公室", chat_id=REP, since=mark, timeout=10)
    lines = lines_of("consultative_buyer.good.zh.txt")
    for line in lines[:3]:
        await say(fake_api, REP, line, "🗣 陈总监:")
    hint = await say(fake_api, REP, "/hint", "💡")
    assert "spin.problem" in hint or "spin." in hint
    for line in lines[3:-1]:
        await say(fake_api, REP, line, "🗣 陈总监:")
    card = await say(fake_api, REP, lines[-1], "评分卡")
    assert "总分:" in card and card.count("💡") == 8
    assert "🤝" in "".join(m.text or "" for m in fake_api.sent(REP)[-3:])
    for message in fake_api.sent(REP):
        assert len(message.text or "") <= 4096
    assert fake_api.callback_answers(), "the persona button press was answered"
    async with bot.runtime.sessions() as session:
        stored = await session.scalar(select(RoleplayScorecard))
    assert stored is not None and stored.total >= 80 and stored.outcome == "agreed"
    history = await say(fake_api, REP, "/history", "最近 1 次")
    assert "陈总监" in history


async def test_drill_deep_link_over_telegram(fake_api: FakeBotApi, bot: BotService) -> None:
    opened = await say(fake_api, TRAINER, "/drill transactional_buyer", "邀请码")
    code = re.search(r"drill_([A-Z0-9]{6})", opened)
    assert code is not None
    assert f"https://t.me/{bot.application.bot.username}?start=drill_{code.group(1)}" in opened
    joined = await say(fake_api, REP, f"/start drill_{code.group(1)}", "你的任务")
    assert "赵总" in joined
    await say(fake_api, REP, "赵总,昨天的球赛您看了吗?", "🗣 赵总:")
    await say(fake_api, REP, "/end", "评分卡")
    mark = fake_api.mark(TRAINER)
    fake_api.press_button(TRAINER, "结束并出成绩表")
    [table] = await fake_api.wait_for_async("已结束", chat_id=TRAINER, since=mark, timeout=10)
    assert "Rep" in (table.text or "") and "完成 1 人" in (table.text or "")
