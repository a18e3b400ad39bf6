"""User-facing messages by key, per language, from scripts_talk/messages/{zh,en}/*.yaml (merged)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import yaml
from jinja2 import Environment, StrictUndefined, Template

from bot.engine.events import Lang

LANGS = ("zh", "en")


def as_lang(value: str) -> Lang:
    return "en" if value == "en" else "zh"


class MessagesError(Exception):
    """The message catalogs are broken (missing key in a language, bad template)."""


def pick_language(language_code: str | None) -> Lang:
    """Telegram's language_code → zh for any Chinese variant, else en."""
    if language_code and language_code.lower().startswith("zh"):
        return "zh"
    return "en" if language_code else "zh"


class Messages:
    def __init__(self, directory: Path) -> None:
        self._env = Environment(undefined=StrictUndefined, autoescape=False, keep_trailing_newline=False)
        self._templates: dict[str, dict[str, Template]] = {}
        self._static: dict[tuple[str, str], str] = {}  # (key, lang) of texts without template syntax → text
        self._inline_env = Environment(autoescape=False)
        self._inline: dict[str, Template | str] = {}
        catalogs: dict[str, dict[str, str]] = {}
        origin: dict[str, dict[str, Path]] = {}
        for lang in LANGS:
            catalogs[lang] = {}
            origin[lang] = {}
            files = sorted((directory / lang).glob("*.yaml"))
            if not files:
                raise MessagesError(f"{directory / lang}: no message files")
            for path in files:
                try:
                    data = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
                except (OSError, yaml.YAMLError) as exc:
                    raise MessagesError(f"{path}: {exc}") from None
                if not isinstance(data, dict):
                    raise MessagesError(f"{path}: expected a mapping of key: text")
                for key, value in data.items():
                    key = str(key)
                    if key in catalogs[lang]:
                        raise MessagesError(f"{path}: {key}: already defined in {origin[lang][key]}")
                    catalogs[lang][key] = str(value)
                    origin[lang][key] = path
        keys = set(catalogs["zh"]) | set(catalogs["en"])
        for key in sorted(keys):
            for lang in LANGS:
                text = catalogs[lang].get(key)
                if not text:
                    other = origin["en" if lang == "zh" else "zh"].get(key)
                    raise MessagesError(f"{directory / lang}: {key}: missing or empty (defined in {other})")
                try:
                    template = self._env.from_string(text.rstrip("\n"))
                except Exception as exc:
                    raise MessagesError(f"{origin[lang][key]}: {key}: {exc}") from None
                self._templates.setdefault(key, {})[lang] = template
                if _is_static(text):
                    self._static[key, lang] = template.render()

    def __call__(self, lang: str, key: str, **values: Any) -> str:
        lang = lang if lang in LANGS else "zh"
        static = self._static.get((key, lang))
        if static is not None:
            return static
        return self._templates[key][lang].render(**values)

    def has(self, key: str) -> bool:
        return key in self._templates

    def keys(self) -> set[str]:
        return set(self._templates)

    def render_string(self, source: str, **values: Any) -> str:
        """Inline templates from flow files (prompts); undefined names render empty rather than fail."""
        template = self._inline.get(source)
        if template is None:
            template = self._compile_inline(source)
        return template if isinstance(template, str) else template.render(**values)

    def _compile_inline(self, source: str) -> Template | str:
        """Compile an inline template once; one without template syntax is kept as its rendered text."""
        template = self._inline_env.from_string(source)
        self._inline[source] = template.render() if _is_static(source) else template
        return self._inline[source]


def _is_static(text: str) -> bool:
    """No `{{`, `{%` or `{#` (every Jinja delimiter starts with a brace): rendering gives the same text
    whatever the values, so it is rendered once instead of per message."""
    return "{" not in text
