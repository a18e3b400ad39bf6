"""/privacy (what is stored), /mydata (the user's own data as a JSON document), /forgetme (delete it).

What /forgetme does: every row that belongs to the user is deleted (profile, flows, customers and their
records, role-play data, memberships, and the delivered messages of their private chat). Team totals keep
anonymous counts: when the user is a rep of a team, their activity events are first handed to that team's
anonymous placeholder member (no name, no Telegram id, no customer link), so the team's past weeks and
funnel stay right while nothing points back to the person. Without a team, the events are deleted too.
"""

from __future__ import annotations

import json
from datetime import date, datetime
from decimal import Decimal
from typing import TYPE_CHECKING, Any

from sqlalchemy import Column, Table, delete, select, update

from bot.engine.events import Attachment, Button, OutboundMessage
from bot.engine.features.teamkit import teams_repo
from db.all_models import Base
from db.models import ActivityEvent, InboxUpdate, OutboxMessage
from db.store import DialogState

if TYPE_CHECKING:
    from bot.engine.core import Engine, Turn

PRIVACY_PREFIX = "pv"
CONFIRM_SECONDS = 600


def _user_columns() -> list[tuple[Table, Column[Any]]]:
    """Every (table, column) with a foreign key to users.id, dependants first."""
    found = []
    for table in reversed(Base.metadata.sorted_tables):
        for column in table.columns:
            if any(fk.column.table.name == "users" and fk.column.name == "id" for fk in column.foreign_keys):
                found.append((table, column))
    return found


def _customer_columns() -> list[tuple[Table, Column[Any]]]:
    found = []
    for table in reversed(Base.metadata.sorted_tables):
        for column in table.columns:
            if any(fk.column.table.name == "customers" and fk.column.name == "id" for fk in column.foreign_keys):
                found.append((table, column))
    return found


def _jsonable(value: Any) -> Any:
    if isinstance(value, datetime | date):
        return value.isoformat()
    if isinstance(value, Decimal):
        return float(value)
    if isinstance(value, bytes):
        return value.hex()
    return value


class Privacy:
    def __init__(self, engine: Engine) -> None:
        self.engine = engine
        self.t = engine.t

    async def privacy(self, turn: Turn, dialog: DialogState | None) -> list[OutboundMessage]:
        return [OutboundMessage(self.t(turn.lang, "privacy_text"))]

    async def mydata(self, turn: Turn, dialog: DialogState | None) -> list[OutboundMessage]:
        data = await self.collect(turn)
        payload = json.dumps(data, ensure_ascii=False, indent=1, default=str).encode("utf-8")
        counts = {name: len(rows) for name, rows in data["tables"].items() if rows}
        summary = "\n".join(f"• {name}: {n}" for name, n in counts.items())
        return [OutboundMessage(self.t(turn.lang, "mydata_done", summary=summary),
                                attachment=Attachment("document", f"salescoach_mydata_{turn.user.telegram_id}.json",
                                                      payload))]

    async def collect(self, turn: Turn) -> dict[str, Any]:
        """The user's row and every row of every table that points at them (features' tables included)."""
        session = turn.store.session
        uid = turn.user.id
        user_table = Base.metadata.tables["users"]
        profile = (await session.execute(select(user_table).where(user_table.c.id == uid))).mappings().first()
        tables: dict[str, list[dict[str, Any]]] = {}
        for table, column in reversed(_user_columns()):
            rows = (await session.execute(select(table).where(column == uid))).mappings().all()
            key = table.name if table.name not in tables else f"{table.name}.{column.name}"
            tables[key] = [{k: _jsonable(v) for k, v in row.items()} for row in rows]
        return {"exported_at": turn.now.isoformat(),
                "user": {k: _jsonable(v) for k, v in (profile or {}).items()}, "tables": tables}

    async def forgetme(self, turn: Turn, dialog: DialogState | None) -> list[OutboundMessage]:
        lang = turn.lang
        stamp = int(turn.now.timestamp())
        team = await teams_repo(turn).rep_team(turn.user.id)
        return [OutboundMessage(self.t(lang, "forget_confirm", team=team.name if team else ""), buttons=[[
            Button(self.t(lang, "forget_yes_button"), f"{PRIVACY_PREFIX}:f:{stamp}"),
            Button(self.t(lang, "forget_no_button"), f"{PRIVACY_PREFIX}:n")]])]

    async def button(self, turn: Turn, dialog: DialogState | None, rest: str) -> list[OutboundMessage] | None:
        """pv:f:<when asked> deletes (within 10 minutes of /forgetme); pv:n keeps everything."""
        lang = turn.lang
        if rest == "n":
            return [OutboundMessage(self.t(lang, "forget_kept"), edit=True)]
        kind, _, stamp = rest.partition(":")
        if kind != "f" or not stamp.isdigit():
            return None
        age = turn.now.timestamp() - int(stamp)
        if not -60 <= age <= CONFIRM_SECONDS:
            return [OutboundMessage(self.t(lang, "forget_stale"))]
        anonymous = await self.forget(turn)
        return [OutboundMessage(self.t(lang, "forget_done", kept=anonymous), edit=True)]

    async def forget(self, turn: Turn) -> bool:
        """Delete everything of the user; True when their activity was kept anonymously for their team."""
        session = turn.store.session
        uid = turn.user.id
        team = await teams_repo(turn).rep_team(uid)
        kept = False
        if team is not None:
            placeholder = await teams_repo(turn).anonymous_member(team.id)
            result = await session.execute(
                update(ActivityEvent).where(ActivityEvent.user_id == uid).values(user_id=placeholder, customer_id=None)
            )
            kept = bool(getattr(result, "rowcount", 0))
        customers = Base.metadata.tables["customers"]
        owned = select(customers.c.id).where(customers.c.owner_id == uid)
        for table, column in _customer_columns():
            if column.nullable:
                await session.execute(update(table).where(column.in_(owned)).values({column.name: None}))
            elif table.name != "customers":
                await session.execute(delete(table).where(column.in_(owned)))
        for table, column in _user_columns():
            if column.nullable:
                await session.execute(update(table).where(column == uid).values({column.name: None}))
            else:
                await session.execute(delete(table).where(column == uid))
        users = Base.metadata.tables["users"]
        await session.execute(delete(users).where(users.c.id == uid))
        chat = turn.event.chat_id
        if chat == turn.user.telegram_id:  # a private chat: its delivered messages are the user's too
            await session.execute(delete(OutboxMessage).where(OutboxMessage.chat_id == chat,
                                                              OutboxMessage.sent_at.is_not(None)))
            stmt = delete(InboxUpdate).where(InboxUpdate.chat_id == chat, InboxUpdate.status != "pending")
            if turn.event.update_id is not None:
                stmt = stmt.where(InboxUpdate.update_id != turn.event.update_id)
            await session.execute(stmt)
        session.expunge_all()
        return kept


def install(engine: Engine) -> Privacy:
    feature = Privacy(engine)
    engine.add_command("privacy", feature.privacy)
    engine.add_command("mydata", feature.mydata)
    engine.add_command("forgetme", feature.forgetme)
    engine.add_button(PRIVACY_PREFIX, feature.button)
    return feature
