"""Shared by the team tests: a runtime with an admin configured, people who talk to it, invite codes."""

from __future__ import annotations

import re
from collections.abc import AsyncIterator

import pytest
from sqlalchemy import func, select

from bot.config import Settings
from bot.engine.content import Content
from bot.runtime import Runtime
from db.models import ActivityEvent
from tests.helpers import Clock, Rep

ADMIN = 9001
CODE = re.compile(r"inv_[A-Za-z0-9_-]+")


@pytest.fixture
async def team_runtime(settings: Settings, content: Content, clock: Clock) -> AsyncIterator[Runtime]:
    rt = Runtime(settings.model_copy(update={"admins_raw": str(ADMIN)}), content=content, clock=clock)
    await rt.migrate()
    try:
        yield rt
    finally:
        await rt.close()


def person(runtime: Runtime, user_id: int, name: str, lang: str = "zh-hans") -> Rep:
    return Rep(runtime, user_id=user_id, name=name, language_code=lang)


def invite_code(text: str) -> str:
    match = CODE.search(text)
    assert match, f"no invite code in {text!r}"
    return match.group(0)


async def make_team(admin: Rep, name: str) -> None:
    await admin.say(f"/newteam {name}")
    assert admin.last.startswith("✅"), admin.last


async def invite(inviter: Rep, role: str) -> str:
    await inviter.say(f"/invite {role}")
    assert inviter.last.startswith("✅"), inviter.last
    return invite_code(inviter.last)


async def join(user: Rep, code: str) -> None:
    await user.say(f"/start {code}")
    assert "✅" in user.replies[0].text, user.text


async def event_total(runtime: Runtime, kind: str | None = None) -> int:
    async with runtime.sessions() as session:
        stmt = select(func.coalesce(func.sum(ActivityEvent.amount), 0))
        if kind is not None:
            stmt = stmt.where(ActivityEvent.kind == kind)
        return int(await session.scalar(stmt) or 0)


async def build_team(runtime: Runtime) -> tuple[Rep, Rep, Rep, Rep]:
    """An admin, a team 华东一组 with two reps (李雷, 韩梅梅) and a manager (王经理)."""
    admin = person(runtime, ADMIN, "管理员")
    await make_team(admin, "华东一组")
    rep_code = await invite(admin, "rep")
    manager_code = await invite(admin, "manager")
    lilei, hanmeimei = person(runtime, 1001, "李雷"), person(runtime, 1002, "韩梅梅")
    manager = person(runtime, 3001, "王经理")
    await join(lilei, rep_code)
    await join(hanmeimei, rep_code)
    await join(manager, manager_code)
    return admin, lilei, hanmeimei, manager
