"""Teams and roles: an admin builds a team, people join by invite code, and every command checks roles."""

from __future__ import annotations

from bot.runtime import Runtime
from tests.engine.teams_helpers import (
    ADMIN,
    build_team,
    invite,
    invite_code,
    join,
    make_team,
    person,
)
from tests.helpers import Clock


async def test_admin_builds_a_team_and_people_join_by_code(team_runtime: Runtime) -> None:
    admin, lilei, _hanmeimei, manager = await build_team(team_runtime)
    assert "华东一组" in lilei.replies[0].text and "销售" in lilei.replies[0].text
    assert "经理" in manager.replies[0].text
    await manager.say("/members")
    assert "李雷" in manager.last and "韩梅梅" in manager.last and "王经理" in manager.last
    assert "2 位销售" in manager.last
    await admin.say("/members")
    assert "李雷" in admin.last


async def test_console_invite_shows_the_code_and_telegram_shows_a_deep_link(team_runtime: Runtime) -> None:
    admin = person(team_runtime, ADMIN, "管理员")
    await make_team(admin, "华南组")
    await admin.say("/invite rep")
    code = invite_code(admin.last)
    assert f"/start {code}" in admin.last and "t.me" not in admin.last
    team_runtime.engine.bot_username = "salescoach_test_bot"
    await admin.say("/invite manager 3")
    assert f"https://t.me/salescoach_test_bot?start={invite_code(admin.last)}" in admin.last
    assert "一次" in admin.last  # manager links work once


async def test_only_admins_create_teams_and_reps_cannot_manage(team_runtime: Runtime) -> None:
    _admin, lilei, _han, manager = await build_team(team_runtime)
    stranger = person(team_runtime, 7777, "路人")
    for who in (lilei, stranger, manager):
        await who.say("/newteam 我的团队")
        assert who.last.startswith("⚠️")
    for command in ("/team", "/rep 韩梅梅", "/funnel", "/members", "/invite rep", "/remove 韩梅梅", "/targets 电话 5",
                    "/export", "/chart 电话", "/leaderboard 电话", "/roleplays", "/revoke inv_x"):
        for who in (lilei, stranger):
            await who.say(command)
            assert who.last.startswith("⚠️"), (command, who.last)
            assert "华东一组" not in who.text and "韩梅梅" not in who.last.replace("/rep 韩梅梅", "")


async def test_a_manager_sees_only_their_own_team(team_runtime: Runtime) -> None:
    admin, _lilei, _han, manager = await build_team(team_runtime)
    await make_team(admin, "西北组")
    north_rep = person(team_runtime, 1200, "张伟")
    await join(north_rep, await invite(admin, "rep"))
    await north_rep.say("/log 电话 9")
    await manager.say("/rep 张伟")
    assert manager.last.startswith("⚠️") and "西北组" not in manager.text
    await manager.say("/team")
    assert "张伟" not in manager.last and "李雷" in manager.last
    await manager.say("/revoke")
    assert "西北组" not in manager.text


async def test_codes_expire_can_be_revoked_and_manager_codes_work_once(team_runtime: Runtime, clock: Clock) -> None:
    admin = person(team_runtime, ADMIN, "管理员")
    await make_team(admin, "华东一组")
    old = await invite(admin, "rep")
    revoked = await invite(admin, "rep")
    once = await invite(admin, "manager")
    await admin.say(f"/revoke {revoked}")
    assert admin.last.startswith("✅")
    a, b, c = person(team_runtime, 1, "甲"), person(team_runtime, 2, "乙"), person(team_runtime, 3, "丙")
    await a.say(f"/start {revoked}")
    assert a.replies[0].text.startswith("⚠️") and "作废" in a.replies[0].text
    await join(b, once)
    await c.say(f"/start {once}")
    assert c.replies[0].text.startswith("⚠️") and "用过" in c.replies[0].text
    clock.advance(days=8)
    await a.say(f"/start {old}")
    assert a.replies[0].text.startswith("⚠️") and "过期" in a.replies[0].text
    await a.say("/start inv_doesnotexist")
    assert a.replies[0].text.startswith("⚠️")
    await a.say("/members")
    assert a.last.startswith("⚠️")


async def test_a_rep_belongs_to_one_team_and_moves_only_when_they_confirm(team_runtime: Runtime) -> None:
    admin, lilei, _han, manager = await build_team(team_runtime)
    await make_team(admin, "西北组")
    north = await invite(admin, "rep")
    await lilei.say(f"/start {north}")
    assert "华东一组" in lilei.replies[0].text and "西北组" in lilei.replies[0].text
    await manager.say("/members")
    assert "李雷" in manager.last  # nothing changed until the rep confirms
    await lilei.press("转到")
    assert lilei.last.startswith("✅") and "西北组" in lilei.last
    await manager.say("/members")
    assert "李雷" not in manager.last


async def test_manager_removes_a_rep_after_confirming(team_runtime: Runtime) -> None:
    _admin, _lilei, _han, manager = await build_team(team_runtime)
    await manager.say("/remove 李雷")
    assert "移除" in manager.last
    await manager.press("移除")
    assert manager.last.startswith("✅")
    await manager.say("/members")
    assert "李雷" not in manager.last and "韩梅梅" in manager.last
    await manager.say("/remove 不存在的人")
    assert manager.last.startswith("⚠️")
    await manager.press_data("tm:r:1:999999")  # forged: nobody with that id in the team
    assert manager.last.startswith("⚠️")


async def test_manager_of_two_teams_picks_one_and_it_is_remembered(team_runtime: Runtime) -> None:
    admin, _lilei, _han, manager = await build_team(team_runtime)
    await make_team(admin, "西北组")
    await join(manager, await invite(admin, "manager"))
    await manager.say("/team")  # joining a team makes it the current one
    assert "西北组" in manager.last and "李雷" not in manager.last
    await manager.press("切换团队")
    assert "哪个团队" in manager.last
    await manager.press("华东一组")
    assert "李雷" in manager.text
    await manager.say("/team")
    assert "华东一组" in manager.last and "李雷" in manager.last
    await manager.press_data("tm:f:999:team")  # forged: not a team this manager manages
    assert manager.last.startswith("⚠️")


async def test_english_manager_gets_english_views(team_runtime: Runtime) -> None:
    admin = person(team_runtime, ADMIN, "Admin", "en")
    await admin.say("/newteam East Region")
    assert admin.last.startswith("✅") and "/invite rep" in admin.last
    boss = person(team_runtime, 4001, "Mary", "en")
    await join(boss, await invite(admin, "manager"))
    await boss.say("/team")
    assert "Team “East Region”" in boss.last and "no reps" in boss.last
    await boss.say("/invite")
    assert boss.last.startswith("⚠️")
    await boss.press("Invite reps")
    assert boss.last.startswith("✅") and "/revoke" in boss.last
