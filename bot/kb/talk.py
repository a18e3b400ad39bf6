"""Render scripted talk (话术) from scripts_talk/{zh,en}/*.j2.

A rep rarely fills every placeholder, and a coaching line with a hole or a crash is worse than one
with a sensible stand-in, so anything not given renders as the per-language default from
scripts_talk/defaults.yaml, or as a neutral blank ("……" / "…") when there is none. A placeholder the
rep did not give is still falsy in templates, so `{% if competitor %}…{% endif %}` can branch on it.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from pathlib import Path
from types import MappingProxyType
from typing import Any

import jinja2
import yaml
from jinja2.utils import missing

from bot.kb.models import LANGS, Lang

BLANKS: Mapping[Lang, str] = MappingProxyType({"zh": "……", "en": "…"})
LIST_SEPARATORS: Mapping[Lang, str] = MappingProxyType({"zh": "、", "en": ", "})
TEMPLATE_SUFFIX = ".j2"
DEFAULTS_FILE = "defaults.yaml"


class UnknownTemplate(KeyError):
    """No template of that name in that language; `args[0]` is the name."""

    def __init__(self, name: str, lang: str) -> None:
        super().__init__(name)
        self.name = name
        self.lang = lang

    def __str__(self) -> str:
        return f"no scripted-talk template {self.name!r} in {self.lang}"


def _is_empty(value: object) -> bool:
    if value is None:
        return True
    if isinstance(value, str):
        return not value.strip()
    if isinstance(value, list | tuple | set | frozenset | dict):
        return len(value) == 0
    return False


def _undefined_class(defaults: Mapping[str, Any], blank: str, separator: str) -> type[jinja2.Undefined]:
    """An Undefined that stands in with the language's default (or a blank) instead of failing."""

    class DefaultUndefined(jinja2.ChainableUndefined):
        __slots__ = ()

        def _default(self) -> Any:
            # Only a top-level placeholder has a default; `x.attr` of a given value does not.
            if self._undefined_obj is missing and self._undefined_name is not None:
                return defaults.get(self._undefined_name)
            return None

        def __str__(self) -> str:
            value = self._default()
            if _is_empty(value):
                return blank
            if isinstance(value, list | tuple):
                return separator.join(str(v) for v in value)
            return str(value)

        def __iter__(self) -> Iterator[Any]:
            value = self._default()
            if isinstance(value, list | tuple):
                return iter(value)
            return iter(())

        def __len__(self) -> int:
            value = self._default()
            return len(value) if isinstance(value, list | tuple) else 0

        def __getitem__(self, key: Any) -> Any:
            value = self._default()
            if isinstance(value, list | tuple | dict):
                try:
                    return value[key]
                except (IndexError, KeyError, TypeError):
                    return self
            return self

    return DefaultUndefined


def _finalizer(separator: str) -> Any:
    """Lists given as slots print like the defaults do (joined), never as a Python repr."""

    def finalize(value: Any) -> Any:
        if isinstance(value, list | tuple):
            return separator.join(str(v) for v in value)
        return value

    return finalize


def _read_defaults(root: Path) -> dict[Lang, dict[str, Any]]:
    path = root / DEFAULTS_FILE
    data: Any = yaml.safe_load(path.read_text(encoding="utf-8")) if path.is_file() else None
    data = data if isinstance(data, dict) else {}
    return {lang: dict(data.get(lang) or {}) for lang in LANGS}


class TalkRenderer:
    """All scripted-talk templates, compiled once; render them by name and language."""

    def __init__(self, root: Path) -> None:
        self._root = root
        defaults = _read_defaults(root)
        self._defaults: Mapping[Lang, Mapping[str, Any]] = MappingProxyType(
            {lang: MappingProxyType(defaults[lang]) for lang in LANGS}
        )
        self._templates: dict[tuple[Lang, str], jinja2.Template] = {}
        for lang in LANGS:
            folder = root / lang
            env = jinja2.Environment(
                loader=jinja2.FileSystemLoader(folder),
                autoescape=False,
                trim_blocks=True,
                lstrip_blocks=True,
                undefined=_undefined_class(self._defaults[lang], BLANKS[lang], LIST_SEPARATORS[lang]),
                finalize=_finalizer(LIST_SEPARATORS[lang]),
            )
            for path in sorted(folder.glob(f"*{TEMPLATE_SUFFIX}")) if folder.is_dir() else ():
                self._templates[(lang, path.stem)] = env.get_template(path.name)

    def names(self) -> list[str]:
        """Template names (present in at least one language), sorted."""
        return sorted({name for _, name in self._templates})

    def has(self, name: str, lang: Lang) -> bool:
        return (lang, name) in self._templates

    def defaults(self, lang: Lang) -> Mapping[str, Any]:
        """The placeholder defaults of one language (read-only)."""
        return self._defaults[lang]

    def render(self, name: str, lang: Lang, **slots: Any) -> str:
        """The template filled with `slots`; None/empty slots fall back to defaults. KeyError if unknown."""
        template = self._templates.get((lang, name))
        if template is None:
            raise UnknownTemplate(name, lang)
        given = {key: value for key, value in slots.items() if not _is_empty(value)}
        return template.render({"lang": lang, **given}).strip()
