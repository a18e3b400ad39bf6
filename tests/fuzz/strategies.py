"""What a hostile or careless world sends a bot: text of every kind, odd commands, forged buttons, odd updates."""

from __future__ import annotations

from typing import Any

from hypothesis import strategies as st

from bot.engine.commands import COMMANDS

# emoji, right-to-left scripts, control and zero-width characters, CJK (simplified and traditional)
SPECIAL = ("😀🔥👍🏽‍♂️🇨🇳", "مرحبا بالعالم", "שלום", "\u202e\u200f\u200b\ufeff", "\x00\x01\x07\x1b\x7f",
           "客户说太贵了", "客戶說價格太高", "\n\t\r", "<b>&amp;</b>", "*_[]()~`>#+-=|{}.!")
CHARS = st.characters(blacklist_categories=["Cs"])  # Telegram carries UTF-8: no lone surrogates

texts = st.one_of(
    st.text(CHARS, max_size=60),
    st.text(CHARS, min_size=3000, max_size=6000),
    st.lists(st.sampled_from(SPECIAL), min_size=1, max_size=12).map("".join),
    st.sampled_from(["", " ", "\n", "   \t "]),
)

command_names = st.one_of(
    st.sampled_from([c.name for c in COMMANDS]),
    st.text(st.characters(whitelist_categories=["Ll", "Nd"]), min_size=1, max_size=20),
)
arguments = st.one_of(
    st.just(""),
    st.text(CHARS, max_size=80),
    st.sampled_from(["calls 5", "电话 -3", "calls 99999999999999999999", "deals 0", "visits 1.5", "zh", "en",
                     "xx", "2026-W99", "华为技术", "NaN", "1e308", "-0", "@@@", "calls"]),
)
commands = st.builds(lambda name, args, bot: f"/{name}{'@salescoach_test_bot' if bot else ''} {args}".rstrip(),
                     command_names, arguments, st.booleans())

PREFIXES = ["f", "x", "r", "l", "k", "t", "lg", "sp", "fb", "rp", "tm", "pl", "cu", "ex", "wk", "iv", "dr", "zz"]
button_data = st.one_of(
    st.text(CHARS, max_size=100),
    st.builds(lambda p, rest: f"{p}:{rest}", st.sampled_from(PREFIXES), st.text(CHARS, max_size=70)),
    st.builds(lambda p, a, b, c: f"{p}:{a}:{b}:{c}", st.sampled_from(PREFIXES),
              st.integers(-5, 10**12), st.sampled_from(["stage", "customer", "logistics", "zz", ""]),
              st.text(st.characters(whitelist_categories=["Ll", "Nd"]), max_size=10)),
    st.binary(max_size=64).map(lambda b: b.decode("latin-1")),  # bytes that are not meant as UTF-8
)

media = st.sampled_from(["sticker", "photo", "voice", "video", "document", "location", "contact", "dice", "other"])


# ---- Telegram update dicts (well-formed, as Telegram sends them, but of every shape) ---------------------

languages = st.one_of(st.none(), st.sampled_from(["zh-hans", "zh-hant", "en", "ru", "ar", "", "xx-YY"]))


@st.composite
def users(draw: st.DrawFn) -> dict[str, Any]:
    user: dict[str, Any] = {"id": draw(st.integers(1, 2**40)), "is_bot": False,
                            "first_name": draw(st.text(CHARS, min_size=1, max_size=30))}
    if (language := draw(languages)) is not None:
        user["language_code"] = language
    if draw(st.booleans()):
        user["last_name"] = draw(st.text(CHARS, max_size=30))
    return user


def _file(kind: str, n: int) -> dict[str, Any]:
    base = {"file_id": f"{kind}{n}", "file_unique_id": f"u{kind}{n}"}
    return {
        "sticker": {**base, "width": 512, "height": 512, "is_animated": False, "is_video": False, "type": "regular"},
        "photo": [{**base, "width": 90, "height": 90}],
        "voice": {**base, "duration": 3},
        "document": {**base, "file_name": "a.pdf"},
        "video": {**base, "width": 1, "height": 1, "duration": 1},
    }[kind]


@st.composite
def message_bodies(draw: st.DrawFn) -> dict[str, Any]:
    kind = draw(st.sampled_from(["text", "command", "sticker", "photo", "voice", "document", "video", "location",
                                 "contact", "dice", "service", "caption"]))
    n = draw(st.integers(1, 10**6))
    if kind == "text":
        return {"text": draw(texts) or "."}
    if kind == "command":
        text = draw(commands)
        return {"text": text, "entities": [{"type": "bot_command", "offset": 0,
                                            "length": len(text.split(" ", 1)[0].encode("utf-16-le")) // 2}]}
    if kind in ("sticker", "photo", "voice", "document", "video"):
        return {kind: _file(kind, n)}
    if kind == "caption":
        return {"photo": _file("photo", n), "caption": draw(texts)}
    if kind == "location":
        return {"location": {"latitude": 31.2, "longitude": 121.5}}
    if kind == "contact":
        return {"contact": {"phone_number": "+8613800000000", "first_name": "王"}}
    if kind == "dice":
        return {"dice": {"emoji": "🎲", "value": 3}}
    return {"new_chat_title": draw(st.text(CHARS, min_size=1, max_size=20))}  # a service message: no text


@st.composite
def updates(draw: st.DrawFn, update_id: int) -> dict[str, Any]:
    """A Telegram update dict of a random type; `update_id` set by the caller (ids must be unique)."""
    user = draw(users())
    private = {"id": user["id"], "type": "private", "first_name": user["first_name"]}
    group = {"id": -draw(st.integers(1, 10**12)), "type": "supergroup", "title": "销售一组"}
    chat = draw(st.sampled_from([private, private, group]))
    message = {"message_id": draw(st.integers(1, 10**6)), "date": 1_795_000_000, "chat": chat, "from": user,
               **draw(message_bodies())}
    kind = draw(st.sampled_from(["message", "message", "message", "edited_message", "channel_post",
                                 "callback_query", "callback_query", "my_chat_member"]))
    if kind == "message":
        return {"update_id": update_id, "message": message}
    if kind == "edited_message":
        return {"update_id": update_id, "edited_message": {**message, "edit_date": 1_795_000_100}}
    if kind == "channel_post":
        channel = {"id": -1001234567890, "type": "channel", "title": "公告"}
        return {"update_id": update_id, "channel_post": {"message_id": 5, "date": 1_795_000_000, "chat": channel,
                                                          "text": draw(texts) or "."}}
    if kind == "my_chat_member":
        member = {"user": {"id": 123456, "is_bot": True, "first_name": "SalesCoach"}}
        return {"update_id": update_id, "my_chat_member": {
            "chat": private, "from": user, "date": 1_795_000_000,
            "old_chat_member": {**member, "status": "member"},
            "new_chat_member": {**member, "status": "kicked", "until_date": 0}}}
    query: dict[str, Any] = {"id": str(draw(st.integers(1, 10**15))), "from": user, "chat_instance": "ci",
                             "data": draw(button_data)}
    if draw(st.booleans()):
        query["message"] = {"message_id": draw(st.integers(1, 10**6)), "date": 1_795_000_000, "chat": private,
                            "from": {"id": 123456, "is_bot": True, "first_name": "SalesCoach"}, "text": "…"}
    return {"update_id": update_id, "callback_query": query}
