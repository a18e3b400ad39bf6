"""Load and validate the role-play content: knowledge/personas/*.yaml and knowledge/scorecard.yaml.

Trainers edit these by hand, so every problem names the file, the persona and the field (with the
YAML line), and all problems are reported at once, like the knowledge base's own check.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from types import MappingProxyType

from pydantic import ValidationError

from bot.engine.roleplay.models import Persona, Rubric
from bot.kb.loader import KnowledgeError, Problem, _display, _read_yaml, _validation_problems
from bot.kb.models import KnowledgeBase

PERSONAS_DIR = "personas"
RUBRIC_FILE = "scorecard.yaml"


class PersonaError(KnowledgeError):
    """The role-play files have problems; the message lists each with file, persona and field."""


@dataclass(frozen=True)
class RoleplayContent:
    """Every persona by id, in the order the /roleplay list shows them, and the scorecard rubric."""

    personas: Mapping[str, Persona]
    rubric: Rubric
    files: Mapping[str, str] = field(default_factory=dict)  # persona id → file, for messages

    def ordered(self) -> list[Persona]:
        return sorted(self.personas.values(), key=lambda p: (p.order, p.id))


def _persona_problems(path: Path, base: Path) -> tuple[Persona | None, list[Problem]]:
    shown = _display(path, base)
    doc, problem = _read_yaml(path, shown)
    if problem is not None or doc is None:
        return None, [problem] if problem else []
    raw = doc.data
    pid = str(raw.get("id")) if isinstance(raw, dict) and raw.get("id") is not None else path.stem
    if not isinstance(raw, dict):
        return None, [Problem(shown, None, None, "must be a mapping of fields (id, name, background, …)")]
    try:
        persona = Persona.model_validate(raw)
    except ValidationError as exc:
        return None, list(_validation_problems(exc, shown, pid, doc.node, ()))
    if persona.id != path.stem:
        return None, [Problem(shown, persona.id, "id", f"must equal the file name ({path.stem})")]
    return persona, []


def _rubric(path: Path, base: Path) -> tuple[Rubric | None, list[Problem]]:
    from bot.engine.roleplay.scoring import CHECK_IDS

    shown = _display(path, base)
    if not path.is_file():
        return None, [Problem(shown, None, None, "missing: the scorecard rubric is required for role-play")]
    doc, problem = _read_yaml(path, shown)
    if problem is not None or doc is None:
        return None, [problem] if problem else []
    try:
        rubric = Rubric.model_validate(doc.data)
    except ValidationError as exc:
        return None, list(_validation_problems(exc, shown, None, doc.node, ()))
    problems = []
    for criterion, ids in CHECK_IDS.items():
        have = set(rubric.criteria[criterion].checks)
        for missing in sorted(set(ids) - have):
            problems.append(Problem(shown, None, f"criteria.{criterion}.checks.{missing}", "missing"))
        for unknown in sorted(have - set(ids)):
            problems.append(Problem(shown, None, f"criteria.{criterion}.checks.{unknown}",
                                    f"unknown check (known: {', '.join(ids)})"))
    return rubric, problems


def _cross(kb: KnowledgeBase | None, shown: str, pid: str | None, pairs: list[tuple[str, str]]) -> Iterator[Problem]:
    if kb is None:
        return
    for where, kid in pairs:
        if kb.get(kid) is None:
            yield Problem(shown, pid, where, f"unknown knowledge id {kid}")


def check_roleplay(knowledge_dir: Path, kb: KnowledgeBase | None = None) -> tuple[RoleplayContent | None, list[Problem]]:
    """All personas and the rubric, with every problem found (nothing raised)."""
    base = knowledge_dir.parent
    problems: list[Problem] = []
    personas: dict[str, Persona] = {}
    files: dict[str, str] = {}
    directory = knowledge_dir / PERSONAS_DIR
    paths = sorted(directory.glob("*.yaml")) if directory.is_dir() else []
    if not paths:
        problems.append(Problem(_display(directory, base), None, None, "no persona files (*.yaml)"))
    for path in paths:
        persona, found = _persona_problems(path, base)
        problems += found
        if persona is None:
            continue
        shown = _display(path, base)
        problems += _cross(kb, shown, persona.id, persona.knowledge_ids())
        personas[persona.id] = persona
        files[persona.id] = shown
    rubric, found = _rubric(knowledge_dir / RUBRIC_FILE, base)
    problems += found
    if rubric is not None:
        problems += _cross(kb, _display(knowledge_dir / RUBRIC_FILE, base), None, rubric.knowledge_ids())
    if rubric is None or problems:
        return None, problems
    return RoleplayContent(MappingProxyType(personas), rubric, MappingProxyType(files)), problems


def load_roleplay(knowledge_dir: Path, kb: KnowledgeBase | None = None) -> RoleplayContent:
    """The validated role-play content, or PersonaError naming every problem's file and field."""
    content, problems = check_roleplay(knowledge_dir, kb)
    if content is None:
        raise PersonaError(problems)
    return content
