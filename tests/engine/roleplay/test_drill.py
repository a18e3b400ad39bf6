"""Trainer mode: a drill with a join code, everyone playing the same persona in private, and the
table of scores for the trainer when the drill closes."""

from __future__ import annotations

import re

from bot.engine.events import InboundEvent
from bot.runtime import Runtime
from tests.engine.roleplay.helpers import lines_of
from tests.helpers import Rep

CODE = re.compile(r"drill_([A-Z0-9]{6})")


def code_in(text: str) -> str:
    match = CODE.search(text)
    assert match, text
    return match.group(1)


async def test_trainer_runs_a_drill_and_gets_the_table(runtime: Runtime) -> None:
    trainer = Rep(runtime, 7001, "张培训", "zh-hans")
    lilei = Rep(runtime, 7002, "李雷", "zh-hans")
    hanmei = Rep(runtime, 7003, "韩梅梅", "zh-hans")
    late = Rep(runtime, 7004, "王五", "zh-hans")
    await trainer.say("/drill")
    assert "/drill" in trainer.last and trainer.replies[-1].buttons  # usage with persona buttons
    await trainer.say("/drill first_visit_engineer")
    assert trainer.last.startswith("✅") and "王工" in trainer.last
    code = code_in(trainer.last)
    status = trainer.button("目前成绩").data

    await lilei.say(f"/start drill_{code}")
    assert "✅" in lilei.text and code in lilei.text and "王工" in lilei.text and "培训师" in lilei.text
    for line in lines_of("first_visit_engineer.good.zh.txt"):
        await lilei.say(line)
    assert lilei.last.startswith("✅") and "培训师" in lilei.last  # told the score is shared

    await hanmei.say(f"/start drill_{code.lower()}")  # codes are read case-insensitively
    for line in lines_of("first_visit_engineer.bad.zh.txt"):
        await hanmei.say(line)
    if not hanmei.last.startswith("✅"):
        await hanmei.say("/end")

    await late.say(f"/start drill_{code}")  # joined but still playing when the drill closes
    await late.say("王工您好!")

    await trainer.say("/drill")
    assert code in trainer.text and "李雷" in trainer.text  # scores so far
    await trainer.say("/drill_close")
    table = trainer.last
    assert code in table and "已结束" in table
    assert table.index("李雷") < table.index("韩梅梅")  # best first
    assert "练习中" in table.split("王五")[1].splitlines()[0]
    assert "加入 3 人" in table and "完成 2 人" in table

    await late.say("/end")  # finishing after the close does not change the closed table
    await trainer.press_data(status)
    assert "完成 2 人" in trainer.last
    await lilei.say(f"/start drill_{code}")
    assert "⚠️" in lilei.text and "结束" in lilei.text


async def test_only_the_trainer_sees_or_closes_the_drill(runtime: Runtime) -> None:
    trainer = Rep(runtime, 7101, "Trainer", "en")
    rep = Rep(runtime, 7102, "Rep", "en")
    await trainer.say("/drill 2")
    code = code_in(trainer.last)
    close = trainer.button("Close").data
    await rep.say(f"/start drill_{code}")
    await rep.press_data(close)
    assert rep.last.startswith("⚠️") and "trainer" in rep.last
    await rep.say("/drill_close")
    assert rep.last.startswith("⚠️")
    await rep.say(f"/drill_close {code}")
    assert rep.last.startswith("⚠️")
    await trainer.press_data(close)
    assert "closed" in trainer.last and "Rep" in trainer.last


async def test_bad_codes_and_forged_drill_buttons(runtime: Runtime) -> None:
    rep = Rep(runtime, 7201, "李雷", "zh-hans")
    for payload in ("drill_", "drill_XXXXXX", "drill_<script>", "drill_" + "A" * 80):
        await rep.say(f"/start {payload}")
        assert "⚠️" in rep.text, payload
    for data in ("dr:c:999", "dr:s:abc", "dr:n:nobody", "dr:j:", "dr:c:" + "9" * 40):
        await rep.press_data(data)
        assert rep.last.startswith("⚠️"), data
    await rep.say("/drill nobody")
    assert rep.last.startswith("⚠️")
    await rep.say("/drill_close")
    assert rep.last.startswith("⚠️")


async def test_joining_from_a_group_button_plays_in_private(runtime: Runtime) -> None:
    trainer = Rep(runtime, 7301, "张培训", "zh-hans")
    await trainer.say("/drill consultative_buyer")
    join = trainer.button("加入").data
    group = -100123
    event = InboundEvent(user_id=7302, chat_id=group, kind="button", button=join, name="李雷", language_code="zh-hans")
    replies = (await runtime.process(event)).messages
    assert len(replies) == 1 and "私聊" in replies[0].text  # the group sees a short note, not the briefing
    player = Rep(runtime, 7302, "李雷", "zh-hans")
    await player.say("陈总监您好!我是卓越培训的小李,谢谢您抽时间见我。")
    assert player.last.startswith("🗣 陈总监:")
