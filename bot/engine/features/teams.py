"""Teams and roles: /newteam, /invite, /revoke, /members, /remove, and joining by deep link (`/start CODE`).

Admins come from configuration (SALESCOACH_ADMINS) and may act on every team; a manager acts on the teams
they manage; a rep belongs to one team. Every command and button re-checks the caller's role here.
"""

from __future__ import annotations

import secrets
from datetime import timedelta
from typing import TYPE_CHECKING
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from bot.engine.events import Button, OutboundMessage
from bot.engine.features.teamkit import (
    TEAM_PREFIX,
    Managed,
    display_name,
    find_members,
    is_admin,
    managed_teams,
    rerun,
    resolve_team,
    team_picker,
    teams_repo,
)
from db.store import DialogState
from db.store_teams import InviteInfo, TeamInfo

if TYPE_CHECKING:
    from bot.engine.core import Engine, Turn

INVITE_PREFIX = "inv_"
INVITE_DAYS = 7
MAX_INVITE_DAYS = 30
MAX_TEAM_NAME = 64
ROLE_WORDS = {
    "rep": "rep", "reps": "rep", "sales": "rep", "销售": "rep", "代表": "rep", "销售代表": "rep", "业务员": "rep",
    "manager": "manager", "managers": "manager", "经理": "manager", "主管": "manager", "销售经理": "manager",
}
RERUNNABLE = ("team", "rep", "funnel", "leaderboard", "roleplays", "targets", "chart", "export", "invite",
              "members", "remove", "revoke")


class TeamAdmin:
    def __init__(self, engine: Engine) -> None:
        self.engine = engine
        self.t = engine.t

    # ----- /newteam ---------------------------------------------------------------------------
    async def newteam(self, turn: Turn, dialog: DialogState | None) -> list[OutboundMessage]:
        lang = turn.lang
        if not is_admin(self.engine, turn):
            return [OutboundMessage(self.t(lang, "team_admin_only", command="newteam"))]
        name, tz = self._name_and_zone(turn.event.args)
        if not name:
            return [OutboundMessage(self.t(lang, "newteam_usage"))]
        if len(name) > MAX_TEAM_NAME or "\n" in name or name.startswith("/"):
            return [OutboundMessage(self.t(lang, "newteam_bad_name", limit=MAX_TEAM_NAME))]
        repo = teams_repo(turn)
        if await repo.by_name(name) is not None:
            return [OutboundMessage(self.t(lang, "newteam_exists", name=name))]
        team = await repo.create(name, tz or self.engine.config.timezone)
        await repo.set_focus(turn.user.id, team.id)
        return [OutboundMessage(self.t(lang, "newteam_done", name=team.name, tz=team.timezone))]

    @staticmethod
    def _name_and_zone(args: str) -> tuple[str, str | None]:
        """`NAME [Area/City]`: a trailing valid time zone sets the team's zone."""
        text = " ".join(args.split())
        head, _, last = text.rpartition(" ")
        if head and "/" in last:
            try:
                ZoneInfo(last)
            except (ZoneInfoNotFoundError, ValueError):
                return text, None
            return head, last
        return text, None

    # ----- /invite ----------------------------------------------------------------------------
    async def invite(self, turn: Turn, dialog: DialogState | None) -> list[OutboundMessage]:
        lang = turn.lang
        words = turn.event.args.split()
        role = ROLE_WORDS.get(words[0].lower()) if words else None
        days = INVITE_DAYS
        if role is None or len(words) > 2:
            managed = await managed_teams(self.engine, turn)
            if not managed:
                return [OutboundMessage(self.t(lang, "team_not_manager", command="invite"))]
            return [OutboundMessage(self.t(lang, "invite_usage"), buttons=[[
                Button(self.t(lang, "invite_rep_button"), f"{TEAM_PREFIX}:i:rep"),
                Button(self.t(lang, "invite_manager_button"), f"{TEAM_PREFIX}:i:manager")]])]
        if len(words) == 2:
            if not words[1].isdigit() or not 1 <= int(words[1]) <= MAX_INVITE_DAYS:
                return [OutboundMessage(self.t(lang, "invite_bad_days", limit=MAX_INVITE_DAYS))]
            days = int(words[1])
        managed_or_reply = await resolve_team(self.engine, turn, "invite")
        if not isinstance(managed_or_reply, Managed):
            return managed_or_reply
        return await self._make_invite(turn, managed_or_reply.team, role, days)

    async def _make_invite(self, turn: Turn, team: TeamInfo, role: str, days: int) -> list[OutboundMessage]:
        repo = teams_repo(turn)
        code = INVITE_PREFIX + secrets.token_urlsafe(12)
        invite = await repo.create_invite(code, team.id, role, turn.user.id, turn.now + timedelta(days=days),
                                          max_uses=1 if role == "manager" else None)
        return [self._invite_message(turn, team, invite)]

    def _invite_message(self, turn: Turn, team: TeamInfo, invite: InviteInfo) -> OutboundMessage:
        lang = turn.lang
        until = invite.expires_at.astimezone(ZoneInfo(team.timezone)).strftime("%Y-%m-%d %H:%M")
        username = self.engine.bot_username
        link = f"https://t.me/{username}?start={invite.code}" if username else None
        return OutboundMessage(self.t(
            lang, "invite_done", team=team.name, role=self.t(lang, f"tm_role_{invite.role}"), link=link,
            code=invite.code, until=until, single=invite.max_uses == 1,
        ))

    # ----- /revoke ----------------------------------------------------------------------------
    async def revoke(self, turn: Turn, dialog: DialogState | None) -> list[OutboundMessage]:
        lang, code = turn.lang, turn.event.args.strip()
        repo = teams_repo(turn)
        if not code:
            managed = await resolve_team(self.engine, turn, "revoke")
            if not isinstance(managed, Managed):
                return managed
            invites = await repo.open_invites(managed.team.id)
            if not invites:
                return [OutboundMessage(self.t(lang, "revoke_none_open", team=managed.team.name))]
            rows = [[Button(f"🚫 {self.t(lang, 'tm_role_' + i.role)} · {i.code[-6:]}", f"{TEAM_PREFIX}:v:{i.id}")]
                    for i in invites[:20]]
            lines = "\n".join(f"• {self.t(lang, 'tm_role_' + i.role)}: {i.code}" for i in invites[:20])
            return [OutboundMessage(self.t(lang, "revoke_pick", team=managed.team.name, lines=lines), buttons=rows)]
        invite = await repo.invite(code[:64])
        if invite is None or not await self._may_manage(turn, invite.team_id):
            return [OutboundMessage(self.t(lang, "revoke_unknown"))]
        return await self._revoke(turn, invite)

    async def _revoke(self, turn: Turn, invite: InviteInfo) -> list[OutboundMessage]:
        if invite.revoked_at is not None:
            return [OutboundMessage(self.t(turn.lang, "revoke_already"))]
        await teams_repo(turn).revoke_invite(invite.id)
        return [OutboundMessage(self.t(turn.lang, "revoke_done", code=invite.code))]

    async def _may_manage(self, turn: Turn, team_id: int) -> bool:
        return any(team.id == team_id for team in await managed_teams(self.engine, turn))

    # ----- /members and /remove ---------------------------------------------------------------
    async def members(self, turn: Turn, dialog: DialogState | None) -> list[OutboundMessage]:
        lang = turn.lang
        managed = await resolve_team(self.engine, turn, "members")
        if not isinstance(managed, Managed):
            return managed
        team = managed.team
        repo = teams_repo(turn)
        members = await repo.members(team.id)
        zone = ZoneInfo(team.timezone)
        lines = []
        for m in members:
            lines.append(self.t(lang, "members_line", icon="🧭" if m.role == "manager" else "👤",
                                name=display_name(self.engine, lang, m), role=self.t(lang, f"tm_role_{m.role}"),
                                joined=m.joined_at.astimezone(zone).strftime("%Y-%m-%d"),
                                seen=m.last_seen_at.astimezone(zone).strftime("%m-%d %H:%M")))
        reps = sum(1 for m in members if m.role == "rep")
        invites = len(await repo.open_invites(team.id))
        text = self.t(lang, "members_header", team=team.name, reps=reps, managers=len(members) - reps,
                      invites=invites)
        body = "\n".join(lines) if lines else self.t(lang, "members_empty")
        return [OutboundMessage(text + "\n" + body)]

    async def remove(self, turn: Turn, dialog: DialogState | None) -> list[OutboundMessage]:
        lang, query = turn.lang, turn.event.args.strip()
        managed = await resolve_team(self.engine, turn, "remove")
        if not isinstance(managed, Managed):
            return managed
        if not query:
            return [OutboundMessage(self.t(lang, "remove_usage"))]
        members = [m for m in await teams_repo(turn).members(managed.team.id) if m.user_id != turn.user.id]
        found = find_members(members, query[:128])
        if not found:
            return [OutboundMessage(self.t(lang, "remove_not_found", name=query[:40], team=managed.team.name))]
        rows = [[Button(self.t(lang, "remove_confirm_button", name=display_name(self.engine, lang, m),
                               role=self.t(lang, f"tm_role_{m.role}"))[:60],
                        f"{TEAM_PREFIX}:r:{managed.team.id}:{m.user_id}")] for m in found[:10]]
        key = "remove_confirm" if len(found) == 1 else "remove_pick"
        return [OutboundMessage(self.t(lang, key, team=managed.team.name), buttons=rows)]

    async def _do_remove(self, turn: Turn, team_id: int, user_id: int) -> list[OutboundMessage] | None:
        lang = turn.lang
        if not await self._may_manage(turn, team_id):
            return None
        repo = teams_repo(turn)
        member = next((m for m in await repo.members(team_id) if m.user_id == user_id), None)
        team = await repo.get(team_id)
        if member is None or team is None:
            return [OutboundMessage(self.t(lang, "remove_gone"))]
        if member.role == "manager" and not is_admin(self.engine, turn):
            return [OutboundMessage(self.t(lang, "remove_manager_admin_only"))]
        await repo.remove_member(team_id, user_id)
        return [OutboundMessage(self.t(lang, "remove_done", name=display_name(self.engine, lang, member),
                                       team=team.name), edit=True)]

    # ----- joining by deep link ----------------------------------------------------------------
    async def join(self, turn: Turn, code: str) -> list[OutboundMessage]:
        lang = turn.lang
        repo = teams_repo(turn)
        invite = await repo.invite(code[:64])
        if invite is None:
            return [OutboundMessage(self.t(lang, "invite_unknown"))]
        if not invite.usable(turn.now):
            key = "join_revoked" if invite.revoked_at else ("join_used" if invite.max_uses and
                                                            invite.uses >= invite.max_uses else "join_expired")
            return [OutboundMessage(self.t(lang, key))]
        team = await repo.get(invite.team_id)
        if team is None:
            return [OutboundMessage(self.t(lang, "invite_unknown"))]
        role_here = await repo.role_in(team.id, turn.user.id)
        if invite.role == "rep":
            if role_here == "rep":
                return [OutboundMessage(self.t(lang, "join_already", team=team.name, role=self.t(lang, "tm_role_rep")))]
            if role_here == "manager":
                return [OutboundMessage(self.t(lang, "join_manager_not_rep", team=team.name))]
            current = await repo.rep_team(turn.user.id)
            if current is not None:
                return [OutboundMessage(
                    self.t(lang, "join_move_confirm", current=current.name, team=team.name),
                    buttons=[[Button(self.t(lang, "join_move_button", team=team.name)[:60],
                                     f"{TEAM_PREFIX}:m:{invite.code}")]],
                )]
        elif role_here == "manager":
            return [OutboundMessage(self.t(lang, "join_already", team=team.name, role=self.t(lang, "tm_role_manager")))]
        return await self._join(turn, invite, team)

    async def _join(self, turn: Turn, invite: InviteInfo, team: TeamInfo) -> list[OutboundMessage]:
        repo = teams_repo(turn)
        if invite.role == "rep":
            current = await repo.rep_team(turn.user.id)
            if current is not None and current.id != team.id:
                await repo.remove_member(current.id, turn.user.id)
        await repo.add_member(team.id, turn.user.id, invite.role)
        await repo.use_invite(invite.id)
        if invite.role == "manager":
            await repo.set_focus(turn.user.id, team.id)
        key = "join_done_manager" if invite.role == "manager" else "join_done_rep"
        return [OutboundMessage(self.t(turn.lang, key, team=team.name))]

    # ----- buttons (tm:…) ---------------------------------------------------------------------
    async def button(self, turn: Turn, dialog: DialogState | None, rest: str) -> list[OutboundMessage] | None:
        """tm:f:<team>:<cmd> pick a team · tm:p:<cmd> picker · tm:i:<role> invite · tm:v:<invite> revoke ·
        tm:r:<team>:<user> remove · tm:m:<code> move to another team. Anything else → None (⚠️)."""
        kind, _, payload = rest.partition(":")
        parts = payload.split(":")
        if kind == "f" and len(parts) == 2 and parts[0].isdigit() and parts[1] in RERUNNABLE:
            teams = await managed_teams(self.engine, turn)
            team = next((x for x in teams if x.id == int(parts[0])), None)
            if team is None:
                return None
            await teams_repo(turn).set_focus(turn.user.id, team.id)
            note = OutboundMessage(self.t(turn.lang, "team_focus_set", team=team.name))
            return [note, *await self.engine.commands[parts[1]](rerun(turn, parts[1]), dialog)]
        if kind == "p" and len(parts) == 1 and parts[0] in RERUNNABLE:
            teams = await managed_teams(self.engine, turn)
            if len(teams) < 2:
                return None
            return [team_picker(self.engine, turn, teams, parts[0])]
        if kind == "i" and payload in ("rep", "manager"):
            managed = await resolve_team(self.engine, turn, "invite")
            if not isinstance(managed, Managed):
                return managed
            return await self._make_invite(turn, managed.team, payload, INVITE_DAYS)
        if kind == "v" and payload.isdigit():
            invite = await teams_repo(turn).invite_by_id(int(payload))
            if invite is None or not await self._may_manage(turn, invite.team_id):
                return None
            return await self._revoke(turn, invite)
        if kind == "r" and len(parts) == 2 and all(p.isdigit() for p in parts):
            return await self._do_remove(turn, int(parts[0]), int(parts[1]))
        if kind == "m" and payload.startswith(INVITE_PREFIX):
            invite = await teams_repo(turn).invite(payload)
            if invite is None or invite.role != "rep":
                return None
            if not invite.usable(turn.now):
                return [OutboundMessage(self.t(turn.lang, "join_expired"))]
            team = await teams_repo(turn).get(invite.team_id)
            if team is None:
                return None
            return await self._join(turn, invite, team)
        return None


def install(engine: Engine) -> TeamAdmin:
    feature = TeamAdmin(engine)
    engine.add_command("newteam", feature.newteam)
    engine.add_command("invite", feature.invite)
    engine.add_command("revoke", feature.revoke)
    engine.add_command("members", feature.members)
    engine.add_command("remove", feature.remove)
    engine.add_button(TEAM_PREFIX, feature.button)
    engine.add_start_handler(INVITE_PREFIX, feature.join)
    return feature
