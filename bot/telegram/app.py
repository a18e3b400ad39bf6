"""Build and run the Telegram bot: python-telegram-bot for HTTP, parsing, routing, menu, rate limits.

The application is built in a factory (tests build it without running it); shared resources are
created before start and closed after stop.
"""

from __future__ import annotations

import asyncio
import contextlib
import gc
import hashlib
import logging
import signal
from collections.abc import Awaitable
from typing import Any

from telegram import BotCommand
from telegram.ext import AIORateLimiter, Application, ApplicationBuilder, ContextTypes

from bot.config import Settings
from bot.engine.commands import COMMANDS
from bot.runtime import Runtime
from bot.telegram.handlers import BotContext, register
from bot.telegram.http import AiohttpRequest, UpdatesRequest
from bot.telegram.inbox import Dispatcher, Poller
from bot.telegram.reminders import DEFAULT_INTERVAL, ReminderLoop
from bot.telegram.sender import OutboxSender, SendingBot
from bot.telegram.tidy import Tidy

log = logging.getLogger(__name__)

AnyApplication = Application[Any, Any, Any, Any, Any, Any]
SEND_CONNECTIONS = 8


def build_application(settings: Settings, runtime: Runtime) -> AnyApplication:
    token = settings.require_token()
    base = settings.telegram_api_base_url.rstrip("/")
    file_base = base[: -len("/bot")] + "/file/bot" if base.endswith("/bot") else base + "/file/bot"
    # sends share a few kept-alive connections (the rest wait their turn for one); getUpdates has its own
    sending = AiohttpRequest(connections=SEND_CONNECTIONS, pool_timeout=30.0)
    polling = UpdatesRequest()
    # Telegram's flood limits: the overall rate here, 20 a minute in groups by PTB's default
    limiter = AIORateLimiter(overall_max_rate=settings.send_rate, max_retries=3) if settings.send_rate > 0 else None
    bot = SendingBot(token, base_url=base, base_file_url=file_base, request=sending, get_updates_request=polling,
                     rate_limiter=limiter)
    application: AnyApplication = (
        ApplicationBuilder()
        .bot(bot)
        .updater(None)
        .context_types(ContextTypes(context=BotContext))
        .concurrent_updates(True)
        .build()
    )
    application.bot_data["runtime"] = runtime
    application.bot_data["updates_request"] = polling
    application.bot_data["sender"] = OutboxSender(application.bot, runtime.sessions, settings.chat_send_rate)
    register(application)
    return application


async def set_menu(application: AnyApplication, runtime: Runtime) -> None:
    """The command menu in Chinese for everyone, and in English for English-language clients."""
    t = runtime.content.messages
    for lang, code in (("zh", None), ("en", "en")):
        commands = [BotCommand(c.name, t(lang, "cmd_" + c.name)[:256]) for c in COMMANDS if c.menu]
        await application.bot.set_my_commands(commands, language_code=code)


def webhook_secret(settings: Settings, token: str) -> str:
    """The configured secret, or one derived from the token so every worker agrees without sharing state."""
    if settings.webhook_secret is not None:
        return settings.webhook_secret.get_secret_value()
    return hashlib.sha256(("salescoach-webhook:" + token).encode()).hexdigest()[:48]


class BotService:
    """Runs one bot process: migrations, outbox recovery, inbox dispatch, and polling or a webhook."""

    def __init__(self, settings: Settings, runtime: Runtime | None = None,
                 reminder_interval: float = DEFAULT_INTERVAL) -> None:
        self.settings = settings
        self.runtime = runtime or Runtime(settings)
        self.application = build_application(settings, self.runtime)
        self.dispatcher = Dispatcher(self.application, self.runtime)
        self.dispatcher.retry_outbox = self.sender.flush_all
        self.reminders = ReminderLoop(self.runtime, self.sender, interval=reminder_interval)
        self.tidy = Tidy(self.runtime)
        self.poller: Poller | None = None
        self._stop = asyncio.Event()

    @property
    def sender(self) -> OutboxSender:
        sender: OutboxSender = self.application.bot_data["sender"]
        return sender

    async def run(self, webhook_url: str | None = None, poll_timeout: int = 25) -> None:
        await self.runtime.migrate()
        if self.settings.search_worker:
            await self.runtime.start_search_worker()
        try:
            await self._serve(webhook_url, poll_timeout)
        finally:  # the search helper and the database pool, also when start-up fails (bad token, no network)
            await self.runtime.close()

    async def _serve(self, webhook_url: str | None, poll_timeout: int) -> None:
        async with self.application:
            self.runtime.engine.bot_username = self.application.bot.username  # for invite deep links
            await self.application.start()
            try:
                await set_menu(self.application, self.runtime)
            except Exception as exc:  # the menu is a convenience; never fail start-up over it
                log.warning("could not set the command menu: %s", exc)
            if not webhook_url:
                await self._quietly(self.sender.take_over())  # polling: the only process of this bot
            await self._quietly(self.sender.flush_all())  # replies a previous run queued but did not send
            tasks = [asyncio.create_task(self.dispatcher.run()), asyncio.create_task(self.reminders.run()),
                     asyncio.create_task(self.tidy.run())]
            site = None
            if webhook_url:
                from bot.telegram.webhook import start_webhook

                self.dispatcher.shared = True  # other workers may hold updates of the same chats

                site = await start_webhook(self, webhook_url)
            else:
                await self.application.bot.delete_webhook(drop_pending_updates=False)
                self.poller = Poller(self.application, self.dispatcher, timeout=poll_timeout)
                tasks.append(asyncio.create_task(self.poller.run()))
            log.info("SalesCoach is running (%s)", "webhook" if webhook_url else "long polling")
            stop_wait = asyncio.create_task(self._stop.wait())
            done, _ = await asyncio.wait([*tasks, stop_wait], return_when=asyncio.FIRST_COMPLETED)
            for task in done:
                if task is not stop_wait and task.exception() is not None:
                    log.error("a bot task stopped: %s", task.exception())
            if self.poller is not None:
                self.poller.stop()
            await self.dispatcher.drain()
            await self._quietly(self.sender.wait_idle())
            for task in [*tasks, stop_wait]:
                task.cancel()
                with contextlib.suppress(asyncio.CancelledError, Exception):
                    await task
            if site is not None:
                await site.stop()
            await self.application.stop()

    @staticmethod
    async def _quietly(step: Awaitable[None]) -> None:
        """Start-up housekeeping must not stop the bot when the database blips; the dispatcher retries."""
        try:
            await step
        except Exception:
            log.exception("start-up step failed; continuing (it is retried while running)")

    def stop(self) -> None:
        self._stop.set()


def run_bot(settings: Settings, webhook_url: str | None = None) -> int:
    async def main() -> None:
        service = BotService(settings)
        # what start-up built (knowledge base, search index) lives as long as the process: the collector
        # need not walk its ~180,000 objects again and again (a full collection took 118 ms)
        gc.collect()
        gc.freeze()
        loop = asyncio.get_running_loop()
        for sig in (signal.SIGINT, signal.SIGTERM):
            with contextlib.suppress(NotImplementedError):
                loop.add_signal_handler(sig, service.stop)
        await service.run(webhook_url)

    asyncio.run(main())
    return 0
