"""The console adapter: the same engine in a terminal; buttons become numbered choices."""

from __future__ import annotations

import asyncio
import sys
import zlib
from typing import TextIO

from bot.engine.events import Button, InboundEvent, OutboundMessage
from bot.engine.features.reminders import due_messages
from bot.runtime import Runtime
from db.store import Store


def console_user_id(name: str) -> int:
    """A stable negative id per console name, so console users never collide with Telegram ids."""
    return -(zlib.crc32(name.encode("utf-8")) or 1)


class Console:
    def __init__(self, runtime: Runtime, name: str, lang: str | None, out: TextIO) -> None:
        self.runtime = runtime
        self.name = name
        self.user_id = console_user_id(name)
        self.language_code = {"zh": "zh-hans", "en": "en"}.get(lang or "", "zh-hans")
        self.explicit_lang = lang
        self.out = out
        self.choices: list[Button] = []

    def show(self, messages: list[OutboundMessage]) -> None:
        self.choices = []
        for message in messages:
            print(message.text, file=self.out)
            for row in message.buttons:
                for button in row:
                    self.choices.append(button)
                    print(f"  [{len(self.choices)}] {button.label}", file=self.out)
            if message.attachment is not None:
                print(f"  📎 {message.attachment.filename} ({len(message.attachment.content)} bytes)", file=self.out)
            print(file=self.out)

    def event_for(self, line: str) -> InboundEvent:
        """A bare number picks a shown choice (like pressing a button); anything else is typed text."""
        stripped = line.strip()
        if stripped.isdigit() and self.choices and 1 <= int(stripped) <= len(self.choices):
            return InboundEvent(user_id=self.user_id, chat_id=self.user_id, kind="button",
                                button=self.choices[int(stripped) - 1].data, name=self.name,
                                language_code=self.language_code)
        return InboundEvent.from_text(self.user_id, self.user_id, line, name=self.name,
                                      language_code=self.language_code)

    async def send(self, line: str) -> None:
        processed = await self.runtime.process(self.event_for(line))
        self.show(processed.messages + await self.due_reminders())

    async def due_reminders(self) -> list[OutboundMessage]:
        """The terminal has no background sender: reminders that came due are shown with the next reply."""
        async with self.runtime.sessions() as session:
            store = Store(session, self.runtime.engine.clock)
            due = await due_messages(store, store.clock(), self.runtime.content.messages, chat_id=self.user_id)
            await store.commit()
        return [message for _, message in due]

    async def run(self, lines: TextIO) -> None:
        interactive = lines.isatty()
        if self.explicit_lang:
            await self.send(f"/lang {self.explicit_lang}")
        else:
            await self.send("/start")
        while True:
            if interactive:
                print("> ", end="", file=self.out, flush=True)
            line = await asyncio.to_thread(lines.readline)
            if not line:
                break
            line = line.rstrip("\n")
            if line.strip() in ("/quit", "/exit"):
                break
            if not interactive:
                print(f"> {line}", file=self.out)
            await self.send(line)


async def run_console(runtime: Runtime, name: str, lang: str | None) -> None:
    await runtime.migrate()
    try:
        await Console(runtime, name, lang, sys.stdout).run(sys.stdin)
    finally:
        await runtime.close()
