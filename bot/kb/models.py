"""Typed, immutable models of the knowledge base.

The YAML files under knowledge/entries/ are validated into these models once at start-up; after that
nothing can change them (frozen models, tuples instead of lists), so the bot, the search index and the
CLI can share one instance safely.
"""

from __future__ import annotations

from collections.abc import Mapping
from types import MappingProxyType
from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, Field, PrivateAttr, StringConstraints

Lang = Literal["zh", "en"]
LANGS: tuple[Lang, ...] = ("zh", "en")
Kind = Literal["concept", "checklist", "script", "tool", "warning"]

NonEmptyStr = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1)]
EntryId = Annotated[str, StringConstraints(pattern=r"^[a-z][a-z0-9_]*(\.[a-z0-9_]+)+$")]
AreaName = Annotated[str, StringConstraints(pattern=r"^[a-z][a-z0-9_]*$")]


class _Frozen(BaseModel):
    """Base: immutable, and unknown keys are errors (a typo in a field name must not pass silently)."""

    model_config = ConfigDict(frozen=True, extra="forbid", hide_input_in_errors=True)


class Bilingual(_Frozen):
    """A text in Simplified Chinese and English; both are required."""

    zh: NonEmptyStr
    en: NonEmptyStr

    def get(self, lang: Lang) -> str:
        return self.zh if lang == "zh" else self.en


class BilingualList(_Frozen):
    """Several short texts per language (aliases); at least one each."""

    zh: tuple[NonEmptyStr, ...] = Field(min_length=1)
    en: tuple[NonEmptyStr, ...] = Field(min_length=1)

    def get(self, lang: Lang) -> tuple[str, ...]:
        return self.zh if lang == "zh" else self.en


class Entry(_Frozen):
    """One knowledge entry; `area` is not written in the file but set by the loader from the file."""

    id: EntryId
    kind: Kind
    source: NonEmptyStr
    tags: tuple[NonEmptyStr, ...] = ()
    related: tuple[EntryId, ...] = ()
    script: NonEmptyStr | None = None
    title: Bilingual
    aliases: BilingualList
    body: Bilingual
    area: AreaName

    def title_in(self, lang: Lang) -> str:
        return self.title.get(lang)

    def body_in(self, lang: Lang) -> str:
        return self.body.get(lang)

    def aliases_in(self, lang: Lang) -> tuple[str, ...]:
        return self.aliases.get(lang)


class Area(_Frozen):
    """A browsable group of entries (one entries file)."""

    name: AreaName
    title: Bilingual
    entries: tuple[EntryId, ...]


class PerLang(_Frozen):
    """Word lists per language for retrieval tuning (either may be empty)."""

    zh: tuple[NonEmptyStr, ...] = ()
    en: tuple[NonEmptyStr, ...] = ()

    def get(self, lang: Lang) -> tuple[str, ...]:
        return self.zh if lang == "zh" else self.en


class SynonymGroups(_Frozen):
    """Groups of interchangeable phrasings per language; every member is read as the group's first."""

    zh: tuple[tuple[NonEmptyStr, ...], ...] = ()
    en: tuple[tuple[NonEmptyStr, ...], ...] = ()

    def get(self, lang: Lang) -> tuple[tuple[str, ...], ...]:
        return self.zh if lang == "zh" else self.en


class ComplianceRule(_Frozen):
    """Phrasings of an unethical request and the compliance entry that must answer it first."""

    entry: EntryId
    patterns: PerLang


class RetrievalConfig(_Frozen):
    """knowledge/retrieval.yaml: the trainer-editable data behind /ask (fillers, synonyms, guard)."""

    fillers: PerLang = PerLang()
    protect: PerLang = PerLang()
    synonyms: SynonymGroups = SynonymGroups()
    compliance: tuple[ComplianceRule, ...] = ()


class KnowledgeBase(_Frozen):
    """All entries (file order) and areas (catalog order); look-ups by id and by area.

    `retrieval` travels with the entries so that a search index built from the base alone uses the
    trainer's fillers, synonyms and compliance patterns.
    """

    entries: tuple[Entry, ...]
    areas: tuple[Area, ...]
    retrieval: RetrievalConfig = RetrievalConfig()
    _by_id: dict[str, Entry] = PrivateAttr(default_factory=dict)
    _areas_by_name: dict[str, Area] = PrivateAttr(default_factory=dict)

    def model_post_init(self, context: object, /) -> None:
        self._by_id = {entry.id: entry for entry in self.entries}
        self._areas_by_name = {area.name: area for area in self.areas}

    @property
    def by_id(self) -> Mapping[str, Entry]:
        """Read-only view id → entry, in file order."""
        return MappingProxyType(self._by_id)

    def get(self, entry_id: str) -> Entry | None:
        return self._by_id.get(entry_id)

    def __getitem__(self, entry_id: str) -> Entry:
        return self._by_id[entry_id]

    def __contains__(self, entry_id: object) -> bool:
        return entry_id in self._by_id

    def __len__(self) -> int:
        return len(self.entries)

    def area(self, name: str) -> Area | None:
        return self._areas_by_name.get(name)

    def in_area(self, name: str) -> tuple[Entry, ...]:
        """The entries of one area in file order; empty for an unknown area."""
        area = self._areas_by_name.get(name)
        if area is None:
            return ()
        return tuple(self._by_id[entry_id] for entry_id in area.entries)
