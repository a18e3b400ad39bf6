"""Flow definitions: guided dialogs declared as data in knowledge/flows/*.yaml, validated on load."""

from __future__ import annotations

from pathlib import Path
from typing import Any, Literal

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator, model_validator

StepKind = Literal["text", "choice", "number", "date", "yesno", "multi", "customer", "list"]


class FlowError(Exception):
    """A flow file is invalid; the message names the file and the field."""


class Texts(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")
    zh: str = Field(min_length=1)
    en: str = Field(min_length=1)

    def get(self, lang: str) -> str:
        return self.zh if lang == "zh" else self.en


class Option(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")
    value: str = Field(min_length=1, max_length=24, pattern=r"^[a-z0-9_]+$")
    label: Texts


class Condition(BaseModel):
    """Ask a step only when an earlier answer is (or is not) one of some values."""

    model_config = ConfigDict(frozen=True, extra="forbid")
    slot: str
    is_in: list[Any] | None = Field(default=None, alias="in")
    not_in: list[Any] | None = None

    def holds(self, slots: dict[str, Any]) -> bool:
        value = slots.get(self.slot)
        if self.is_in is not None and value not in self.is_in:
            return False
        return not (self.not_in is not None and value in self.not_in)


class Step(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")
    id: str = Field(pattern=r"^[a-z][a-z0-9_]{0,23}$")
    kind: StepKind
    label: Texts
    prompt: Texts
    say: str | None = None  # a scripts_talk template spoken before the prompt
    tip: str | None = None  # a knowledge id
    optional: bool = False
    options: list[Option] = Field(default_factory=list)
    min: float | None = None
    max: float | None = None
    integer: bool = False  # number steps: whole numbers only (counts of visits, calls …)
    max_len: int = Field(default=1000, ge=1, le=3000)
    when: Condition | None = None
    check: str | None = None  # a coaching checker registered by a feature (e.g. spin_question)

    @model_validator(mode="after")
    def _options_fit_kind(self) -> Step:
        if self.kind in ("choice", "multi") and len(self.options) < 2:
            raise ValueError(f"step {self.id}: a {self.kind} step needs at least two options")
        if self.kind not in ("choice", "multi") and self.options:
            raise ValueError(f"step {self.id}: options only belong to choice and multi steps")
        if len({o.value for o in self.options}) != len(self.options):
            raise ValueError(f"step {self.id}: option values must be unique")
        return self


class ActivityAction(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")
    metric: str
    amount: int = 1
    when: Condition | None = None


class Completion(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")
    record: str | None = None  # kind of customer record to save the answers as
    card: str  # scripts_talk template rendered as the ✅ message body
    activity: list[ActivityAction] = Field(default_factory=list)
    customer_fields: dict[str, str] = Field(default_factory=dict)  # customer column -> slot


class Flow(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")
    id: str = Field(pattern=r"^[a-z][a-z0-9_]*$")
    command: str
    title: Texts
    intro: Texts | None = None
    review: bool = True
    steps: list[Step] = Field(min_length=1)
    complete: Completion

    @field_validator("steps")
    @classmethod
    def _unique_ids(cls, steps: list[Step]) -> list[Step]:
        seen: set[str] = set()
        for step in steps:
            if step.id in seen:
                raise ValueError(f"duplicate step id {step.id}")
            if step.when is not None and step.when.slot not in seen:
                raise ValueError(f"step {step.id}: 'when' refers to {step.when.slot}, which is not an earlier step")
            seen.add(step.id)
        return steps

    def step(self, step_id: str) -> Step | None:
        return next((s for s in self.steps if s.id == step_id), None)

    def index(self, step_id: str) -> int:
        return next(i for i, s in enumerate(self.steps) if s.id == step_id)


def load_flows(directory: Path) -> dict[str, Flow]:
    """Every flow in the directory, keyed by id; FlowError naming file and field on any problem."""
    flows: dict[str, Flow] = {}
    for path in sorted(directory.glob("*.yaml")):
        try:
            raw = yaml.safe_load(path.read_text(encoding="utf-8"))
        except yaml.YAMLError as exc:
            raise FlowError(f"{path}: not valid YAML: {exc}") from None
        try:
            flow = Flow.model_validate(raw)
        except ValidationError as exc:
            err = exc.errors()[0]
            where = ".".join(str(p) for p in err["loc"]) or "(top)"
            raise FlowError(f"{path}: {where}: {err['msg']}") from None
        if flow.id != path.stem:
            raise FlowError(f"{path}: id: must equal the file name ({path.stem})")
        if flow.id in flows:
            raise FlowError(f"{path}: id: duplicate flow {flow.id}")
        flows[flow.id] = flow
    return flows
