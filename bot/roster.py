"""The roster: who is who, read from the YAML file named by ROSTER_FILE.

The file is re-read when it changes, so people can be added or removed without a
restart. A broken edit keeps the last good roster and logs why.
"""

from __future__ import annotations

import logging
import re
from pathlib import Path
from typing import Any

import yaml

from bot.domain.errors import ConfigurationError
from bot.domain.models import Engineer, GroupRule, Level, Roster

log = logging.getLogger(__name__)
_LEVELS = ", ".join(level.value for level in Level)


_GITHUB_LOGIN = re.compile(r"[A-Za-z0-9](?:-?[A-Za-z0-9]){0,38}", re.ASCII)
_GITLAB_LOGIN = re.compile(r"[A-Za-z0-9_][A-Za-z0-9_.-]{0,254}", re.ASCII)


def _fail(path: Path, message: str) -> ConfigurationError:
    return ConfigurationError("ROSTER_FILE", f"{path}: {message}")


def parse_roster(text: str, path: Path) -> Roster:
    try:
        data = yaml.safe_load(text)
    except yaml.YAMLError as exc:
        raise _fail(path, f"is not valid YAML ({exc})") from None
    if not isinstance(data, dict):
        raise _fail(path, "must be a mapping with 'admins' and 'engineers'")
    unknown = set(data) - {"admins", "engineers", "groups"}
    if unknown:
        raise _fail(path, f"unknown top-level {_keys(unknown)}: {', '.join(sorted(map(str, unknown)))}")
    admins_raw = data.get("admins") or []
    if not isinstance(admins_raw, list) or not all(isinstance(a, str) and a for a in admins_raw):
        raise _fail(path, "admins must be a list of Slack user IDs")
    engineers_raw = data.get("engineers") or []
    if not isinstance(engineers_raw, list):
        raise _fail(path, "engineers must be a list")
    engineers: dict[str, Engineer] = {}
    for i, entry in enumerate(engineers_raw):
        engineers_entry = _engineer(entry, i, path)
        if engineers_entry.user in engineers:
            raise _fail(path, f"engineers[{i}] ({engineers_entry.user}): listed twice")
        engineers[engineers_entry.user] = engineers_entry
    groups_raw = data.get("groups") or []
    if not isinstance(groups_raw, list):
        raise _fail(path, "groups must be a list")
    groups = tuple(_group(entry, i, path) for i, entry in enumerate(groups_raw))
    return Roster(admins=frozenset(admins_raw), engineers=engineers, groups=groups)


def _group(entry: Any, i: int, path: Path) -> GroupRule:
    where = f"groups[{i}]"
    if not isinstance(entry, dict):
        raise _fail(path, f"{where}: must be a mapping like {{usergroup: S0SENIORS, level: senior, team: payments}}")
    group = entry.get("usergroup")
    if not isinstance(group, str) or not (group.startswith("@") or group.startswith("S")) or len(group) < 2:
        raise _fail(path, f"{where}: 'usergroup' must be a user group ID (S…) or handle (@name)")
    where = f"{where} ({group})"
    extra = set(entry) - {"usergroup", "level", "team"}
    if extra:
        raise _fail(path, f"{where}: unknown {_keys(extra)} {', '.join(sorted(map(str, extra)))}")
    try:
        level = Level(str(entry.get("level")).lower())
    except ValueError:
        raise _fail(path, f"{where}: level {entry.get('level')!r} is not one of {_LEVELS}") from None
    team = entry.get("team")
    if team is not None and not isinstance(team, str):
        raise _fail(path, f"{where}: team must be text")
    return GroupRule(group, level, team)


def _engineer(entry: Any, i: int, path: Path) -> Engineer:
    where = f"engineers[{i}]"
    if not isinstance(entry, dict):
        raise _fail(path, f"{where}: must be a mapping like {{user: U123, level: senior, team: payments}}")
    user = entry.get("user")
    if not isinstance(user, str) or not user.strip():
        raise _fail(path, f"{where}: 'user' (a Slack user ID) is required")
    where = f"{where} ({user})"
    extra = set(entry) - {"user", "level", "team", "email", "github", "gitlab"}
    if extra:
        raise _fail(path, f"{where}: unknown {_keys(extra)} {', '.join(sorted(map(str, extra)))}")
    level_raw = entry.get("level")
    try:
        level = Level(str(level_raw).lower())
    except ValueError:
        raise _fail(path, f"{where}: level {level_raw!r} is not one of {_LEVELS}") from None
    team = entry.get("team")
    if team is not None and not isinstance(team, str):
        raise _fail(path, f"{where}: team must be text")
    email = entry.get("email")
    if email is not None and (not isinstance(email, str) or "@" not in email):
        raise _fail(path, f"{where}: email must be an email address")
    github = entry.get("github")
    if github is not None and (not isinstance(github, str) or not _GITHUB_LOGIN.fullmatch(github.strip())):
        raise _fail(path, f"{where}: github must be a GitHub login (letters, digits and single hyphens)")
    gitlab = entry.get("gitlab")
    if gitlab is not None and (not isinstance(gitlab, str) or not _GITLAB_LOGIN.fullmatch(gitlab.strip())):
        raise _fail(path, f"{where}: gitlab must be a GitLab username")
    return Engineer(
        user=user.strip(), level=level, team=team, email=email, github=github.strip() if github else None,
        gitlab=gitlab.strip() if gitlab else None,
    )  # fmt: skip


def load_roster(path: Path) -> Roster:
    try:
        text = path.read_text(encoding="utf-8")
    except OSError as exc:
        raise _fail(path, f"cannot be read ({exc.strerror or exc})") from None
    return parse_roster(text, path)


class RosterSource:
    """Holds the current roster and re-reads the file when its mtime changes."""

    def __init__(self, path: Path) -> None:
        self._path = path
        self._roster = load_roster(path)
        self._stamp = self._mtime()

    def _mtime(self) -> float:
        try:
            return self._path.stat().st_mtime_ns / 1e9
        except OSError:
            return -1.0

    def current(self) -> Roster:
        """The roster, re-read if the file changed (a stat, a few microseconds, on every call: an
        edit counts from the next request on)."""
        stamp = self._mtime()
        if stamp != self._stamp:
            self._stamp = stamp
            try:
                self._roster = load_roster(self._path)
                log.info("roster reloaded from %s (%d engineers)", self._path, len(self._roster.engineers))
            except ConfigurationError as exc:
                log.error("roster not reloaded, keeping the last good one: %s", exc.message)
        return self._roster


def _keys(names: object) -> str:
    return "key" if len(names) == 1 else "keys"  # type: ignore[arg-type]
