"""The coaching cue lists of knowledge/coaching.yaml, validated and compiled once.

The SPIN and FAB checks need a little vocabulary the classifier does not carry (what counts as a
concrete gain, empty praise, a pitch, a problem); it is data so a trainer can extend it.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from typing import Literal

import yaml
from pydantic import BaseModel, ConfigDict, ValidationError

from bot.text.normalize import fold

Lang = Literal["zh", "en"]
CUES_PATH = Path(__file__).resolve().parents[3] / "knowledge" / "coaching.yaml"
LANGS: tuple[Lang, ...] = ("zh", "en")
CueKey = Literal["customer", "gain", "weak", "product", "pitch", "problem"]


class CuesError(ValueError):
    """knowledge/coaching.yaml is malformed; the message names the file and the field."""


class _Lists(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)
    customer: list[str]
    gain: list[str]
    weak: list[str]
    product: list[str]
    pitch: list[str]
    problem: list[str]


class _File(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)
    version: Literal[1]
    zh: _Lists
    en: _Lists


def _cue_source(cue: str, lang: Lang) -> str:
    if cue.startswith("re:"):
        return cue[3:]
    text = fold(cue)
    if lang == "zh":
        return re.escape(text)
    prefix = text.endswith("*")
    core = text[:-1] if prefix else text
    body = re.escape(core) + (r"[a-z'-]*" if prefix else "")
    left = r"(?<![a-z0-9'])" if core[:1].isalnum() else ""
    right = r"(?![a-z0-9])" if core[-1:].isalnum() or prefix else ""
    return left + body + right


@dataclass(frozen=True)
class Cues:
    """Compiled cue lists per language; `has`/`strip` work on any raw text (folded here)."""

    patterns: dict[tuple[Lang, str], re.Pattern[str] | None]

    def _pattern(self, lang: Lang, key: CueKey) -> re.Pattern[str] | None:
        return self.patterns[(lang, key)]

    def has(self, lang: Lang, key: CueKey, text: str) -> bool:
        pattern = self._pattern(lang, key)
        return pattern is not None and pattern.search(fold(text)) is not None

    def has_folded(self, lang: Lang, key: CueKey, folded: str) -> bool:
        """Like `has`, on text that is already folded (e.g. the result of `strip`)."""
        pattern = self._pattern(lang, key)
        return pattern is not None and pattern.search(folded) is not None

    def matches(self, lang: Lang, key: CueKey, text: str) -> list[str]:
        """The distinct matched fragments, in order (to quote them back to the rep)."""
        pattern = self._pattern(lang, key)
        if pattern is None:
            return []
        found = [m.group(0).strip() for m in pattern.finditer(fold(text))]
        return list(dict.fromkeys(f for f in found if f))

    def strip(self, lang: Lang, key: CueKey, text: str) -> str:
        """The folded text with every match of a list removed (e.g. empty praise before a gain search)."""
        pattern = self._pattern(lang, key)
        folded = fold(text)
        return folded if pattern is None else pattern.sub(" ", folded)


def parse_cues(data: object, where: str) -> Cues:
    try:
        parsed = _File.model_validate(data)
    except ValidationError as exc:
        err = exc.errors()[0]
        field = ".".join(str(p) for p in err["loc"]) or "(top)"
        raise CuesError(f"{where}: {field}: {err['msg']}") from None
    patterns: dict[tuple[Lang, str], re.Pattern[str] | None] = {}
    for lang in LANGS:
        lists: _Lists = parsed.zh if lang == "zh" else parsed.en
        for key in type(lists).model_fields:
            cues: list[str] = getattr(lists, key)
            sources = []
            for i, cue in enumerate(cues):
                if not cue.strip():
                    raise CuesError(f"{where}: {lang}.{key}[{i}]: empty cue")
                source = _cue_source(cue, lang)
                try:
                    re.compile(source)
                except re.error as exc:
                    raise CuesError(f"{where}: {lang}.{key}[{i}]: invalid regular expression {cue!r}: {exc}") from None
                sources.append(source)
            patterns[(lang, key)] = re.compile("|".join(f"(?:{s})" for s in sources)) if sources else None
    return Cues(patterns)


@lru_cache(maxsize=2)
def load_cues(path: Path = CUES_PATH) -> Cues:
    """Read and compile the cue file once (features call it at install, so a bad file stops start-up)."""
    try:
        data = yaml.safe_load(path.read_text(encoding="utf-8"))
    except (OSError, yaml.YAMLError) as exc:
        raise CuesError(f"{path}: {exc}") from None
    return parse_cues(data, str(path))
