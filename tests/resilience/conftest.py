"""The in-process bot of the Telegram tests, reused here."""

from tests.telegram.conftest import bot

__all__ = ["bot"]
