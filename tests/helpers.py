"""Test helpers: a clock the tests move, and a rep who talks to the engine like a user would."""

from __future__ import annotations

from datetime import datetime, timedelta

from bot.engine.events import Button, InboundEvent, OutboundMessage
from bot.runtime import Runtime


class Clock:
    def __init__(self, now: datetime) -> None:
        self.now = now

    def __call__(self) -> datetime:
        return self.now

    def advance(self, **kwargs: float) -> None:
        self.now += timedelta(**kwargs)


class Rep:
    """Sends text, commands and button presses through the runtime, keeping the latest replies."""

    def __init__(self, runtime: Runtime, user_id: int, name: str, language_code: str) -> None:
        self.runtime = runtime
        self.user_id = user_id
        self.name = name
        self.language_code = language_code
        self.replies: list[OutboundMessage] = []

    async def say(self, text: str) -> list[OutboundMessage]:
        event = InboundEvent.from_text(self.user_id, self.user_id, text, name=self.name,
                                       language_code=self.language_code)
        return await self._send(event)

    async def press(self, label_part: str) -> list[OutboundMessage]:
        """Press the first button of the latest replies whose label contains `label_part`."""
        return await self.press_data(self.button(label_part).data)

    async def press_data(self, data: str) -> list[OutboundMessage]:
        event = InboundEvent(user_id=self.user_id, chat_id=self.user_id, kind="button", button=data,
                             name=self.name, language_code=self.language_code)
        return await self._send(event)

    async def send_media(self, media: str = "sticker") -> list[OutboundMessage]:
        event = InboundEvent(user_id=self.user_id, chat_id=self.user_id, kind="unsupported", media=media,
                             name=self.name, language_code=self.language_code)
        return await self._send(event)

    async def _send(self, event: InboundEvent) -> list[OutboundMessage]:
        self.replies = (await self.runtime.process(event)).messages
        assert self.replies, "every input must get an answer"
        return self.replies

    def button(self, label_part: str) -> Button:
        for message in reversed(self.replies):
            for row in message.buttons:
                for button in row:
                    if label_part in button.label:
                        return button
        labels = [b.label for m in self.replies for row in m.buttons for b in row]
        raise AssertionError(f"no button with {label_part!r}; buttons: {labels}")

    @property
    def text(self) -> str:
        return "\n---\n".join(m.text for m in self.replies)

    @property
    def last(self) -> str:
        return self.replies[-1].text
