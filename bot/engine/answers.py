"""Knowledge answers: /ask, free text outside a flow, /topics and the entry buttons."""

from __future__ import annotations

import re
from typing import TYPE_CHECKING

from bot.engine.events import Button, Lang, OutboundMessage
from bot.kb.models import LANGS, Entry
from bot.kb.search import Hit
from bot.text.normalize import has_cjk

if TYPE_CHECKING:
    from bot.engine.content import Content

MAX_RELATED = 3
ASK_LIMIT = 3  # hits a question is answered from: the best, or up to three to choose between
_ENTRY_ID = re.compile(r"\b[a-z][a-z0-9_]*\.[a-z][a-z0-9_]*\b")
_LATIN_WORD = re.compile(r"[A-Za-z]{2,}")


def answer_language(query: str, lang: Lang) -> Lang:
    """A question typed in English gets an English answer, one in Chinese a Chinese answer."""
    if has_cjk(query):
        return "zh"
    if len(_LATIN_WORD.findall(query)) >= 3:
        return "en"
    return lang
AREA_PAGE = 12


class Answers:
    def __init__(self, content: Content) -> None:
        self.content = content
        self.t = content.messages
        # (entry id, lang) → card text and button rows. A card depends only on the (immutable) content,
        # and rendering it (talk template, id links) costs about as much as a fifth of a search; at most
        # one per entry and language, so it stays bounded by the knowledge base.
        self._cards: dict[tuple[str, Lang], tuple[str, tuple[tuple[Button, ...], ...]]] = {}

    def ask(self, query: str, lang: Lang, hits: list[Hit] | None = None) -> list[OutboundMessage]:
        """`hits`: the search for `query` (limit ASK_LIMIT) when the caller ran it ahead, elsewhere."""
        lang = answer_language(query, lang)
        if hits is None:
            hits = self.content.index.search(query, limit=ASK_LIMIT)
        if not hits:
            return [OutboundMessage(self.t(lang, "ask_nothing"), buttons=[[Button(self.t(lang, "topics_button"), "t:")]])]
        best = hits[0]
        if not best.confident:
            rows = [[Button(self._title(h.entry_id, lang)[:60], f"k:{h.entry_id}")] for h in hits]
            return [OutboundMessage(self.t(lang, "ask_unsure"), buttons=rows)]
        return [self.entry_card(best.entry_id, lang)]

    def _title(self, entry_id: str, lang: Lang) -> str:
        entry = self.content.kb.get(entry_id)
        return entry.title_in(lang) if entry else entry_id

    def entry_card(self, entry_id: str, lang: Lang) -> OutboundMessage:
        """The entry's text, script and related-entry buttons (KeyError if there is no such entry)."""
        card = self._cards.get((entry_id, lang))
        if card is None:
            message = self._render_card(entry_id, lang)
            if lang not in LANGS:  # not a language of ours: not kept, so the memo stays bounded
                return message
            card = message.text, tuple(tuple(row) for row in message.buttons)
            self._cards[entry_id, lang] = card
        text, rows = card
        return OutboundMessage(text=text, buttons=[list(row) for row in rows])

    def _render_card(self, entry_id: str, lang: Lang) -> OutboundMessage:
        entry: Entry = self.content.kb[entry_id]
        parts = [f"📘 {entry.title_in(lang)}", self._link_ids(entry.body_in(lang).strip(), lang)]
        if entry.script:
            parts.append(self.t(lang, "script_header") + "\n" + self.content.talk.render(entry.script, lang).strip())
        rows = [
            [Button("➡️ " + self._title(rid, lang)[:56], f"k:{rid}")]
            for rid in entry.related[:MAX_RELATED]
            if self.content.kb.get(rid) is not None
        ]
        return OutboundMessage(text="\n\n".join(parts), buttons=rows)

    def _link_ids(self, body: str, lang: Lang) -> str:
        """Bodies refer to other entries by id; a rep reads their titles instead (the buttons open them)."""

        def title(match: re.Match[str]) -> str:
            entry = self.content.kb.get(match.group(0))
            return f"「{entry.title_in(lang)}」" if entry is not None else match.group(0)

        return _ENTRY_ID.sub(title, body)

    def topics(self, lang: Lang) -> OutboundMessage:
        rows = [[Button(area.title.get(lang), f"t:{area.name}")] for area in self.content.kb.areas]
        return OutboundMessage(self.t(lang, "topics_header"), buttons=rows)

    def button(self, kind: str, value: str, lang: Lang) -> list[OutboundMessage] | None:
        """Entry (k:) and area (t:) buttons; None when the payload names nothing that exists."""
        if kind == "k":
            return [self.entry_card(value, lang)] if self.content.kb.get(value) is not None else None
        if value == "":
            return [self.topics(lang)]
        area = next((a for a in self.content.kb.areas if a.name == value), None)
        if area is None:
            return None
        rows = [[Button(self._title(eid, lang)[:60], f"k:{eid}")] for eid in area.entries]
        return [OutboundMessage(self.t(lang, "area_header", area=area.title.get(lang)), buttons=rows)]
