"""Trainer mode: a group drill where everyone plays the same persona in their own private chat.

/drill PERSONA opens a drill with a join code (`/start drill_<code>`, a t.me deep link when the bot
knows its username, or the Join button in a group chat); /drill shows the open drills' scores so far;
/drill_close (or its button) closes a drill and gives the trainer the table of scores. Only the
trainer who opened a drill sees its table; participants are told their score is shared when they join.
"""

from __future__ import annotations

import re
import secrets
from typing import TYPE_CHECKING

from bot.engine.events import Button, Lang, OutboundMessage
from bot.engine.roleplay.models import CRITERIA, Persona
from db.store import DialogState
from db.store_roleplay import DrillInfo, Roleplays

if TYPE_CHECKING:
    from bot.engine.core import Engine, Turn
    from bot.engine.features.roleplay import RoleplayFeature

DRILL_PREFIX = "drill_"
CODE_ALPHABET = "ABCDEFGHJKLMNPQRSTUVWXYZ23456789"  # no 0/O, 1/I: read aloud in a classroom
CODE_LENGTH = 6
CODE_PATTERN = re.compile(rf"^[{CODE_ALPHABET}]{{{CODE_LENGTH}}}$")
MAX_OPEN = 5


class DrillFeature:
    def __init__(self, engine: Engine, roleplay: RoleplayFeature) -> None:
        self.engine = engine
        self.t = engine.t
        self.rp = roleplay

    def install(self) -> None:
        self.engine.add_command("drill", self.drill)
        self.engine.add_command("drill_close", self.drill_close)
        self.engine.add_button("dr", self.button)
        self.engine.add_start_handler(DRILL_PREFIX, self.join_code)

    # ----- opening a drill ---------------------------------------------------------------------------
    async def drill(self, turn: Turn, dialog: DialogState | None) -> list[OutboundMessage]:
        lang = turn.lang
        arg = turn.event.args.strip()
        repo = self.rp_repo(turn)
        if not arg:
            drills = await repo.open_drills(turn.user.id)
            out = [await self._table(turn, d) for d in drills]
            out.append(OutboundMessage(self.t(lang, "drill_usage"),
                                       buttons=self.rp.persona_buttons(lang, prefix="dr:n:")))
            return out
        persona = self.rp.persona(arg.split()[0])
        if persona is None:
            return [OutboundMessage(self.t(lang, "rp_unknown_persona", given=arg[:40]),
                                    buttons=self.rp.persona_buttons(lang, prefix="dr:n:"))]
        return await self.open(turn, persona)

    async def open(self, turn: Turn, persona: Persona) -> list[OutboundMessage]:
        lang = turn.lang
        repo = self.rp_repo(turn)
        if len(await repo.open_drills(turn.user.id)) >= MAX_OPEN:
            return [OutboundMessage(self.t(lang, "drill_too_many", n=MAX_OPEN))]
        code = await self._new_code(turn)
        drill = await repo.create_drill(code, turn.user.id, turn.event.chat_id, persona.id)
        username = self.engine.bot_username
        link = f"https://t.me/{username}?start={DRILL_PREFIX}{code}" if username else None
        return [OutboundMessage(
            self.t(lang, "drill_opened", code=code, start=f"/start {DRILL_PREFIX}{code}", link=link,
                   name=persona.name.get(lang), title=persona.title.get(lang)),
            buttons=[[Button(self.t(lang, "drill_join_button"), f"dr:j:{drill.id}")],
                     [Button(self.t(lang, "drill_status_button"), f"dr:s:{drill.id}"),
                      Button(self.t(lang, "drill_close_button"), f"dr:c:{drill.id}")]],
        )]

    async def _new_code(self, turn: Turn) -> str:
        repo = self.rp_repo(turn)
        while True:
            code = "".join(secrets.choice(CODE_ALPHABET) for _ in range(CODE_LENGTH))
            if await repo.drill_by_code(code) is None:
                return code

    # ----- joining ---------------------------------------------------------------------------------
    async def join_code(self, turn: Turn, code: str) -> list[OutboundMessage]:
        raw = code[len(DRILL_PREFIX):].strip().upper()
        if not CODE_PATTERN.match(raw):
            return [OutboundMessage(self.t(turn.lang, "drill_unknown"))]
        drill = await self.rp_repo(turn).drill_by_code(raw)
        return await self.join(turn, drill)

    async def join(self, turn: Turn, drill: DrillInfo | None) -> list[OutboundMessage]:
        lang = turn.lang
        if drill is None:
            return [OutboundMessage(self.t(lang, "drill_unknown"))]
        if drill.status != "open":
            return [OutboundMessage(self.t(lang, "drill_closed_already", code=drill.code))]
        persona = self.rp.content.personas.get(drill.persona)
        if persona is None:
            return [OutboundMessage(self.t(lang, "drill_unknown"))]
        if await turn.store.dialogs.active(turn.user.id) is not None:
            return [OutboundMessage(self.t(lang, "rp_flow_busy"))]
        if turn.event.chat_id != turn.event.user_id:  # pressed Join in a group: the practice is private
            await self.rp.begin(turn, persona, drill.id)
            return [OutboundMessage(self.t(lang, "drill_joined_group", who=turn.user.name or "",
                                           name=persona.name.get(lang)))]
        head = OutboundMessage(self.t(lang, "drill_joined", code=drill.code, name=persona.name.get(lang)))
        return [head, *await self.rp.begin(turn, persona, drill.id)]

    # ----- the table ---------------------------------------------------------------------------------
    async def drill_close(self, turn: Turn, dialog: DialogState | None) -> list[OutboundMessage]:
        lang = turn.lang
        repo = self.rp_repo(turn)
        drills = await repo.open_drills(turn.user.id)
        arg = turn.event.args.strip().upper().removeprefix(DRILL_PREFIX.upper())
        if arg:
            drills = [d for d in drills if d.code == arg]
            if not drills:
                return [OutboundMessage(self.t(lang, "drill_not_yours"))]
        if not drills:
            return [OutboundMessage(self.t(lang, "drill_none_open"))]
        if len(drills) > 1:
            return [OutboundMessage(self.t(lang, "drill_pick_close"),
                                    buttons=[[Button(f"{d.code} · {self._persona_name(d, lang)}"[:64], f"dr:c:{d.id}")]
                                             for d in drills])]
        return await self.close(turn, drills[0])

    async def close(self, turn: Turn, drill: DrillInfo) -> list[OutboundMessage]:
        repo = self.rp_repo(turn)
        if drill.status == "open":
            await repo.close_drill(drill.id)
            drill = await repo.drill(drill.id) or drill
        return [await self._table(turn, drill)]

    def _persona_name(self, drill: DrillInfo, lang: Lang) -> str:
        persona = self.rp.content.personas.get(drill.persona)
        return persona.name.get(lang) if persona else drill.persona

    async def _table(self, turn: Turn, drill: DrillInfo) -> OutboundMessage:
        lang = turn.lang
        rows = await self.rp_repo(turn).drill_rows(drill)
        short = {c: self.t(lang, f"rp_short_{c}") for c in CRITERIA}
        lines = [self.t(lang, "drill_table_header", code=drill.code, name=self._persona_name(drill, lang),
                        status=self.t(lang, f"drill_status_{drill.status}"), joined=len(rows),
                        finished=sum(1 for r in rows if r.finished))]
        for i, row in enumerate(rows, start=1):
            who = row.name or f"#{row.user_id}"
            if row.best is None:
                lines.append(self.t(lang, "drill_row_playing", i=i, name=who))
                continue
            parts = " ".join(f"{short[c]}{row.criteria.get(c, 0)}" for c in CRITERIA)
            lines.append(self.t(lang, "drill_row", i=i, name=who, best=row.best, tries=row.finished, parts=parts))
        scored = [r.best for r in rows if r.best is not None]
        if scored:
            lines.append(self.t(lang, "drill_average", average=round(sum(scored) / len(scored))))
        buttons = ([[Button(self.t(lang, "drill_status_button"), f"dr:s:{drill.id}"),
                     Button(self.t(lang, "drill_close_button"), f"dr:c:{drill.id}")]]
                   if drill.status == "open" else [])
        return OutboundMessage("\n".join(lines), buttons=buttons)

    # ----- buttons -----------------------------------------------------------------------------------
    async def button(self, turn: Turn, dialog: DialogState | None, rest: str) -> list[OutboundMessage] | None:
        kind, _, value = rest.partition(":")
        if kind == "n":
            persona = self.rp.content.personas.get(value)
            return await self.open(turn, persona) if persona is not None else None
        if kind not in ("j", "s", "c") or not value.isdigit() or len(value) > 12:
            return None
        drill = await self.rp_repo(turn).drill(int(value))
        if drill is None:
            return None
        if kind == "j":
            return await self.join(turn, drill)
        if drill.trainer_id != turn.user.id:  # only the trainer sees or closes the table
            return [OutboundMessage(self.t(turn.lang, "drill_not_yours"))]
        if kind == "s":
            return [await self._table(turn, drill)]
        return await self.close(turn, drill)

    @staticmethod
    def rp_repo(turn: Turn) -> Roleplays:
        return Roleplays(turn.store.session, turn.store.clock)

