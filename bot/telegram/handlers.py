"""python-telegram-bot handlers: each turns an update into one engine call through the runtime.

Registered in one visible place (`register`); order matters within group 0: the first match wins.
"""

from __future__ import annotations

import logging
from typing import Any

from telegram import Update
from telegram.error import TelegramError
from telegram.ext import (
    Application,
    CallbackContext,
    CallbackQueryHandler,
    ExtBot,
    MessageHandler,
    TypeHandler,
    filters,
)

from bot.runtime import Runtime
from bot.telegram.convert import event_from_update
from bot.telegram.sender import OutboxSender
from db.store import Store

log = logging.getLogger(__name__)


class BotContext(CallbackContext[ExtBot[None], dict[Any, Any], dict[Any, Any], dict[Any, Any]]):
    """Typed access to the shared services instead of string keys in bot_data."""

    @property
    def runtime(self) -> Runtime:
        runtime: Runtime = self.application.bot_data["runtime"]
        return runtime

    @property
    def sender(self) -> OutboxSender:
        sender: OutboxSender = self.application.bot_data["sender"]
        return sender


async def on_event(update: Update, context: BotContext) -> None:
    """Messages, commands and button presses: one engine call in one transaction, then send."""
    event = event_from_update(update)
    if event is None:
        await ignore(update, context)
        return
    if update.callback_query is not None:
        try:
            await update.callback_query.answer()
        except TelegramError as exc:  # an old query cannot be answered; the reply below still goes out
            log.info("answerCallbackQuery failed: %s", exc)
    runtime, sender = context.runtime, context.sender
    try:
        processed = await runtime.process(event, queue_for_chat=True, sender_token=sender.token)
    except Exception:
        log.exception("handler failed for update %s", update.update_id)
        processed = await runtime.record_failure(event, runtime.error_text(event.language_code), sender.token)
    if processed.to_send:
        await sender.deliver(event.chat_id, processed.to_send)


async def ignore(update: Update, context: BotContext) -> None:
    """Updates the bot does not answer (edits, member changes …) are marked done so they never block a chat."""
    async with context.runtime.sessions() as session:
        store = Store(session)
        await store.inbox.take(update.update_id, "ignored")
        await store.commit()


async def on_error(update: object, context: BotContext) -> None:
    log.error("unhandled error for update %s", getattr(update, "update_id", "?"), exc_info=context.error)


def register(application: Application[Any, Any, Any, Any, Any, Any]) -> None:
    application.add_handler(CallbackQueryHandler(on_event))
    application.add_handler(MessageHandler(filters.UpdateType.MESSAGE & filters.TEXT, on_event))
    application.add_handler(MessageHandler(filters.UpdateType.MESSAGE & ~filters.TEXT, on_event))
    application.add_handler(TypeHandler(Update, ignore))
    application.add_error_handler(on_error)
