"""Checks the fake Bot API applies so tests catch what the real Telegram would reject.

Everything here raises :class:`ApiError`, which the server turns into the usual
``{"ok": false, "error_code": ..., "description": ...}`` answer.  The error texts are
the ones Telegram sends (where known); tests should match on their stable part, e.g.
``"message is too long"`` or ``"can't parse entities"``.
"""

from __future__ import annotations

import html
import re
from typing import Any

MAX_TEXT_LENGTH = 4096
MAX_CAPTION_LENGTH = 1024
MAX_CALLBACK_DATA_BYTES = 64
MAX_COMMANDS = 100

# Inline keyboard button fields that make a button "do" something; a button with none of
# them is a plain text button, which Telegram refuses in inline keyboards.
INLINE_BUTTON_ACTIONS = (
    "url",
    "callback_data",
    "web_app",
    "login_url",
    "switch_inline_query",
    "switch_inline_query_current_chat",
    "switch_inline_query_chosen_chat",
    "copy_text",
    "callback_game",
    "pay",
)

# Tags of Telegram's HTML parse mode (https://core.telegram.org/bots/api#html-style).
HTML_TAGS = frozenset(
    {
        "b",
        "strong",
        "i",
        "em",
        "u",
        "ins",
        "s",
        "strike",
        "del",
        "span",
        "tg-spoiler",
        "a",
        "tg-emoji",
        "code",
        "pre",
        "blockquote",
    }
)

_COMMAND_RE = re.compile(r"^[a-z0-9_]{1,32}$")
_TAG_RE = re.compile(r"<(/?)([A-Za-z][A-Za-z0-9-]*)((?:\s+[^<>]*)?)\s*(/?)>")
_ENTITY_RE = re.compile(r"&(#x[0-9A-Fa-f]+|#[0-9]+|lt|gt|amp|quot);")
_MDV2_ALWAYS_RESERVED = set("#+-={}.!")


class ApiError(Exception):
    """A Bot API error answer: HTTP status = error_code."""

    def __init__(self, code: int, description: str, parameters: dict[str, Any] | None = None) -> None:
        super().__init__(f"{code} {description}")
        self.code = code
        self.description = description
        self.parameters = parameters


def bad_request(what: str) -> ApiError:
    return ApiError(400, f"Bad Request: {what}")


def _byte_offset(text: str, index: int) -> int:
    return len(text[:index].encode("utf-8"))


def _parse_error(what: str) -> ApiError:
    return bad_request(f"can't parse entities: {what}")


_SIMPLE_ENTITY_TYPES = {
    "b": "bold",
    "strong": "bold",
    "i": "italic",
    "em": "italic",
    "u": "underline",
    "ins": "underline",
    "s": "strikethrough",
    "strike": "strikethrough",
    "del": "strikethrough",
    "tg-spoiler": "spoiler",
    "code": "code",
    "pre": "pre",
}
_ATTR_RE = re.compile(r"""([A-Za-z-]+)(?:\s*=\s*(?:"([^"]*)"|'([^']*)'|([^\s"'>]+)))?""")


def _unescape(chunk: str) -> str:
    return _ENTITY_RE.sub(lambda m: html.unescape(m.group(0)), chunk)


def _utf16(text: str) -> int:
    return len(text.encode("utf-16-le")) // 2


def _html_entity(name: str, attrs: str, offset: int, length: int) -> dict[str, Any] | None:
    found = {
        m.group(1).lower(): _unescape(m.group(2) or m.group(3) or m.group(4) or "")
        for m in _ATTR_RE.finditer(attrs)
    }
    entity: dict[str, Any] = {"offset": offset, "length": length}
    if name in _SIMPLE_ENTITY_TYPES:
        entity["type"] = _SIMPLE_ENTITY_TYPES[name]
        if name == "code" and found.get("class", "").startswith("language-"):
            entity["_class"] = found["class"][len("language-") :]
    elif name == "span" and found.get("class") == "tg-spoiler":
        entity["type"] = "spoiler"
    elif name == "a" and found.get("href"):
        entity.update(type="text_link", url=found["href"])
    elif name == "blockquote":
        entity["type"] = "expandable_blockquote" if "expandable" in found else "blockquote"
    elif name == "tg-emoji" and found.get("emoji-id"):
        entity.update(type="custom_emoji", custom_emoji_id=found["emoji-id"])
    else:
        return None
    return entity if length > 0 else None


def html_parse(text: str) -> tuple[str, list[dict[str, Any]]]:
    """Parse Telegram HTML like the Bot API: (visible text, MessageEntity dicts); raises on bad markup."""
    out: list[str] = []
    size = 0  # UTF-16 length of the visible text so far (entity offsets are in UTF-16 units)
    stack: list[tuple[str, str, int]] = []
    entities: list[dict[str, Any]] = []
    pos = 0
    while True:
        lt = text.find("<", pos)
        chunk = _unescape(text[pos:] if lt < 0 else text[pos:lt])
        out.append(chunk)
        size += _utf16(chunk)
        if lt < 0:
            break
        m = _TAG_RE.match(text, lt)
        if m is None:
            # "a < b" or "<3": Telegram wants &lt; here.
            snippet = text[lt : lt + 10]
            raise _parse_error(f'Unsupported start tag "{snippet}" at byte offset {_byte_offset(text, lt)}')
        closing, name, attrs = m.group(1), m.group(2).lower(), m.group(3)
        if name not in HTML_TAGS and not name.startswith("tg-"):
            kind = "end" if closing else "start"
            raise _parse_error(f'Unsupported {kind} tag "{name}" at byte offset {_byte_offset(text, lt)}')
        if closing:
            if not stack:
                raise _parse_error(f"Unexpected end tag at byte offset {_byte_offset(text, lt)}")
            open_name, open_attrs, start = stack.pop()
            if open_name != name:
                raise _parse_error(
                    f'Unmatched end tag at byte offset {_byte_offset(text, lt)}, expected "</{open_name}>", '
                    f'found "</{name}>"'
                )
            entity = _html_entity(name, open_attrs, start, size - start)
            if entity is not None:
                entities.append(entity)
        else:
            stack.append((name, attrs or "", size))
        pos = m.end()
    if stack:
        raise _parse_error(f'Can\'t find end tag corresponding to start tag "{stack[-1][0]}"')
    entities = _merge_pre_code(entities)
    entities.sort(key=lambda e: (e["offset"], -e["length"]))
    return "".join(out), entities


def _merge_pre_code(entities: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """<pre><code class="language-x"> is one "pre" entity with a language, as in Telegram."""
    merged: list[dict[str, Any]] = []
    for e in entities:
        if e["type"] == "pre" and merged:
            inner = merged[-1]
            if inner["type"] == "code" and (inner["offset"], inner["length"]) == (e["offset"], e["length"]):
                merged.pop()
                language = inner.get("_class", "")
                if language:
                    e["language"] = language
        merged.append(e)
    for e in merged:
        e.pop("_class", None)
    return merged


def html_to_plain(text: str) -> str:
    """The visible text of an HTML-formatted message; raises like Telegram on bad markup."""
    return html_parse(text)[0]


def markdown_v2_to_plain(text: str) -> str:
    """The visible text of a MarkdownV2 message; raises like Telegram on unescaped characters."""
    out: list[str] = []
    open_marks: list[tuple[str, int]] = []
    i = 0
    n = len(text)
    link_depth = 0
    at_line_start = True
    while i < n:
        ch = text[i]
        if ch == "\\":
            if i + 1 < n:
                out.append(text[i + 1])
                i += 2
                at_line_start = False
                continue
            raise _parse_error("Character '\\' is reserved and must be escaped with the preceding '\\'")
        if ch == "`":
            fence = "```" if text.startswith("```", i) else "`"
            end = i + len(fence)
            while True:
                nxt = text.find(fence, end)
                if nxt < 0:
                    raise _parse_error(
                        f"Can't find end of {'Pre' if fence == '```' else 'Code'} entity at byte offset "
                        f"{_byte_offset(text, i)}"
                    )
                if text[nxt - 1] == "\\":  # escaped backtick inside code
                    end = nxt + 1
                    continue
                break
            body = text[i + len(fence) : nxt]
            if fence == "```" and "\n" in body:
                first, rest = body.split("\n", 1)
                body = rest if first and " " not in first else body
            out.append(re.sub(r"\\([`\\])", r"\1", body))
            i = nxt + len(fence)
            at_line_start = False
            continue
        if ch in "*_~|":
            mark = ch
            if ch == "_" and text.startswith("__", i):
                mark = "__"
            elif ch == "|":
                if not text.startswith("||", i):
                    raise _parse_error(
                        "Character '|' is reserved and must be escaped with the preceding '\\'"
                    )
                mark = "||"
            if open_marks and open_marks[-1][0] == mark:
                open_marks.pop()
            elif any(m == mark for m, _ in open_marks):
                raise _parse_error(
                    f"Can't find end of the entity starting at byte offset {_byte_offset(text, i)}"
                )
            else:
                open_marks.append((mark, i))
            i += len(mark)
            at_line_start = False
            continue
        if ch == "[":
            link_depth += 1
            i += 1
            continue
        if ch == "]":
            if link_depth == 0:
                raise _parse_error("Character ']' is reserved and must be escaped with the preceding '\\'")
            link_depth -= 1
            i += 1
            if i < n and text[i] == "(":
                close = i + 1
                while close < n and text[close] != ")":
                    close += 2 if text[close] == "\\" else 1
                if close >= n:
                    raise _parse_error(f"Can't find end of a URL at byte offset {_byte_offset(text, i)}")
                i = close + 1
            continue
        if ch in "()":
            raise _parse_error(f"Character '{ch}' is reserved and must be escaped with the preceding '\\'")
        if ch == ">" and not at_line_start:
            raise _parse_error("Character '>' is reserved and must be escaped with the preceding '\\'")
        if ch in _MDV2_ALWAYS_RESERVED:
            raise _parse_error(f"Character '{ch}' is reserved and must be escaped with the preceding '\\'")
        if ch == ">" and at_line_start:
            i += 1
            at_line_start = False
            continue
        out.append(ch)
        at_line_start = ch == "\n"
        i += 1
    if open_marks:
        _, start = open_marks[0]
        raise _parse_error(
            f"Can't find end of the entity starting at byte offset {_byte_offset(text, start)}"
        )
    if link_depth:
        raise _parse_error("Can't find end of the link text")
    return "".join(out)


def markdown_to_plain(text: str) -> str:
    """Legacy Markdown: lenient, only strips the markup characters."""
    text = re.sub(r"\[([^\]]*)\]\([^)]*\)", r"\1", text)
    return re.sub(r"(?<!\\)[*_`]", "", text).replace("\\", "")


def to_plain(text: str, parse_mode: str | None, *, strict: bool = True) -> str:
    mode = (parse_mode or "").lower()
    try:
        if mode == "html":
            return html_to_plain(text)
        if mode == "markdownv2":
            return markdown_v2_to_plain(text)
        if mode == "markdown":
            return markdown_to_plain(text)
    except ApiError:
        if strict:
            raise
        return text
    if mode and strict:
        raise bad_request(f"unsupported parse_mode {parse_mode!r}")
    return text


def formatting_entities(text: str, parse_mode: str | None) -> list[dict[str, Any]]:
    """MessageEntity dicts Telegram would return for the markup (HTML only; else [])."""
    if (parse_mode or "").lower() != "html":
        return []
    try:
        return html_parse(text)[1]
    except ApiError:
        return []


def check_message_text(text: Any, parse_mode: str | None, *, strict: bool = True) -> str:
    """Validate sendMessage/editMessageText text; returns the plain (visible) text."""
    if text is None:
        raise bad_request("message text is empty")
    text = str(text)
    plain = to_plain(text, parse_mode, strict=strict)
    if not plain.strip():
        raise bad_request("message text is empty")
    if len(plain) > MAX_TEXT_LENGTH:
        raise bad_request("message is too long")
    return plain


def check_caption(caption: Any, parse_mode: str | None, *, strict: bool = True) -> str | None:
    if caption is None:
        return None
    plain = to_plain(str(caption), parse_mode, strict=strict)
    if len(plain) > MAX_CAPTION_LENGTH:
        raise bad_request("message caption is too long")
    return plain


def check_reply_markup(markup: Any) -> None:
    if markup is None:
        return
    if not isinstance(markup, dict):
        raise bad_request("can't parse reply keyboard markup JSON object")
    if "inline_keyboard" in markup:
        rows = markup["inline_keyboard"]
        if not isinstance(rows, list) or not all(isinstance(r, list) for r in rows):
            raise bad_request(
                'field "inline_keyboard" of the InlineKeyboardMarkup must be an Array of Arrays'
            )
        for row in rows:
            for button in row:
                if not isinstance(button, dict) or not isinstance(button.get("text"), str):
                    raise bad_request(
                        "can't parse inline keyboard button: InlineKeyboardButton must be an Object"
                    )
                if not any(k in button for k in INLINE_BUTTON_ACTIONS):
                    raise bad_request(
                        "can't parse inline keyboard button: Text buttons are unallowed in the inline keyboard"
                    )
                if "callback_data" in button:
                    data = button["callback_data"]
                    if (
                        not isinstance(data, str)
                        or not 1 <= len(data.encode("utf-8")) <= MAX_CALLBACK_DATA_BYTES
                    ):
                        raise bad_request("BUTTON_DATA_INVALID")
    elif "keyboard" in markup:
        rows = markup["keyboard"]
        if not isinstance(rows, list) or not all(isinstance(r, list) for r in rows):
            raise bad_request('field "keyboard" of the ReplyKeyboardMarkup must be an Array of Arrays')
    elif not markup.get("remove_keyboard") and not markup.get("force_reply"):
        raise bad_request("can't parse reply keyboard markup JSON object")


def check_commands(commands: Any) -> list[dict[str, Any]]:
    if not isinstance(commands, list):
        raise bad_request("can't parse commands JSON object")
    if len(commands) > MAX_COMMANDS:
        raise bad_request("too many commands")
    for cmd in commands:
        if not isinstance(cmd, dict):
            raise bad_request("can't parse BotCommand JSON object")
        if not _COMMAND_RE.match(str(cmd.get("command", ""))):
            raise bad_request("BOT_COMMAND_INVALID")
        description = cmd.get("description")
        if not isinstance(description, str) or not 1 <= len(description) <= 256:
            raise bad_request("command description is invalid")
    return commands
