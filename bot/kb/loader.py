"""Load and validate the knowledge base (knowledge/entries/*.yaml, retrieval.yaml, catalog_ids.txt).

Trainers edit these files by hand, so every problem is reported with the file, the entry id and the
field path (and the line where YAML tells us), all at once, instead of failing on the first one.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import jinja2
import yaml
from pydantic import ValidationError

from bot.kb.models import LANGS, Area, Bilingual, Entry, KnowledgeBase, Lang, RetrievalConfig

MAX_BODY_CHARS = 3000
ENTRIES_DIR = "entries"
CATALOG_FILE = "catalog_ids.txt"
RETRIEVAL_FILE = "retrieval.yaml"
TEMPLATE_SUFFIX = ".j2"
FILE_KEYS = ("area", "title", "entries")


@dataclass(frozen=True, slots=True)
class Problem:
    """One thing wrong in the knowledge files, precise enough for a trainer to fix it."""

    file: str
    entry_id: str | None
    field: str | None
    message: str
    line: int | None = None

    def __str__(self) -> str:
        parts = [self.file]
        if self.entry_id:
            parts.append(self.entry_id)
        if self.field:
            parts.append(self.field)
        text = ": ".join(parts) + ": " + self.message
        return f"{text} (line {self.line})" if self.line else text


class KnowledgeError(Exception):
    """Raised by load_knowledge when the files have problems; carries all of them."""

    def __init__(self, problems: Sequence[Problem]) -> None:
        self.problems = tuple(problems)
        shown = "\n".join(f"  {p}" for p in self.problems[:20])
        more = f"\n  … and {len(self.problems) - 20} more" if len(self.problems) > 20 else ""
        super().__init__(f"{len(self.problems)} problem(s) in the knowledge base:\n{shown}{more}")


# --------------------------------------------------------------------------- YAML with line numbers


@dataclass(frozen=True, slots=True)
class _Doc:
    data: Any
    node: yaml.Node | None


def _read_yaml(path: Path, shown: str) -> tuple[_Doc | None, Problem | None]:
    """Parse one YAML file keeping its node tree, so later problems can point at a line."""
    try:
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        return None, Problem(shown, None, None, f"cannot read the file: {exc}")
    loader = yaml.SafeLoader(text)
    try:
        node = loader.get_single_node()
        data = loader.construct_document(node) if node is not None else None
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        line = mark.line + 1 if mark is not None else None
        what = " ".join(x for x in (exc.context, exc.problem) if x) or "syntax error"
        return None, Problem(shown, None, None, f"invalid YAML: {what}", line)
    except yaml.YAMLError as exc:
        return None, Problem(shown, None, None, f"invalid YAML: {exc}")
    finally:
        loader.dispose()
    return _Doc(data, node), None


def _line_of(node: yaml.Node | None, path: Iterable[str | int]) -> int | None:
    """1-based line of the deepest node found along `path` (mapping keys / sequence indexes)."""
    if node is None:
        return None
    best = node.start_mark.line + 1
    current: yaml.Node = node
    for step in path:
        nxt: yaml.Node | None = None
        if isinstance(current, yaml.MappingNode) and isinstance(step, str):
            for key, value in current.value:
                if isinstance(key, yaml.ScalarNode) and key.value == step:
                    nxt = value
                    break
        elif (
            isinstance(current, yaml.SequenceNode)
            and isinstance(step, int)
            and 0 <= step < len(current.value)
        ):
            nxt = current.value[step]
        if nxt is None:
            break
        current = nxt
        best = current.start_mark.line + 1
    return best


# --------------------------------------------------------------------------- pydantic errors → fields

_ID_HINT = "must be lowercase and dotted, like objection.price_too_high"


def _field_path(loc: Sequence[str | int]) -> str:
    out = ""
    for step in loc:
        out += f"[{step}]" if isinstance(step, int) else (f".{step}" if out else str(step))
    return out


def _message(error: Any, loc: Sequence[str | int]) -> str:
    kind = error["type"]
    last = loc[-1] if loc else ""
    if kind == "missing":
        return "missing (zh and en are both required)" if last in LANGS else "missing"
    if kind in ("string_too_short", "too_short"):
        return "must not be empty"
    if kind == "extra_forbidden":
        return "unknown field"
    if kind == "string_pattern_mismatch":
        return _ID_HINT if last in ("id", "entry") or "related" in loc else "has an invalid form"
    if kind == "literal_error":
        return f"must be one of {error.get('ctx', {}).get('expected', '')}".replace("'", "")
    if kind == "string_type":
        return 'must be text (quote numbers, e.g. "000")' if last == "source" else "must be text"
    if kind in ("tuple_type", "list_type"):
        return "must be a list"
    if kind in ("model_type", "model_attributes_type", "dict_type"):
        return (
            "must be a mapping (zh: … / en: …)"
            if last in ("title", "body", "aliases")
            else "must be a mapping"
        )
    return str(error.get("msg", kind))


def _validation_problems(
    exc: ValidationError,
    shown: str,
    entry_id: str | None,
    node: yaml.Node | None,
    prefix: Sequence[str | int],
    field_prefix: Sequence[str | int] = (),
) -> Iterator[Problem]:
    """pydantic errors as Problems: loc → field path (relative to the entry) and → YAML line."""
    for error in exc.errors():
        loc = tuple(error["loc"])
        yield Problem(
            shown,
            entry_id,
            _field_path((*field_prefix, *loc)) or None,
            _message(error, loc),
            _line_of(node, (*prefix, *loc)),
        )


# --------------------------------------------------------------------------- the checks


@dataclass(frozen=True, slots=True)
class _Located:
    """A valid entry with where it came from, for problems found across files."""

    entry: Entry
    file: str
    node: yaml.Node | None

    def line(self, *path: str | int) -> int | None:
        return _line_of(self.node, path)


def _display(path: Path, base: Path) -> str:
    try:
        return path.relative_to(base).as_posix()
    except ValueError:
        return path.as_posix()


def _catalog_ids(root: Path) -> tuple[str, ...]:
    path = root / CATALOG_FILE
    if not path.is_file():
        return ()
    ids = (line.split("#", 1)[0].strip() for line in path.read_text(encoding="utf-8").splitlines())
    return tuple(i for i in ids if i)


def _entry_nodes(node: yaml.Node | None) -> list[yaml.Node]:
    if isinstance(node, yaml.MappingNode):
        for key, value in node.value:
            if (
                isinstance(key, yaml.ScalarNode)
                and key.value == "entries"
                and isinstance(value, yaml.SequenceNode)
            ):
                return list(value.value)
    return []


def _duplicate_keys(node: yaml.Node | None, shown: str, path: str = "") -> Iterator[Problem]:
    """YAML lets a later key silently replace an earlier one (two `aliases:`); report it instead."""
    if isinstance(node, yaml.MappingNode):
        seen: set[str] = set()
        for key, value in node.value:
            name = str(key.value) if isinstance(key, yaml.ScalarNode) else "?"
            where = f"{path}.{name}" if path else name
            if name in seen:
                yield Problem(
                    shown,
                    None,
                    where,
                    "appears twice (the first one would be ignored)",
                    key.start_mark.line + 1,
                )
            seen.add(name)
            yield from _duplicate_keys(value, shown, where)
    elif isinstance(node, yaml.SequenceNode):
        for index, item in enumerate(node.value):
            yield from _duplicate_keys(item, shown, f"{path}[{index}]")


def _read_entry_file(
    path: Path, shown: str, problems: list[Problem]
) -> tuple[str | None, Bilingual | None, list[_Located]]:
    """Validate one area file; append its problems; return what was valid."""
    doc, problem = _read_yaml(path, shown)
    if problem is not None or doc is None:
        problems.append(problem or Problem(shown, None, None, "empty file"))
        return None, None, []
    data, node = doc.data, doc.node
    problems.extend(_duplicate_keys(node, shown))
    if not isinstance(data, dict):
        problems.append(Problem(shown, None, None, "must be a mapping with area, title and entries", 1))
        return None, None, []
    for key in data:
        if key not in FILE_KEYS:
            problems.append(Problem(shown, None, str(key), "unknown field", _line_of(node, (str(key),))))
    area = data.get("area")
    if area is None:
        problems.append(Problem(shown, None, "area", "missing", 1))
    elif area != path.stem:
        problems.append(
            Problem(
                shown,
                None,
                "area",
                f"is {area!r} but must equal the file name {path.stem!r}",
                _line_of(node, ("area",)),
            )
        )
        area = None
    title: Bilingual | None = None
    if "title" not in data:
        problems.append(Problem(shown, None, "title", "missing", 1))
    else:
        try:
            title = Bilingual.model_validate(data["title"])
        except ValidationError as exc:
            problems.extend(_validation_problems(exc, shown, None, node, ("title",), field_prefix=("title",)))
    raw_entries = data.get("entries")
    if raw_entries is None:
        problems.append(Problem(shown, None, "entries", "missing", 1))
        return area, title, []
    if not isinstance(raw_entries, list):
        problems.append(Problem(shown, None, "entries", "must be a list", _line_of(node, ("entries",))))
        return area, title, []
    located: list[_Located] = []
    entry_nodes = _entry_nodes(node)
    for index, raw in enumerate(raw_entries):
        entry_node = entry_nodes[index] if index < len(entry_nodes) else None
        if not isinstance(raw, dict):
            problems.append(
                Problem(shown, None, f"entries[{index}]", "must be a mapping", _line_of(entry_node, ()))
            )
            continue
        raw_id = raw.get("id")
        entry_id = raw_id if isinstance(raw_id, str) and raw_id else None
        # Without a usable id, the entry is named by its position instead.
        field_prefix: tuple[str | int, ...] = () if entry_id else ("entries", index)
        try:
            entry = Entry.model_validate({**raw, "area": area or path.stem})
        except ValidationError as exc:
            problems.extend(
                _validation_problems(exc, shown, entry_id, node, ("entries", index), field_prefix)
            )
            continue
        located.append(_Located(entry, shown, entry_node))
    return area, title, located


def _cross_checks(located: Sequence[_Located], talk_root: Path | None, base: Path) -> Iterator[Problem]:
    seen: dict[str, _Located] = {}
    for item in located:
        entry = item.entry
        first = seen.get(entry.id)
        if first is not None:
            where = "earlier in this file" if first.file == item.file else f"also in {first.file}"
            yield Problem(item.file, entry.id, "id", f"duplicate id ({where})", item.line("id"))
        else:
            seen[entry.id] = item
    for item in located:
        entry = item.entry
        for k, related in enumerate(entry.related):
            if related == entry.id:
                yield Problem(
                    item.file,
                    entry.id,
                    f"related[{k}]",
                    "must not name the entry itself",
                    item.line("related", k),
                )
            elif related not in seen:
                yield Problem(
                    item.file, entry.id, f"related[{k}]", f"unknown id {related!r}", item.line("related", k)
                )
        for lang in LANGS:
            size = len(entry.body_in(lang))
            if size > MAX_BODY_CHARS:
                yield Problem(
                    item.file,
                    entry.id,
                    f"body.{lang}",
                    f"is {size} characters; at most {MAX_BODY_CHARS}",
                    item.line("body", lang),
                )
        if entry.script is not None and talk_root is not None:
            for lang in LANGS:
                template = talk_root / lang / f"{entry.script}{TEMPLATE_SUFFIX}"
                if not template.is_file():
                    yield Problem(
                        item.file,
                        entry.id,
                        "script",
                        f"template {_display(template, base)} does not exist",
                        item.line("script"),
                    )


def _template_problems(talk_root: Path, base: Path) -> Iterator[Problem]:
    """Templates come in zh/en pairs and must compile; defaults.yaml must have both languages."""
    names = {lang: {p.stem for p in (talk_root / lang).glob(f"*{TEMPLATE_SUFFIX}")} for lang in LANGS}
    env = jinja2.Environment(autoescape=False)
    for lang in LANGS:
        other: Lang = "en" if lang == "zh" else "zh"
        for name in sorted(names[lang]):
            path = talk_root / lang / f"{name}{TEMPLATE_SUFFIX}"
            shown = _display(path, base)
            if name not in names[other]:
                yield Problem(shown, None, None, f"has no {other}/{name}{TEMPLATE_SUFFIX} counterpart")
            try:
                env.parse(path.read_text(encoding="utf-8"))
            except jinja2.TemplateSyntaxError as exc:
                yield Problem(shown, None, None, f"template syntax error: {exc.message}", exc.lineno)
            except (OSError, UnicodeDecodeError) as exc:
                yield Problem(shown, None, None, f"cannot read the file: {exc}")
    defaults = talk_root / "defaults.yaml"
    if defaults.is_file():
        shown = _display(defaults, base)
        doc, problem = _read_yaml(defaults, shown)
        if problem is not None:
            yield problem
        elif doc is None or not isinstance(doc.data, dict):
            yield Problem(shown, None, None, "must be a mapping with zh and en")
        else:
            for lang in LANGS:
                if not isinstance(doc.data.get(lang), dict):
                    yield Problem(shown, None, lang, "missing (a mapping of placeholder defaults)")


def _retrieval_problems(root: Path, base: Path, known: set[str]) -> tuple[RetrievalConfig, list[Problem]]:
    path = root / RETRIEVAL_FILE
    if not path.is_file():
        return RetrievalConfig(), []
    shown = _display(path, base)
    doc, problem = _read_yaml(path, shown)
    if problem is not None or doc is None:
        return RetrievalConfig(), [problem or Problem(shown, None, None, "empty file")]
    try:
        config = RetrievalConfig.model_validate(doc.data or {})
    except ValidationError as exc:
        return RetrievalConfig(), list(_validation_problems(exc, shown, None, doc.node, ()))
    problems = [
        Problem(
            shown,
            rule.entry,
            f"compliance[{i}].entry",
            "names no existing entry",
            _line_of(doc.node, ("compliance", i, "entry")),
        )
        for i, rule in enumerate(config.compliance)
        if known and rule.entry not in known
    ]
    return config, problems


@dataclass(frozen=True, slots=True)
class _Result:
    kb: KnowledgeBase
    retrieval: RetrievalConfig
    problems: tuple[Problem, ...]


def _read_all(root: Path, talk_root: Path | None, require_catalog: bool) -> _Result:
    base = root.parent
    problems: list[Problem] = []
    entries_dir = root / ENTRIES_DIR
    files = sorted(entries_dir.glob("*.yaml")) if entries_dir.is_dir() else []
    if not files:
        problems.append(Problem(_display(entries_dir, base), None, None, "no entry files (*.yaml) found"))
    located: list[_Located] = []
    areas: list[Area] = []
    for path in files:
        shown = _display(path, base)
        area, title, items = _read_entry_file(path, shown, problems)
        located.extend(items)
        if area is not None and title is not None:
            areas.append(Area(name=area, title=title, entries=tuple(i.entry.id for i in items)))
    problems.extend(_cross_checks(located, talk_root, base))
    if talk_root is not None:
        problems.extend(_template_problems(talk_root, base))
    known = {item.entry.id for item in located}
    catalog = _catalog_ids(root)
    if require_catalog:
        shown = _display(root / CATALOG_FILE, base)
        problems.extend(
            Problem(shown, entry_id, None, "listed in the catalog but no entry has this id")
            for entry_id in catalog
            if entry_id not in known
        )
    retrieval, retrieval_problems = _retrieval_problems(root, base, known)
    problems.extend(retrieval_problems)

    # Areas follow the catalog (the order trainers think in); unknown ones go last, by name.
    rank = {entry_id: i for i, entry_id in enumerate(catalog)}

    def area_key(area: Area) -> tuple[int, str]:
        return (min((rank.get(e, len(rank)) for e in area.entries), default=len(rank)), area.name)

    unique: dict[str, Entry] = {}
    for item in located:
        unique.setdefault(item.entry.id, item.entry)
    kb = KnowledgeBase(
        entries=tuple(unique.values()), areas=tuple(sorted(areas, key=area_key)), retrieval=retrieval
    )
    return _Result(kb, retrieval, tuple(problems))


def read_knowledge(root: Path, talk_root: Path | None = None) -> tuple[KnowledgeBase, list[Problem]]:
    """Whatever is valid, and every problem: for tools that must work on a base being written."""
    result = _read_all(root, talk_root, require_catalog=True)
    return result.kb, list(result.problems)


def check_knowledge(root: Path, talk_root: Path | None = None) -> list[Problem]:
    """Every problem in the knowledge files (empty list = valid). Templates are checked if talk_root."""
    return list(_read_all(root, talk_root, require_catalog=True).problems)


def load_knowledge(
    root: Path, talk_root: Path | None = None, *, require_catalog: bool = True
) -> KnowledgeBase:
    """The validated knowledge base; raises KnowledgeError listing every problem.

    `require_catalog=False` loads a base that does not yet cover the catalog (tools, drafts).
    """
    result = _read_all(root, talk_root, require_catalog)
    if result.problems:
        raise KnowledgeError(result.problems)
    return result.kb
