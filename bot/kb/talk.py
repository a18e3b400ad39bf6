"""Render scripted talk (话术) from scripts_talk/{zh,en}/*.j2.

A rep rarely fills every placeholder, and a coaching line with a hole or a crash is worse than one
with a sensible stand-in, so anything not given renders as the per-language default from
scripts_talk/defaults.yaml, or as a neutral blank ("……" / "…") when there is none. A placeholder the
rep did not give is still falsy in templates, so `{% if competitor %}…{% endif %}` can branch on it.
"""

from __future__ import annotations

import operator
from collections.abc import Callable, Iterator, Mapping
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


def _operand(value: Any) -> Any:
    return value._default() if isinstance(value, _Lenient) else value


def _arithmetic(op: Callable[[Any, Any], Any], reflected: bool = False) -> Any:
    """`x + y` with a missing placeholder: use its default, or stay undefined (renders blank)."""

    def method(self: _Lenient, other: Any) -> Any:
        mine, theirs = self._default(), _operand(other)
        if mine is None or theirs is None:
            return type(self)()  # nameless: renders as the blank
        try:
            return op(theirs, mine) if reflected else op(mine, theirs)
        except (TypeError, ValueError, ArithmeticError):
            return type(self)()

    return method


def _comparison(op: Callable[[Any, Any], Any]) -> Any:
    """`x > 3` with a missing placeholder: compare its default, or answer False."""

    def method(self: _Lenient, other: Any) -> bool:
        mine, theirs = self._default(), _operand(other)
        try:
            return mine is not None and theirs is not None and bool(op(mine, theirs))
        except TypeError:
            return False

    return method


def _conversion(kind: Callable[[Any], Any]) -> Any:
    """`x | int` with a missing placeholder: its default as a number, or 0."""

    def method(self: _Lenient) -> Any:
        try:
            return kind(self._default() or 0)
        except (TypeError, ValueError):
            return kind(0)

    return method


class _Lenient(jinja2.ChainableUndefined):
    """An Undefined that never raises: whatever a template does with a missing placeholder
    (print, loop, index, add, compare, call) works on its default, or yields a blank."""

    __slots__ = ()

    def _default(self) -> Any:
        return None

    def __iter__(self) -> Iterator[Any]:
        value = self._default()
        return iter(value) if isinstance(value, list | tuple) else iter(())

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

    def __call__(self, *args: Any, **kwargs: Any) -> Any:
        return self

    def __neg__(self) -> Any:
        value = self._default()
        return -value if isinstance(value, int | float) else self

    def __pos__(self) -> Any:
        return self

    __add__ = _arithmetic(operator.add)
    __radd__ = _arithmetic(operator.add, reflected=True)
    __sub__ = _arithmetic(operator.sub)
    __rsub__ = _arithmetic(operator.sub, reflected=True)
    __mul__ = _arithmetic(operator.mul)
    __rmul__ = _arithmetic(operator.mul, reflected=True)
    __truediv__ = _arithmetic(operator.truediv)
    __rtruediv__ = _arithmetic(operator.truediv, reflected=True)
    __floordiv__ = _arithmetic(operator.floordiv)
    __rfloordiv__ = _arithmetic(operator.floordiv, reflected=True)
    __mod__ = _arithmetic(operator.mod)
    __rmod__ = _arithmetic(operator.mod, reflected=True)
    __pow__ = _arithmetic(operator.pow)
    __rpow__ = _arithmetic(operator.pow, reflected=True)
    __int__ = _conversion(int)
    __float__ = _conversion(float)
    __lt__ = _comparison(operator.lt)
    __le__ = _comparison(operator.le)
    __gt__ = _comparison(operator.gt)
    __ge__ = _comparison(operator.ge)


def _undefined_class(defaults: Mapping[str, Any], blank: str, separator: str) -> type[jinja2.Undefined]:
    """The Undefined of one language: stands in with that language's default, or its blank."""

    class DefaultUndefined(_Lenient):
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
