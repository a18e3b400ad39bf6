"""Webhook mode: an update is committed to the inbox before Telegram gets its 200."""

from __future__ import annotations

import hmac
import json
import logging
from typing import TYPE_CHECKING
from urllib.parse import urlparse

from aiohttp import web

if TYPE_CHECKING:
    from bot.telegram.app import BotService

log = logging.getLogger(__name__)

SECRET_HEADER = "X-Telegram-Bot-Api-Secret-Token"
MAX_BODY = 1_000_000


class WebhookSite:
    def __init__(self, runner: web.AppRunner) -> None:
        self.runner = runner

    async def stop(self) -> None:
        await self.runner.cleanup()


def make_webhook_app(service: BotService, path: str, secret: str) -> web.Application:
    async def receive(request: web.Request) -> web.Response:
        if not hmac.compare_digest(request.headers.get(SECRET_HEADER, ""), secret):
            return web.Response(status=403)
        try:
            body = await request.content.read(MAX_BODY + 1)
            if len(body) > MAX_BODY:
                return web.Response(status=413)
            payload = json.loads(body)
            if not isinstance(payload, dict) or not isinstance(payload.get("update_id"), int):
                return web.Response(status=400)
        except (ValueError, UnicodeDecodeError):
            return web.Response(status=400)
        try:
            await service.dispatcher.store([payload])
        except Exception:
            log.exception("could not store update %s; Telegram will retry", payload.get("update_id"))
            return web.Response(status=503)
        return web.Response(status=200)

    async def health(_request: web.Request) -> web.Response:
        return web.Response(text="ok")

    app = web.Application(client_max_size=MAX_BODY)
    app.router.add_post(path, receive)
    app.router.add_get("/healthz", health)
    return app


async def start_webhook(service: BotService, url: str) -> WebhookSite:
    from bot.telegram.app import webhook_secret

    settings = service.settings
    secret = webhook_secret(settings, settings.require_token())
    path = urlparse(url).path or "/"
    host, _, port = settings.webhook_listen.rpartition(":")
    runner = web.AppRunner(make_webhook_app(service, path, secret))
    await runner.setup()
    await web.TCPSite(runner, host or "127.0.0.1", int(port)).start()
    await service.application.bot.set_webhook(url, secret_token=secret,
                                              allowed_updates=["message", "callback_query"])
    log.info("webhook listening on %s%s", settings.webhook_listen, path)
    return WebhookSite(runner)
