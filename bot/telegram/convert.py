"""Telegram Update ↔ engine events and outbound messages (no I/O here)."""

from __future__ import annotations

from typing import Any

from telegram import InlineKeyboardButton, InlineKeyboardMarkup, Update

from bot.engine.events import InboundEvent, OutboundMessage

TELEGRAM_TEXT_LIMIT = 4096
CAPTION_LIMIT = 1024
MAX_CALLBACK_BYTES = 64


def chat_id_of(update: Update) -> int:
    chat = update.effective_chat
    if chat is not None:
        return chat.id
    user = update.effective_user
    return user.id if user is not None else 0


def _common(update: Update) -> dict[str, Any]:
    user = update.effective_user
    assert user is not None
    name = " ".join(p for p in (user.first_name, user.last_name) if p) or (user.username or "")
    return {"user_id": user.id, "chat_id": chat_id_of(update), "name": name,
            "language_code": user.language_code, "update_id": update.update_id}


def event_from_update(update: Update) -> InboundEvent | None:
    """The engine event for a message or button press; None for updates the bot does not answer."""
    if update.effective_user is None:
        return None
    common = _common(update)
    if update.callback_query is not None:
        origin = update.callback_query.message
        return InboundEvent(kind="button", button=update.callback_query.data or "",
                            message_id=origin.message_id if origin is not None else None, **common)
    message = update.message
    if message is None:
        return None
    if message.text is not None:
        return InboundEvent.from_text(text=message.text, **common)
    media = next(
        (kind for kind in ("sticker", "photo", "voice", "video", "video_note", "audio", "document", "animation",
                           "location", "contact", "poll", "dice")
         if getattr(message, kind, None)),
        "other",
    )
    return InboundEvent(kind="unsupported", media=media, **common)


def keyboard(message: OutboundMessage) -> InlineKeyboardMarkup | None:
    rows = [
        [InlineKeyboardButton(b.label[:64], callback_data=b.data) for b in row
         if len(b.data.encode("utf-8")) <= MAX_CALLBACK_BYTES]
        for row in message.buttons
    ]
    rows = [r for r in rows if r]
    return InlineKeyboardMarkup(rows) if rows else None


def split_text(text: str, limit: int = TELEGRAM_TEXT_LIMIT) -> list[str]:
    """Split long replies at paragraph, then line, then hard boundaries so each part fits Telegram."""
    text = text.strip() or "…"
    parts: list[str] = []
    while len(text) > limit:
        cut = text.rfind("\n\n", 0, limit)
        if cut < limit // 2:
            cut = text.rfind("\n", 0, limit)
        if cut < limit // 2:
            cut = limit
        parts.append(text[:cut].rstrip())
        text = text[cut:].lstrip()
    parts.append(text)
    return [p for p in parts if p]
