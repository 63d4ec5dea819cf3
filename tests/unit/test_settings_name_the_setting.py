"""A missing or malformed setting stops the start with one message naming it; secrets never show."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from bot.config import load_settings
from bot.domain.errors import ConfigurationError

BASE: dict[str, Any] = {
    "SLACK_BOT_TOKEN": "xoxb-secret-bot-token-123",
    "SLACK_SIGNING_SECRET": "very-secret-signing",
    "ROSTER_FILE": "roster.yml",
    "SUMMARY_CHANNEL": "C0SIGNOFF",
    "SLACK_APP_TOKEN": None,
}


def problem(**changes: Any) -> ConfigurationError:
    env = {k: v for k, v in {**BASE, **changes}.items() if v is not ...}
    with pytest.raises(ConfigurationError) as info:
        load_settings(_env_file=None, **env)
    return info.value


def test_defaults() -> None:
    s = load_settings(_env_file=None, **BASE)
    assert s.port == 3000
    assert s.database == "sqlite:///signoff.db"
    assert s.policy_days == 90
    assert not s.socket_mode
    assert s.slack_api_url == "https://slack.com/api/"


@pytest.mark.parametrize(
    ("changes", "setting", "words"),
    [
        ({"SLACK_SIGNING_SECRET": ...}, "SLACK_SIGNING_SECRET", "is not set"),
        ({"SLACK_BOT_TOKEN": "xoxp-user"}, "SLACK_BOT_TOKEN", "xoxb-"),
        ({"SLACK_APP_TOKEN": "xoxb-wrong"}, "SLACK_APP_TOKEN", "xapp-"),
        ({"PORT": "eighty"}, "PORT", "is not a whole number"),
        ({"POLICY_DAYS": 0}, "POLICY_DAYS", "must be at least 1"),
        ({"POLICY_START": "next tuesday"}, "POLICY_START", "is invalid"),
        ({"DATABASE_URL": "mysql://x/db"}, "DATABASE_URL", "sqlite:///"),
        ({"DATABASE_URL": "postgresql://db.internal"}, "DATABASE_URL", "must name a database"),
        ({"DATABASE_URL": "postgresql://db.internal:http/x"}, "DATABASE_URL", "check the host and port"),
        ({"TIMEZONE": "Mars/Olympus"}, "TIMEZONE", "unknown time zone"),
        ({"SLACK_API_URL": "slack.com"}, "SLACK_API_URL", "http"),
        ({"SUMMARY_CHANNEL": ...}, "SUMMARY_CHANNEL", "is not set"),
        ({"SUMMARY_CRON": "0 9 * * 8"}, "SUMMARY_CRON", "is invalid"),
        ({"REMINDER_AFTER": "4 hours"}, "REMINDER_AFTER", "is invalid"),
        ({"REMINDER_AFTER": "2d", "ESCALATE_AFTER": "1d"}, "ESCALATE_AFTER", "longer than REMINDER_AFTER"),
        ({"DESTRUCTIVE_APPROVALS": 0}, "DESTRUCTIVE_APPROVALS", "1 to 5"),
        ({"DESTRUCTIVE_APPROVALS": "two"}, "DESTRUCTIVE_APPROVALS", "is not a whole number"),
        ({"API_TOKENS": "ci:short"}, "API_TOKENS", "shorter than 24"),
        ({"API_TOKENS": "just-a-token-without-a-name"}, "API_TOKENS", "not name:token"),
    ],
)
def test_each_bad_setting_is_named(changes: dict[str, Any], setting: str, words: str) -> None:
    err = problem(**changes)
    assert err.setting == setting
    assert words in err.message


def test_policy_start_accepts_a_date_or_a_datetime() -> None:
    assert load_settings(_env_file=None, **BASE, POLICY_START="2026-09-01").policy_start.isoformat() == (  # type: ignore[union-attr]
        "2026-09-01T00:00:00+00:00"
    )
    s = load_settings(_env_file=None, **BASE, POLICY_START="2026-09-01T10:00:00+02:00")
    assert s.policy_start is not None and s.policy_start.hour == 8


def test_repr_hides_secrets() -> None:
    s = load_settings(_env_file=None, **{**BASE, "SLACK_APP_TOKEN": "xapp-secret-app-token"})
    shown = repr(s) + str(s) + str(s.model_dump())
    for secret in ("xoxb-secret-bot-token-123", "very-secret-signing", "xapp-secret-app-token"):
        assert secret not in shown


def test_serve_with_a_missing_setting_prints_one_line_and_no_traceback(tmp_path: Path) -> None:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("SLACK_", "ROSTER", "SUMMARY", "POLICY"))}
    env["SLACK_BOT_TOKEN"] = "xoxb-secret-bot-token-123"
    proc = subprocess.run(
        [sys.executable, "-m", "bot", "serve"], cwd=tmp_path, env=env, capture_output=True, text=True, timeout=60
    )
    assert proc.returncode == 3
    assert "Traceback" not in proc.stderr
    lines = proc.stderr.strip().splitlines()
    assert len(lines) == 1
    assert lines[0].startswith("signoff: configuration error: SLACK_SIGNING_SECRET: is not set")
    assert "xoxb-secret" not in proc.stderr


def test_serve_with_a_bad_roster_names_the_entry(tmp_path: Path) -> None:
    (tmp_path / "roster.yml").write_text("engineers:\n  - {user: U1, level: boss}\n")
    env = {**os.environ, **{k: str(v) for k, v in BASE.items() if v is not None}}
    env.pop("SLACK_APP_TOKEN", None)
    proc = subprocess.run(
        [sys.executable, "-m", "bot", "serve"], cwd=tmp_path, env=env, capture_output=True, text=True, timeout=60
    )
    assert proc.returncode == 3
    assert "ROSTER_FILE" in proc.stderr and "engineers[0] (U1)" in proc.stderr
    assert "Traceback" not in proc.stderr


@pytest.mark.parametrize(
    ("changes", "setting", "said"),
    [
        ({"PORT": "eighty"}, "PORT", "is not a whole number ('eighty')"),
        ({"PORT": "70000"}, "PORT", "must be at most 65535"),
        ({"POLICY_DAYS": 0}, "POLICY_DAYS", "must be at least 1"),
        ({"DESTRUCTIVE_APPROVALS": "two"}, "DESTRUCTIVE_APPROVALS", "is not a whole number ('two')"),
        ({"GITHUB_APP_ID": "my-app"}, "GITHUB_APP_ID", "is not a whole number ('my-app')"),
        ({"REMINDER_AFTER": "4 hours"}, "REMINDER_AFTER", "is invalid: '4 hours' is not a duration"),
    ],
)
def test_errors_are_in_plain_words(changes: dict[str, Any], setting: str, said: str) -> None:
    err = problem(**changes)
    assert err.setting == setting
    assert said in err.message, err.message
    for jargon in ("Input should be", "Value error", "unable to parse", "valid integer"):
        assert jargon not in err.message, err.message


def test_with_no_env_file_it_says_how_to_make_one(tmp_path: Path) -> None:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("SLACK_", "ROSTER", "SUMMARY", "POLICY"))}
    proc = subprocess.run(
        [sys.executable, "-m", "bot", "serve"], cwd=tmp_path, env=env, capture_output=True, text=True, timeout=60
    )
    assert proc.returncode == 3
    [line] = proc.stderr.strip().splitlines()
    assert "no .env file here" in line and "cp .env.example .env" in line
    (tmp_path / ".env").write_text("SLACK_BOT_TOKEN=xoxb-secret-bot-token-123\n")
    proc = subprocess.run(
        [sys.executable, "-m", "bot", "serve"], cwd=tmp_path, env=env, capture_output=True, text=True, timeout=60
    )
    assert proc.returncode == 3 and "cp .env.example" not in proc.stderr  # there is one: it lacks a setting
