"""The command list of the brief, grouped for /help and the Telegram menu (descriptions live in messages)."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class CommandInfo:
    name: str
    group: str  # rep | manager | admin | general
    menu: bool = False  # shown in Telegram's command menu


COMMANDS: tuple[CommandInfo, ...] = (
    CommandInfo("prep", "rep", menu=True),
    CommandInfo("visit1", "rep", menu=True),
    CommandInfo("visit2", "rep", menu=True),
    CommandInfo("debrief1", "rep"),
    CommandInfo("debrief2", "rep"),
    CommandInfo("spin", "rep", menu=True),
    CommandInfo("fab", "rep", menu=True),
    CommandInfo("ask", "rep", menu=True),
    CommandInfo("topics", "rep", menu=True),
    CommandInfo("roleplay", "rep", menu=True),
    CommandInfo("hint", "rep"),
    CommandInfo("restart", "rep"),
    CommandInfo("end", "rep"),
    CommandInfo("log", "rep", menu=True),
    CommandInfo("week", "rep", menu=True),
    CommandInfo("weekcheck", "rep"),
    CommandInfo("month", "rep"),
    CommandInfo("undo", "rep"),
    CommandInfo("orphans", "rep"),
    CommandInfo("plan", "rep"),
    CommandInfo("customers", "rep"),
    CommandInfo("calc", "rep"),
    CommandInfo("history", "rep"),
    CommandInfo("team", "manager"),
    CommandInfo("rep", "manager"),
    CommandInfo("funnel", "manager"),
    CommandInfo("leaderboard", "manager"),
    CommandInfo("chart", "manager"),
    CommandInfo("export", "manager"),
    CommandInfo("targets", "manager"),
    CommandInfo("roleplays", "manager"),
    CommandInfo("drill", "manager"),
    CommandInfo("drill_close", "manager"),
    CommandInfo("newteam", "admin"),
    CommandInfo("invite", "admin"),
    CommandInfo("members", "admin"),
    CommandInfo("remove", "admin"),
    CommandInfo("revoke", "admin"),
    CommandInfo("privacy", "general"),
    CommandInfo("mydata", "general"),
    CommandInfo("forgetme", "general"),
    CommandInfo("help", "general", menu=True),
    CommandInfo("lang", "general", menu=True),
    CommandInfo("cancel", "general", menu=True),
    CommandInfo("back", "general"),
    CommandInfo("skip", "general"),
    CommandInfo("repeat", "general"),
    CommandInfo("start", "general"),
)

KNOWN = frozenset(c.name for c in COMMANDS)
