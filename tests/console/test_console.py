"""`salescoach console` with piped input, as in a scripted demo."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

from tests.test_config import clean_env


def test_piped_console_walks_a_prep(tmp_path: Path) -> None:
    script = "\n".join(["/prep", "华为技术", "王经理", "2", "了解需求", "/quit", "这行不会被读到"]) + "\n"
    result = subprocess.run([sys.executable, "-m", "bot.cli", "console", "--user", "李雷"], input=script,
                            env=clean_env(tmp_path), cwd=tmp_path, capture_output=True, text=True, timeout=60)
    assert result.returncode == 0, result.stderr
    out = result.stdout
    assert "销售教练" in out  # welcome
    assert "[1]" in out  # buttons are numbered choices
    assert "拜访哪位客户" in out
    assert "目的" in out  # "2" picked the second stage button, then the objective was asked
    assert "上次见面" in out  # the objective was accepted; stage 2 is not a new lead, so the last meeting is asked
    assert "这行不会被读到" not in out


def test_console_in_english(tmp_path: Path) -> None:
    result = subprocess.run([sys.executable, "-m", "bot.cli", "console", "--lang", "en"], input="/help\n",
                            env=clean_env(tmp_path), cwd=tmp_path, capture_output=True, text=True, timeout=60)
    assert result.returncode == 0, result.stderr
    assert "Managers" in result.stdout
