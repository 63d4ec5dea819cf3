"""An invalid roster stops the start with a message that names the entry."""

from __future__ import annotations

from pathlib import Path

import pytest

from bot.domain.errors import ConfigurationError
from bot.domain.models import Level
from bot.roster import RosterSource, load_roster, parse_roster

P = Path("roster.yml")


def error(text: str) -> str:
    with pytest.raises(ConfigurationError) as info:
        parse_roster(text, P)
    assert info.value.setting == "ROSTER_FILE"
    return info.value.message


def test_a_good_roster() -> None:
    roster = parse_roster("admins: [UA]\nengineers:\n  - {user: U1, level: Senior, team: pay}\n", P)
    assert roster.is_admin("UA")
    assert roster.level_of("U1") is Level.SENIOR
    assert roster.level_of("U2") is None


def test_bad_level_names_the_entry_and_the_choices() -> None:
    message = error("engineers:\n  - {user: U1, level: senior}\n  - {user: U2, level: sr}\n")
    assert "engineers[1] (U2)" in message
    assert "'sr' is not one of junior, mid, senior, staff, principal" in message


def test_other_mistakes() -> None:
    assert "listed twice" in error("engineers:\n  - {user: U1, level: senior}\n  - {user: U1, level: mid}\n")
    assert "'user'" in error("engineers:\n  - {level: senior}\n")
    assert "not valid YAML" in error("engineers: [")
    assert "unknown top-level" in error("people: []\n")
    assert "unknown key nick" in error("engineers:\n  - {user: U1, level: mid, nick: x}\n")


def test_missing_file_names_it(tmp_path: Path) -> None:
    with pytest.raises(ConfigurationError) as info:
        load_roster(tmp_path / "nope.yml")
    assert "nope.yml: cannot be read" in info.value.message


def test_edits_are_picked_up_and_a_broken_edit_keeps_the_last_good_roster(tmp_path: Path) -> None:
    path = tmp_path / "roster.yml"
    path.write_text("engineers:\n  - {user: U1, level: senior}\n")
    source = RosterSource(path)
    assert source.current().is_senior("U1")
    path.write_text("engineers:\n  - {user: U1, level: junior}\n")
    import os

    os.utime(path, ns=(1, 10**18))
    assert not source.current().is_senior("U1")
    path.write_text("engineers: [")
    os.utime(path, ns=(1, 2 * 10**18))
    assert source.current().level_of("U1") is Level.JUNIOR
