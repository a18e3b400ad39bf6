"""Fake Telegram Bot API server for end-to-end tests (see :mod:`.server`)."""

from .model import ApiCall, Edit, InjectedFault, SentMessage, StoredFile, WebhookDelivery
from .server import DEFAULT_TOKEN, FakeBotApi, loopback_url, tiny_png
from .validate import ApiError

__all__ = [
    "DEFAULT_TOKEN",
    "ApiCall",
    "ApiError",
    "Edit",
    "FakeBotApi",
    "InjectedFault",
    "SentMessage",
    "StoredFile",
    "WebhookDelivery",
    "loopback_url",
    "tiny_png",
]
