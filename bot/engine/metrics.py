"""The activity-metric catalog (knowledge/metrics.yaml): keys, names, aliases, limits, funnel norms.

Loaded and validated once with the rest of the content; errors name the file and the field. /log,
the rep's and the manager's views, charts, exports and `salescoach report` all read metric keys from
here, so adding a metric is a data change.
"""

from __future__ import annotations

import re
from pathlib import Path

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError, model_validator

from bot.engine.flowdefs import FlowError, Texts
from bot.text.normalize import fold

KEY_PATTERN = r"^[a-z][a-z0-9_]{1,31}$"


class MetricsError(FlowError):
    """knowledge/metrics.yaml is invalid; the message names the file and the field."""


class Aliases(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")
    zh: list[str] = Field(default_factory=list)
    en: list[str] = Field(default_factory=list)


class Metric(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")
    key: str = Field(pattern=KEY_PATTERN)
    name: Texts
    short: Texts
    aliases: Aliases = Aliases()
    max: int = Field(ge=1, le=1000)

    def label(self, lang: str) -> str:
        return self.name.get(lang)

    def abbr(self, lang: str) -> str:
        return self.short.get(lang)


class Norm(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid", populate_by_name=True)
    from_: str = Field(alias="from")
    to: str
    per: float = Field(gt=0)


class Funnel(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")
    knowledge: str
    stages: list[str] = Field(min_length=2)
    norms: list[Norm] = Field(default_factory=list)


class InsideRule(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")
    knowledge: str
    visits: int = Field(ge=1)


class Orphans(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")
    days: int = Field(ge=1, le=365)
    knowledge: str


class MetricCatalog(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")
    metrics: list[Metric] = Field(min_length=1)
    team_columns: list[str] = Field(min_length=1)
    log_buttons: list[str] = Field(min_length=1)
    amount_buttons: list[int] = Field(min_length=1)
    funnel: Funnel
    inside_contact_rule: InsideRule
    visit_metrics: list[str] = Field(min_length=1)
    orphans: Orphans

    @model_validator(mode="after")
    def _references(self) -> MetricCatalog:
        keys = [m.key for m in self.metrics]
        if len(set(keys)) != len(keys):
            raise ValueError("metrics: duplicate key")
        known = set(keys)
        for field, names in (("team_columns", self.team_columns), ("log_buttons", self.log_buttons),
                             ("funnel.stages", self.funnel.stages), ("visit_metrics", self.visit_metrics)):
            for name in names:
                if name not in known:
                    raise ValueError(f"{field}: unknown metric {name!r}")
        for i, norm in enumerate(self.funnel.norms):
            for name in (norm.from_, norm.to):
                if name not in self.funnel.stages:
                    raise ValueError(f"funnel.norms.{i}: {name!r} is not a funnel stage")
        for n in self.amount_buttons:
            if not 1 <= n <= 1000:
                raise ValueError(f"amount_buttons: {n} is out of range 1..1000")
        seen: dict[str, str] = {}
        for metric in self.metrics:
            for alias in [metric.key, *metric.aliases.zh, *metric.aliases.en, metric.name.zh, metric.name.en]:
                folded = _norm(alias)
                if not folded:
                    raise ValueError(f"metrics.{metric.key}.aliases: empty alias")
                other = seen.setdefault(folded, metric.key)
                if other != metric.key:
                    raise ValueError(f"metrics.{metric.key}.aliases: {alias!r} is also an alias of {other}")
        return self

    # ----- look-ups --------------------------------------------------------------------------
    @property
    def keys(self) -> list[str]:
        return [m.key for m in self.metrics]

    def get(self, key: str) -> Metric | None:
        return next((m for m in self.metrics if m.key == key), None)

    def __getitem__(self, key: str) -> Metric:
        metric = self.get(key)
        if metric is None:
            raise KeyError(key)
        return metric

    def resolve(self, text: str) -> Metric | None:
        """A metric from what a rep typed: its key, its name or an alias, in either language or script."""
        wanted = _norm(text)
        if not wanted:
            return None
        for metric in self.metrics:
            names = [metric.key, *metric.aliases.zh, *metric.aliases.en, metric.name.zh, metric.name.en]
            if any(_norm(n) == wanted for n in names):
                return metric
        return None

    def knowledge_ids(self) -> list[tuple[str, str]]:
        """(field, knowledge id) pairs, checked against the knowledge base on load."""
        return [("funnel.knowledge", self.funnel.knowledge),
                ("inside_contact_rule.knowledge", self.inside_contact_rule.knowledge),
                ("orphans.knowledge", self.orphans.knowledge)]


def _norm(text: str) -> str:
    return re.sub(r"[\s_\-]+", " ", fold(text)).strip()


def load_metrics(path: Path) -> MetricCatalog:
    """The catalog, or a MetricsError naming the file and the field."""
    try:
        data = yaml.safe_load(path.read_text(encoding="utf-8"))
    except (OSError, yaml.YAMLError) as exc:
        raise MetricsError(f"{path}: {exc}") from None
    if not isinstance(data, dict):
        raise MetricsError(f"{path}: expected a mapping with metrics, team_columns, funnel …")
    try:
        return MetricCatalog.model_validate(data)
    except ValidationError as exc:
        err = exc.errors()[0]
        where = ".".join(str(part) for part in err["loc"]) or "(top level)"
        raise MetricsError(f"{path}: {where}: {err['msg']}") from None
