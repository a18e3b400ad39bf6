"""`kb check`: the real base is valid, and every kind of mistake a trainer makes is named precisely."""

from __future__ import annotations

from collections.abc import Callable

import pytest
from pydantic import ValidationError

from bot.kb.loader import KnowledgeError, Problem, check_knowledge, load_knowledge
from tests.kb.conftest import ENTRY_FILE, KNOWLEDGE, TALK, MiniBase

OBJ = "knowledge/entries/objections.yaml"
PRICE = "objection.price_too_high"


def test_real_knowledge_base_passes() -> None:
    problems = check_knowledge(KNOWLEDGE, TALK)
    assert problems == [], "\n".join(map(str, problems))


def test_real_catalog_copy_lists_every_required_id() -> None:
    ids = [
        line
        for line in (KNOWLEDGE / "catalog_ids.txt").read_text(encoding="utf-8").splitlines()
        if line and not line.startswith("#")
    ]
    assert len(ids) == len(set(ids)) >= 120
    assert {"objection.price_too_high", "compliance.honest_claims", "spin.need_payoff"} <= set(ids)


def test_mini_base_is_valid_and_loads(mini: MiniBase) -> None:
    assert check_knowledge(mini.knowledge, mini.talk) == []
    kb = load_knowledge(mini.knowledge, mini.talk)
    assert [e.id for e in kb.entries] == [PRICE, "objection.no_budget"]
    entry = kb.get(PRICE)
    assert entry is not None
    assert entry.area == "objections"
    assert entry.title_in("zh") == "客户说“太贵了”"
    assert entry.aliases_in("en") == ("too expensive", "price is too high")
    assert entry.body_in("en") == "Ask what they compare it with."
    assert [e.id for e in kb.in_area("objections")] == [PRICE, "objection.no_budget"]
    assert kb.in_area("nowhere") == ()
    assert kb.get("nope") is None
    assert [a.name for a in kb.areas] == ["objections"]


def test_loaded_models_are_immutable(mini: MiniBase) -> None:
    kb = load_knowledge(mini.knowledge, mini.talk)
    entry = kb[PRICE]
    with pytest.raises(ValidationError):
        entry.kind = "tool"
    with pytest.raises(TypeError):
        kb.by_id["x"] = entry  # type: ignore[index]
    assert isinstance(entry.aliases.zh, tuple)


def _one(problems: list[Problem], field: str | None) -> Problem:
    matching = [p for p in problems if p.field == field]
    assert matching, f"no problem on field {field!r} in {[str(p) for p in problems]}"
    return matching[0]


Edit = Callable[[str], str]

CASES: list[tuple[str, Edit, str | None, str | None, str]] = [
    ("wrong kind", lambda t: t.replace("kind: script", "kind: recipe"), PRICE, "kind", "must be one of"),
    (
        "empty aliases",
        lambda t: t.replace("en: [too expensive, price is too high]", "en: []"),
        PRICE,
        "aliases.en",
        "must not be empty",
    ),
    (
        "empty alias item",
        lambda t: t.replace("[too expensive, price is too high]", "[too expensive, '']"),
        PRICE,
        "aliases.en[1]",
        "must not be empty",
    ),
    (
        "missing language",
        lambda t: t.replace("      en: The customer says “it’s too expensive”\n", ""),
        PRICE,
        "title.en",
        "missing",
    ),
    (
        "unknown field",
        lambda t: t.replace("    tags: [objection, price]", "    tagz: [objection]"),
        PRICE,
        "tagz",
        "unknown field",
    ),
    (
        "bad id",
        lambda t: t.replace("id: objection.no_budget", "id: Objection No Budget"),
        "Objection No Budget",
        "id",
        "lowercase and dotted",
    ),
    (
        "no id at all",
        lambda t: t.replace("  - id: objection.no_budget\n    kind", "  - kind"),
        None,
        "entries[1].id",
        "missing",
    ),
    ("unquoted source", lambda t: t.replace('source: "000"', "source: 000", 1), PRICE, "source", "quote"),
    (
        "unknown related",
        lambda t: t.replace("related: [objection.no_budget]", "related: [pricing.nothing]"),
        PRICE,
        "related[0]",
        "unknown id 'pricing.nothing'",
    ),
    (
        "self reference",
        lambda t: t.replace("related: [objection.no_budget]", f"related: [{PRICE}]"),
        PRICE,
        "related[0]",
        "itself",
    ),
    (
        "missing template",
        lambda t: t.replace("script: price_reply", "script: no_such_script"),
        PRICE,
        "script",
        "scripts_talk/zh/no_such_script.j2",
    ),
    (
        "area differs from file",
        lambda t: t.replace("area: objections", "area: objection"),
        None,
        "area",
        "file name",
    ),
    (
        "body too long",
        lambda t: t.replace("zh: 先问清楚和什么比较。", "zh: " + "长" * 3001),
        PRICE,
        "body.zh",
        "at most 3000",
    ),
    (
        "duplicate id in a file",
        lambda t: t.replace("id: objection.no_budget", f"id: {PRICE}"),
        PRICE,
        "id",
        "duplicate",
    ),
]


@pytest.mark.parametrize(
    ("edit", "entry_id", "field", "message"), [c[1:] for c in CASES], ids=[c[0] for c in CASES]
)
def test_broken_entry_is_named(
    mini: MiniBase, edit: Edit, entry_id: str | None, field: str | None, message: str
) -> None:
    broken = edit(ENTRY_FILE)
    assert broken != ENTRY_FILE
    mini.write("objections.yaml", broken)
    problem = _one(check_knowledge(mini.knowledge, mini.talk), field)
    assert problem.file == OBJ
    assert problem.entry_id == entry_id
    assert message in problem.message
    assert problem.line is not None
    with pytest.raises(KnowledgeError) as raised:
        load_knowledge(mini.knowledge, mini.talk)
    assert problem in raised.value.problems


def test_problem_reads_file_entry_field_message(mini: MiniBase) -> None:
    mini.write("objections.yaml", ENTRY_FILE.replace("en: [too expensive, price is too high]", "en: []"))
    [problem] = check_knowledge(mini.knowledge, mini.talk)
    assert str(problem).startswith(f"{OBJ}: {PRICE}: aliases.en: must not be empty")
    assert problem.line == 17


def test_duplicate_key_is_not_silently_dropped(mini: MiniBase) -> None:
    doubled = ENTRY_FILE.replace(
        "    tags: [objection, price]\n", "    tags: [objection, price]\n    tags: [x]\n"
    )
    mini.write("objections.yaml", doubled)
    [problem] = check_knowledge(mini.knowledge, mini.talk)
    assert problem.field == "entries[0].tags"
    assert "twice" in problem.message
    assert problem.line == 10


def test_yaml_syntax_error_has_line(mini: MiniBase) -> None:
    mini.write("objections.yaml", ENTRY_FILE.replace("  en: Objections\n", "  en: Objections: bad\n"))
    [problem] = check_knowledge(mini.knowledge, mini.talk)
    assert problem.file == OBJ
    assert "invalid YAML" in problem.message
    assert problem.line == 4


def test_duplicate_id_across_files_names_both(mini: MiniBase) -> None:
    other = (
        ENTRY_FILE.replace("area: objections", "area: pricing")
        .replace(f"id: {PRICE}", "id: pricing.price_traps")
        .replace("related: [objection.no_budget]", "related: []")
    )
    mini.write("pricing.yaml", other)
    problem = _one(check_knowledge(mini.knowledge, mini.talk), "id")
    assert problem.file == "knowledge/entries/pricing.yaml"
    assert problem.entry_id == "objection.no_budget"
    assert OBJ in problem.message


def test_catalog_id_without_entry(mini: MiniBase) -> None:
    (mini.knowledge / "catalog_ids.txt").write_text(
        f"# ids\n{PRICE}\nobjection.think_it_over\n", encoding="utf-8"
    )
    [problem] = check_knowledge(mini.knowledge, mini.talk)
    assert problem.file == "knowledge/catalog_ids.txt"
    assert problem.entry_id == "objection.think_it_over"
    # Tools that work on a half-written base can opt out of the catalog.
    assert len(load_knowledge(mini.knowledge, mini.talk, require_catalog=False)) == 2


def test_template_problems(mini: MiniBase) -> None:
    (mini.talk / "zh" / "orphan.j2").write_text("{% if x %}no end", encoding="utf-8")
    problems = check_knowledge(mini.knowledge, mini.talk)
    assert {p.file for p in problems} == {"scripts_talk/zh/orphan.j2"}
    assert any("no en/orphan.j2" in p.message for p in problems)
    assert any("syntax" in p.message and p.line == 1 for p in problems)


def test_retrieval_file_is_checked(mini: MiniBase) -> None:
    (mini.knowledge / "retrieval.yaml").write_text(
        "fillers: {zh: [怎么办]}\ncompliance:\n  - entry: compliance.nothing\n    patterns: {zh: [回扣]}\n",
        encoding="utf-8",
    )
    problem = _one(check_knowledge(mini.knowledge, mini.talk), "compliance[0].entry")
    assert problem.file == "knowledge/retrieval.yaml"
    assert problem.line == 3
    (mini.knowledge / "retrieval.yaml").write_text(
        "fillers: {zh: [怎么办], fr: [comment]}\n", encoding="utf-8"
    )
    assert _one(check_knowledge(mini.knowledge, mini.talk), "fillers.fr").message == "unknown field"


def test_no_entry_files(tmp_path: pytest.TempPathFactory) -> None:
    base = MiniBase(tmp_path)  # type: ignore[arg-type]
    (base.knowledge / "entries" / "objections.yaml").unlink()
    [problem] = check_knowledge(base.knowledge, base.talk)
    assert "no entry files" in problem.message
