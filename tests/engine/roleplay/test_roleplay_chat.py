"""A rep role-plays through the engine like in Telegram: persona buttons, the conversation, /hint,
/repeat, /restart, /end with the stored scorecard, /history, resuming after a restart, and bad input."""

from __future__ import annotations

from sqlalchemy import func, select

from bot.config import Settings
from bot.engine.content import Content
from bot.runtime import Runtime
from db.models import ActivityEvent
from db.models_roleplay import RoleplayScorecard, RoleplaySession, RoleplayTurn
from tests.engine.roleplay.helpers import lines_of
from tests.helpers import Clock, Rep


async def scorecards(runtime: Runtime) -> list[RoleplayScorecard]:
    async with runtime.sessions() as session:
        return list(await session.scalars(select(RoleplayScorecard).order_by(RoleplayScorecard.id)))


async def test_rep_plays_a_persona_to_the_scorecard(rep: Rep, runtime: Runtime) -> None:
    await rep.say("/roleplay")
    assert "选一位客户" in rep.last
    labels = [b.label for row in rep.replies[-1].buttons for b in row]
    assert len(labels) >= 8 and any("开放进取型" in label for label in labels)
    await rep.press("开放进取型")
    assert "陈总监" in rep.text and "你的任务" in rep.text and "/hint" in rep.text
    lines = lines_of("consultative_buyer.good.zh.txt")
    for line in lines[:4]:
        await rep.say(line)
        assert rep.last.startswith("🗣 陈总监:"), rep.last
    await rep.say("/hint")
    assert "💡" in rep.last and "spin.implication" in rep.last  # a pain is on the table: deepen it
    await rep.press("SPIN暗示问题")  # the hint's button opens the knowledge entry
    assert "📘" in rep.last
    await rep.say("/repeat")
    assert rep.last.startswith("🗣 陈总监:") and ("流程" in rep.last or "凝聚力" in rep.last or "经理" in rep.last)
    for line in lines[4:]:
        await rep.say(line)
    assert "🤝" in rep.text  # she agreed to the next step …
    card = rep.last
    assert card.startswith("✅") and "评分卡" in card and "总分:" in card  # … and the scorecard follows at once
    for label in ("开场", "提问", "SPIN 深度", "倾听", "FAB", "异议处理", "总结确认", "约定下一步"):
        assert label in card, label
    assert card.count("💡") == 8  # one tip per criterion
    assert rep.button("再练一次").data == "rp:p:consultative_buyer"
    [stored] = await scorecards(runtime)
    assert stored.total >= 80 and stored.outcome == "agreed" and stored.spin == 25
    assert stored.details["criteria"]["summary"]["checks"]["summarised"] is True
    async with runtime.sessions() as session:
        events = await session.scalar(select(func.sum(ActivityEvent.amount)).where(ActivityEvent.kind == "roleplays"))
        assert events == 1
        turns = await session.scalar(select(func.count()).select_from(RoleplayTurn))
        assert turns == len(lines)
    await rep.say("在吗?")  # the role-play is over: free text is a knowledge question again
    assert not rep.last.startswith("🗣")


async def test_end_scores_what_was_said_and_history_shows_the_trend(rep: Rep, runtime: Runtime, clock: Clock) -> None:
    await rep.say("/roleplay transactional_buyer")
    assert "赵总" in rep.text and "报价" in rep.last  # the boss speaks first, and asks for the price
    await rep.say("赵总,昨天的球赛您看了吗?")
    await rep.say("/end")
    assert rep.last.startswith("✅") and "球赛" in rep.last  # the tips quote what the rep said
    first = (await scorecards(runtime))[-1].total
    clock.advance(hours=1)
    await rep.say("/roleplay transactional_buyer")
    for line in lines_of("transactional_buyer.good.zh.txt"):
        await rep.say(line)
    second = (await scorecards(runtime))[-1].total
    assert second > first
    await rep.say("/history")
    assert "最近 2 次" in rep.last and "赵总" in rep.last
    assert f"{second} 分" in rep.last and f"{first} 分" in rep.last
    assert "最需要加强" in rep.last


async def test_a_restart_resumes_the_role_play(settings: Settings, content: Content, clock: Clock) -> None:
    first = Runtime(settings, content=content, clock=clock)
    await first.migrate()
    rep = Rep(first, 1001, "李雷", "zh-hans")
    await rep.say("/roleplay first_visit_engineer")
    lines = lines_of("first_visit_engineer.good.zh.txt")
    for line in lines[:5]:
        await rep.say(line)
    said = rep.last
    await first.close()

    second = Runtime(settings, content=content, clock=clock)  # a new process on the same database
    rep = Rep(second, 1001, "李雷", "zh-hans")
    await rep.say("/repeat")
    assert rep.last == said
    for line in lines[5:]:
        await rep.say(line)
    assert "🤝" in rep.text and rep.last.startswith("✅")
    [card] = await scorecards(second)
    assert card.total >= 80  # the early turns, played before the restart, count too
    await second.close()


async def test_restart_cancel_and_commands_without_a_session(rep: Rep, runtime: Runtime) -> None:
    for command in ("/end", "/hint"):
        await rep.say(command)
        assert rep.last.startswith("⚠️") and "/roleplay" in rep.last
    await rep.say("/restart")
    assert rep.last.startswith("⚠️")
    await rep.say("/roleplay gas_new_resident")
    assert rep.last.startswith("🗣 林女士:")  # the resident walks up to the counter and speaks first
    await rep.say("您好,欢迎来办理!")
    await rep.say("/restart")
    assert "重新开始" in rep.text and rep.last.startswith("🗣 林女士:")
    await rep.say("/cancel")
    assert rep.last.startswith("✅") and "不评分" in rep.last
    await rep.say("/cancel")
    assert "没有" in rep.last
    assert await scorecards(runtime) == []
    await rep.say("/roleplay gas_new_resident")
    await rep.say("/end")  # nothing said yet: nothing to score
    assert rep.last.startswith("✅") and await scorecards(runtime) == []


async def test_bad_input_and_forged_buttons(rep: Rep, en_rep: Rep) -> None:
    await rep.say("/roleplay nobody")
    assert rep.last.startswith("⚠️") and "nobody" in rep.last and rep.replies[-1].buttons
    await rep.say("/roleplay 99")
    assert rep.last.startswith("⚠️")
    await rep.press_data("rp:p:../../etc/passwd")
    assert rep.last.startswith("⚠️")
    await rep.press_data("rp:e")
    assert rep.last.startswith("⚠️")  # stale: no session to end
    await rep.press_data("rp:zz:1")
    assert rep.last.startswith("⚠️")
    await en_rep.say("/roleplay 2")
    assert "Director Chen" in en_rep.text
    await en_rep.say("x" * 5000)
    assert en_rep.last.startswith("⚠️")
    await en_rep.send_media("sticker")
    assert en_rep.last.startswith("⚠️")
    await en_rep.say("Hello Director Chen, I'm Alex from Apex Training, thanks for seeing me.")
    assert en_rep.last.startswith("🗣 Director Chen:")


async def test_switching_persona_mid_session_asks_first(rep: Rep, runtime: Runtime) -> None:
    await rep.say("/roleplay consultative_buyer")
    await rep.say("陈总监您好!我是卓越培训的小李。")
    await rep.say("/roleplay tough_purchaser")
    assert rep.last.startswith("⚠️") and "陈总监" in rep.last
    await rep.press("继续")
    assert rep.last.startswith("🗣 陈总监:")
    await rep.say("/roleplay tough_purchaser")
    await rep.press("改练")
    assert "孙经理" in rep.text
    async with runtime.sessions() as session:
        statuses = list(await session.scalars(select(RoleplaySession.status).order_by(RoleplaySession.id)))
    assert statuses == ["cancelled", "active"]


async def test_a_flow_in_progress_takes_precedence(rep: Rep) -> None:
    await rep.say("/prep")
    await rep.say("/roleplay consultative_buyer")
    assert rep.last.startswith("⚠️") and "/cancel" in rep.last
    await rep.say("/cancel")
    await rep.say("/roleplay consultative_buyer")
    await rep.say("/prep")  # a flow started during a role-play gets the rep's text …
    await rep.say("华为技术")
    assert not rep.last.startswith("🗣")
    await rep.say("/cancel")  # … and /cancel leaves the flow first, then the role-play
    await rep.say("您好,陈总监!")
    assert rep.last.startswith("🗣 陈总监:")
    await rep.say("/cancel")
    assert "陈总监" in rep.last and rep.last.startswith("✅")


async def test_each_rep_sees_only_their_own_history(rep: Rep, en_rep: Rep) -> None:
    await rep.say("/roleplay consultative_buyer")
    await rep.say("陈总监您好!我是卓越培训的小李,谢谢您抽时间见我。")
    await rep.say("/end")
    await en_rep.say("/history")
    assert "haven't finished" in en_rep.last
    await rep.say("/history")
    assert "最近 1 次" in rep.last
