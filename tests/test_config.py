"""Configuration errors are one line naming the variable; the token never reaches the logs."""

from __future__ import annotations

import os
import subprocess
import sys
import time
from pathlib import Path

import pytest

from bot.config import REPO_ROOT, ConfigError, load_settings
from tests.fakebot.server import FakeBotApi


def run_cli(*args: str, env: dict[str, str], cwd: Path, timeout: float = 30) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "bot.cli", *args], env=env, cwd=cwd, capture_output=True,
                          text=True, timeout=timeout)


def clean_env(tmp_path: Path) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("TELEGRAM_", "SALESCOACH_", "DATABASE_URL"))}
    env["DATABASE_URL"] = f"sqlite+aiosqlite:///{tmp_path / 'c.db'}"
    env["PYTHONPATH"] = str(REPO_ROOT)
    return env


@pytest.mark.parametrize(
    ("token", "expected"),
    [(None, "TELEGRAM_BOT_TOKEN is not set"), ("not-a-token", "TELEGRAM_BOT_TOKEN is malformed")],
)
def test_missing_or_malformed_token_is_one_line(tmp_path: Path, token: str | None, expected: str) -> None:
    env = clean_env(tmp_path)
    if token is not None:
        env["TELEGRAM_BOT_TOKEN"] = token
    result = run_cli("run", env=env, cwd=tmp_path)
    assert result.returncode == 2
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1, result.stderr
    assert expected in lines[0]
    assert "Traceback" not in result.stderr
    if token:
        assert token not in result.stderr


def test_bad_variables_name_themselves(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("SALESCOACH_TZ", "Mars/Olympus")
    with pytest.raises(ConfigError, match="SALESCOACH_TZ"):
        load_settings()
    monkeypatch.setenv("SALESCOACH_TZ", "Asia/Shanghai")
    monkeypatch.setenv("SALESCOACH_ADMINS", "12,abc")
    with pytest.raises(ConfigError, match="SALESCOACH_ADMINS"):
        load_settings()


def test_dotenv_file_is_read(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    for name in ("SALESCOACH_ADMINS", "SALESCOACH_TZ", "TELEGRAM_BOT_TOKEN"):
        monkeypatch.delenv(name, raising=False)
    (tmp_path / ".env").write_text("SALESCOACH_ADMINS=11, 22\nSALESCOACH_TZ=Europe/Berlin\n", encoding="utf-8")
    monkeypatch.chdir(tmp_path)
    settings = load_settings()
    assert settings.admins == frozenset({11, 22})
    assert settings.timezone == "Europe/Berlin"


def test_token_never_appears_in_logs(tmp_path: Path, fake_api: FakeBotApi) -> None:
    env = {**clean_env(tmp_path), **fake_api.env(), "SALESCOACH_LOG_LEVEL": "DEBUG"}
    proc = subprocess.Popen([sys.executable, "-m", "bot.cli", "run"], env=env, cwd=tmp_path,
                            stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    try:
        fake_api.push_text(42, "/start")
        fake_api.wait_for("SalesCoach", chat_id=42, timeout=30)
        time.sleep(0.5)
    finally:
        proc.terminate()
        output, _ = proc.communicate(timeout=15)
    assert "getUpdates" in output or "SalesCoach is running" in output  # logging was really on
    assert fake_api.token not in output
    assert fake_api.token.split(":")[1] not in output
