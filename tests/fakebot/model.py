"""Records kept by :class:`~fakebot.server.FakeBotApi`: calls, outgoing messages, files, faults."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Literal

FaultKind = Literal["429", "500", "502", "400", "403", "timeout", "reset"]
FAULT_KINDS: tuple[str, ...] = ("429", "500", "502", "400", "403", "timeout", "reset")


@dataclass
class StoredFile:
    """A file the fake knows: uploaded by the bot, or pushed by a simulated user."""

    file_id: str
    file_unique_id: str
    data: bytes
    filename: str | None
    mime_type: str | None
    file_path: str

    @property
    def size(self) -> int:
        return len(self.data)


@dataclass
class ApiCall:
    """One HTTP request to ``/bot<token>/<method>``, recorded on arrival and completed on answer."""

    seq: int
    method: str
    params: dict[str, Any]
    files: dict[str, StoredFile]
    time: float
    http_method: str = "POST"
    token_ok: bool = True
    status: int | None = None
    result: Any = None
    error: str | None = None
    fault: str | None = None

    @property
    def ok(self) -> bool:
        return self.status is not None and 200 <= self.status < 300

    def __repr__(self) -> str:
        state = f"{self.status}" if self.status is not None else "pending"
        if self.error:
            state += f" {self.error!r}"
        if self.fault:
            state += f" fault={self.fault}"
        shown = {k: (v if len(repr(v)) < 80 else repr(v)[:77] + "...") for k, v in self.params.items()}
        return f"<ApiCall #{self.seq} {self.method} {shown} -> {state}>"


@dataclass
class Edit:
    """An edit applied to a bot message (editMessageText/Caption/ReplyMarkup)."""

    method: str
    params: dict[str, Any]
    time: float
    old_text: str | None
    new_text: str | None
    old_reply_markup: dict[str, Any] | None
    new_reply_markup: dict[str, Any] | None


@dataclass
class SentMessage:
    """A message the bot sent, with edits applied in place (history in :attr:`edits`).

    ``text`` is the raw text the bot passed (for media: the caption), markup included;
    ``plain_text`` is what a user sees (HTML/Markdown stripped).
    """

    chat_id: int
    message_id: int
    method: str
    kind: str  # "text", "photo", "document", "voice", "audio", "video", "animation", "sticker", ...
    date: int
    time: float
    text: str | None
    plain_text: str | None
    parse_mode: str | None
    reply_markup: dict[str, Any] | None
    params: dict[str, Any]
    file: StoredFile | None = None
    reply_to_message_id: int | None = None
    edits: list[Edit] = field(default_factory=list)
    deleted: bool = False

    @property
    def caption(self) -> str | None:
        return self.text if self.kind != "text" else None

    @property
    def photo(self) -> bytes | None:
        return self.file.data if self.kind == "photo" and self.file else None

    @property
    def document(self) -> bytes | None:
        return self.file.data if self.kind == "document" and self.file else None

    @property
    def filename(self) -> str | None:
        return self.file.filename if self.file else None

    @property
    def edited(self) -> bool:
        return bool(self.edits)

    @property
    def inline_keyboard(self) -> list[list[dict[str, Any]]]:
        if not self.reply_markup:
            return []
        return list(self.reply_markup.get("inline_keyboard") or [])

    @property
    def buttons(self) -> list[dict[str, Any]]:
        """Inline buttons, flattened row by row."""
        return [b for row in self.inline_keyboard for b in row]

    @property
    def button_texts(self) -> list[str]:
        return [str(b.get("text")) for b in self.buttons]

    @property
    def callback_data(self) -> list[str]:
        return [str(b["callback_data"]) for b in self.buttons if "callback_data" in b]

    @property
    def reply_keyboard(self) -> list[list[str]]:
        """Texts of a ReplyKeyboardMarkup, if the bot sent one."""
        rows = (self.reply_markup or {}).get("keyboard") or []
        return [[b if isinstance(b, str) else str(b.get("text")) for b in row] for row in rows]

    def button(self, text: str, *, exact: bool = False) -> dict[str, Any]:
        """The first inline button whose text equals (exact) or contains ``text``."""
        for b in self.buttons:
            label = str(b.get("text", ""))
            if (label == text) if exact else (text in label):
                return b
        raise KeyError(
            f"no inline button {text!r} in message {self.message_id}; buttons: {self.button_texts}"
        )

    def summary(self) -> str:
        flags = "".join(f" [{f}]" for f, on in (("edited", self.edited), ("deleted", self.deleted)) if on)
        body = (self.text or "")[:120].replace("\n", "\\n")
        extra = ""
        if self.file:
            extra = f" file={self.file.filename!r} ({self.file.size} bytes)"
        if self.buttons:
            extra += f" buttons={self.button_texts}"
        elif self.reply_keyboard:
            extra += f" keyboard={self.reply_keyboard}"
        return f"chat={self.chat_id} #{self.message_id} {self.method}{flags} {body!r}{extra}"


@dataclass
class FaultSpec:
    """A planned fault: the next ``times`` calls of ``method`` ("*" = any) fail this way."""

    method: str
    kind: str
    times: int  # remaining; -1 = until cleared
    retry_after: int = 1
    delay: float | None = None
    apply: bool = False
    description: str | None = None


@dataclass
class InjectedFault:
    """A fault that was actually served."""

    method: str
    kind: str
    time: float
    call_seq: int


@dataclass
class WebhookDelivery:
    update_id: int
    url: str
    status: int | None
    error: str | None
    time: float
