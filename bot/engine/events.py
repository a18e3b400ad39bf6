"""What goes into the engine and what comes out: transport-agnostic, plain data."""

from __future__ import annotations

import base64
from dataclasses import dataclass, field
from typing import Any, Literal

Lang = Literal["zh", "en"]
EventKind = Literal["text", "command", "button", "unsupported"]


@dataclass(frozen=True)
class InboundEvent:
    """One thing the user did: typed text, a /command, pressed a button, or sent something unsupported."""

    user_id: int
    chat_id: int
    kind: EventKind
    text: str = ""
    command: str = ""
    args: str = ""
    button: str = ""
    name: str = ""
    language_code: str | None = None
    update_id: int | None = None
    media: str = ""  # sticker | photo | voice | document | … for unsupported
    message_id: int | None = None  # the bot message a pressed button belongs to

    @classmethod
    def from_text(cls, user_id: int, chat_id: int, text: str, **kw: Any) -> InboundEvent:
        """Classify raw typed text as a command or plain text (both adapters use this)."""
        stripped = text.strip()
        if stripped.startswith("/") and len(stripped) > 1 and not stripped[1].isspace():
            head, _, rest = stripped.partition(" ")
            if "\n" in head:
                head, _, more = head.partition("\n")
                rest = (more + " " + rest).strip()
            command = head[1:].split("@", 1)[0].lower()
            return cls(user_id=user_id, chat_id=chat_id, kind="command", text=text, command=command,
                       args=rest.strip(), **kw)
        return cls(user_id=user_id, chat_id=chat_id, kind="text", text=text, **kw)


@dataclass(frozen=True)
class Button:
    label: str
    data: str


@dataclass(frozen=True)
class Attachment:
    kind: Literal["photo", "document"]
    filename: str
    content: bytes


@dataclass
class OutboundMessage:
    text: str
    buttons: list[list[Button]] = field(default_factory=list)
    attachment: Attachment | None = None
    edit: bool = False  # replace the message whose button was pressed (e.g. ticking a checklist)

    def to_payload(self) -> dict[str, Any]:
        """JSON-safe form stored in the outbox."""
        payload: dict[str, Any] = {
            "text": self.text,
            "buttons": [[{"label": b.label, "data": b.data} for b in row] for row in self.buttons],
        }
        if self.edit:
            payload["edit"] = True
        if self.attachment is not None:
            payload["attachment"] = {
                "kind": self.attachment.kind,
                "filename": self.attachment.filename,
                "content": base64.b64encode(self.attachment.content).decode("ascii"),
            }
        return payload

    @classmethod
    def from_payload(cls, payload: dict[str, Any]) -> OutboundMessage:
        att = payload.get("attachment")
        return cls(
            text=str(payload.get("text", "")),
            buttons=[[Button(b["label"], b["data"]) for b in row] for row in payload.get("buttons", [])],
            attachment=Attachment(att["kind"], att["filename"], base64.b64decode(att["content"])) if att else None,
            edit=bool(payload.get("edit")),
        )
