"""What a role-play remembers between turns, as plain JSON-able data.

The state is stored in the database after every turn (in the same transaction as the reply), so a
restart resumes the conversation exactly; `from_dict` tolerates missing keys so sessions started by
an older version still load.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field, fields
from typing import Any, Literal

from bot.engine.classifier import Classification

Status = Literal["active", "agreed", "dismissed", "ended"]
NEED_STAGES = ("hidden", "pain", "implication", "payoff")  # 0 … 3


@dataclass
class SessionState:
    persona: str
    lang: str
    seed: int
    turn: int = 0
    patience: int = 0
    trust: int = 0
    status: str = "active"
    needs: dict[str, int] = field(default_factory=dict)  # need id → stage 0..3
    revealed: list[str] = field(default_factory=list)  # need ids in the order they came out
    facts_given: list[int] = field(default_factory=list)
    objections: dict[str, str] = field(default_factory=dict)  # id → open | handled | mishandled | dropped
    open_objection: str | None = None
    open_turns: int = 0
    s_streak: int = 0
    closed_streak: int = 0
    situation_total: int = 0
    not_yet: int = 0
    greeted: bool = False
    agenda: bool = False
    summarised: bool = False
    warned: bool = False  # the customer has shown impatience at least once (they always do before leaving)
    benefits: int = 0  # benefit statements tied to a need the customer has told
    last_line: str = ""
    last_question: str = ""  # the rep's last discovery question, for /hint
    last_question_closed: bool = False
    used: dict[str, list[int]] = field(default_factory=dict)  # bank key → variants already said

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> SessionState:
        known = {f.name for f in fields(cls)}
        return cls(**{k: v for k, v in data.items() if k in known})

    def stage(self, need_id: str) -> int:
        return int(self.needs.get(need_id, 0))

    def count_at_least(self, stage: int) -> int:
        return sum(1 for s in self.needs.values() if s >= stage)

    @property
    def active(self) -> bool:
        return self.status == "active"


def classification_dict(c: Classification) -> dict[str, Any]:
    """The parts of a classification the scorecard needs, kept with the turn."""
    data: dict[str, Any] = {"question": c.question, "closed": c.closed, "spin": c.spin, "fab": c.fab,
                            "word_count": c.word_count, "lang": c.lang}
    data.update({k: v for k, v in c.signals().items() if v})
    return data


PROCEDURAL = ("next_step_ask", "close_ask", "summary", "agenda")


def is_discovery(cls: dict[str, Any]) -> bool:
    """A question with a SPIN stage that is not also a next-step ask, a close, a summary or an agenda."""
    return bool(cls.get("question")) and cls.get("spin") is not None and not any(cls.get(k) for k in PROCEDURAL)


@dataclass
class TurnRecord:
    """One exchange: what the rep said, how it was read, what happened, what the customer answered."""

    n: int
    rep: str
    customer: str
    lang: str
    cls: dict[str, Any]
    events: list[str] = field(default_factory=list)
    customer_words: int = 0
    patience: int = 0
    trust: int = 0

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> TurnRecord:
        known = {f.name for f in fields(cls)}
        return cls(**{k: v for k, v in data.items() if k in known})

    def has(self, signal: str) -> bool:
        return bool(self.cls.get(signal))

    @property
    def words(self) -> int:
        return int(self.cls.get("word_count", 0))

    @property
    def discovery(self) -> bool:
        """A real discovery question (S/P/I/N), not an acceptance check or a closing ask."""
        return is_discovery(self.cls)

    @property
    def spin(self) -> str | None:
        value = self.cls.get("spin")
        return str(value) if value is not None else None

    @property
    def closed(self) -> bool:
        return bool(self.cls.get("closed"))

    def event(self, prefix: str) -> bool:
        return any(e == prefix or e.startswith(prefix + ":") for e in self.events)
