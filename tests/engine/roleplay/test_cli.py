"""`salescoach roleplay --persona ID [--transcript FILE] [--json]` as the brief specifies."""

from __future__ import annotations

import io
import json
from pathlib import Path

import pytest

from bot.cli import main
from tests.engine.roleplay.helpers import TRANSCRIPTS


def run_cli(capsys: pytest.CaptureFixture[str], *args: str) -> tuple[int, str, str]:
    code = main(["roleplay", *args])
    out, err = capsys.readouterr()
    return code, out, err


def test_transcript_json_has_the_contract_shape(capsys: pytest.CaptureFixture[str]) -> None:
    path = TRANSCRIPTS / "consultative_buyer.good.en.txt"
    code, out, _ = run_cli(capsys, "--persona", "consultative_buyer", "--transcript", str(path), "--json")
    assert code == 0
    data = json.loads(out)
    assert data["persona"] == "consultative_buyer"
    lines = [x for x in path.read_text(encoding="utf-8").splitlines() if x.strip() and not x.startswith("#")]
    assert [t["rep"] for t in data["turns"]] == lines
    assert all(isinstance(t["customer"], str) and t["customer"] for t in data["turns"])
    score = data["score"]
    assert isinstance(score["total"], int) and 0 <= score["total"] <= 100
    assert set(score["criteria"]) == {"opening", "questioning", "spin", "listening", "fab", "objections",
                                      "summary", "next_step"}
    for item in score["criteria"].values():
        assert 0 <= item["score"] <= item["max"]
        assert item["tip"] and item["kb"]
        assert all(v in (True, False, None) for v in item["checks"].values())


def test_the_same_transcript_gives_the_same_output(capsys: pytest.CaptureFixture[str]) -> None:
    path = str(TRANSCRIPTS / "tough_purchaser.bad.zh.txt")
    first = run_cli(capsys, "--persona", "tough_purchaser", "--transcript", path, "--json")
    second = run_cli(capsys, "--persona", "tough_purchaser", "--transcript", path, "--json")
    assert first == second
    other = run_cli(capsys, "--persona", "tough_purchaser", "--transcript", path, "--json", "--seed", "9")
    assert json.loads(other[1])["score"]["total"] == json.loads(first[1])["score"]["total"]


def test_plain_output_is_a_readable_transcript_and_scorecard(capsys: pytest.CaptureFixture[str]) -> None:
    path = str(TRANSCRIPTS / "first_visit_engineer.good.zh.txt")
    code, out, _ = run_cli(capsys, "--persona", "first_visit_engineer", "--transcript", path)
    assert code == 0
    assert "> 王工您好" in out and "🗣 王工:" in out
    assert "评分卡" in out and "总分:" in out


def test_stdin_transcript(capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr("sys.stdin", io.StringIO("Hello Mr Zhao, I'm Wang from Swift Tech.\n\n# note\n/end\nignored\n"))
    code, out, _ = run_cli(capsys, "--persona", "transactional_buyer", "--transcript", "-", "--json")
    assert code == 0
    assert [t["rep"] for t in json.loads(out)["turns"]] == ["Hello Mr Zhao, I'm Wang from Swift Tech."]


def test_interactive_session_in_a_terminal(capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch) -> None:
    class Tty(io.StringIO):
        def isatty(self) -> bool:
            return True

    typed = Tty("Hello Director Chen, I'm Li from Apex Training, thanks for seeing me.\n/hint\n/repeat\n"
                "What concerns you most about how the sales team works today?\n/end\n")
    monkeypatch.setattr("sys.stdin", typed)
    code, out, _ = run_cli(capsys, "--persona", "consultative_buyer", "--lang", "en")
    assert code == 0
    assert "Your task" in out and "💡" in out and out.count("🗣 Director Chen:") >= 3
    assert "Total:" in out


def test_bad_arguments(capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    code, _, err = run_cli(capsys, "--persona", "nobody", "--transcript", str(TRANSCRIPTS / "tough_purchaser.bad.zh.txt"))
    assert code == 2 and "unknown persona" in err and "tough_purchaser" in err
    code, _, err = run_cli(capsys, "--persona", "tough_purchaser", "--transcript", str(tmp_path / "missing.txt"))
    assert code == 2 and "cannot read" in err
    empty = tmp_path / "empty.txt"
    empty.write_text("# only a comment\n\n", encoding="utf-8")
    code, _, err = run_cli(capsys, "--persona", "tough_purchaser", "--transcript", str(empty))
    assert code == 2 and "no rep turns" in err
    binary = tmp_path / "binary.txt"
    binary.write_bytes(b"\xff\xfe\x00bad")
    code, _, err = run_cli(capsys, "--persona", "tough_purchaser", "--transcript", str(binary))
    assert code == 2
