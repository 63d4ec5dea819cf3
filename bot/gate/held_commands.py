"""Which shell commands change production, for the agent hook: those are held for sign-off,
everything else passes at once.

By default: ``terraform``/``tofu`` ``apply`` and ``destroy``, ``pulumi up`` and ``destroy``,
``kubectl`` ``delete``/``apply``/``replace``/``scale``, ``helm``
``install``/``upgrade``/``uninstall``/``rollback``, and ``aws cloudformation``
``deploy``/``delete-stack``/``execute-change-set``: a tool run as a command (also after ``sudo``,
``env``, ``time``, ``exec`` or ``VAR=value``, and in every part of a pipeline or a ``&&`` chain)
with one of its subcommands anywhere among its words, so flags before the subcommand do not
hide it. A command the shell's rules cannot split is held if it names a tool at all.

A patterns file (``SIGNOFF_HOOK_PATTERNS``) adds more: one regular expression per line, searched
in the whole command, optionally led by ``destructive:`` or ``not-destructive:`` (what the held
request says; unknown, the default, counts as destructive). ``#`` starts a comment line.
"""

from __future__ import annotations

import os
import re
import shlex
from dataclasses import dataclass

# tool -> (subcommand words that change production, the words of those that destroy)
DEFAULTS: dict[str, tuple[frozenset[str], frozenset[str]]] = {
    "terraform": (frozenset({"apply", "destroy"}), frozenset({"destroy"})),
    "tofu": (frozenset({"apply", "destroy"}), frozenset({"destroy"})),
    "pulumi": (frozenset({"up", "destroy"}), frozenset({"destroy"})),
    "kubectl": (frozenset({"delete", "apply", "replace", "scale"}), frozenset({"delete"})),
    "helm": (frozenset({"install", "upgrade", "uninstall", "rollback"}), frozenset({"uninstall"})),
    "aws cloudformation": (
        frozenset({"deploy", "delete-stack", "execute-change-set"}),
        frozenset({"delete-stack"}),
    ),
}
PREFIXES = frozenset({"sudo", "env", "time", "exec", "nohup", "command"})
_SEPARATORS = re.compile(r"\s*(?:;|&&|\|\||\||&|\n)\s*")
_ASSIGNMENT = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*=")


@dataclass(frozen=True)
class Held:
    why: str  # what matched, for the request's description
    destructive: bool | None  # True: it destroys; None: not known (counts as destructive)


@dataclass(frozen=True)
class Pattern:
    regex: re.Pattern[str]
    destructive: bool | None


class PatternError(Exception):
    """The patterns file cannot be read or holds a line that is not a regular expression."""


def load_patterns(path: str | None) -> list[Pattern]:
    if not path:
        return []
    try:
        with open(path, encoding="utf-8") as fh:
            lines = fh.read().splitlines()
    except OSError as exc:
        raise PatternError(f"SIGNOFF_HOOK_PATTERNS {path}: cannot be read ({exc.strerror or exc})") from None
    patterns = []
    for number, line in enumerate(lines, 1):
        text = line.strip()
        if not text or text.startswith("#"):
            continue
        destructive: bool | None = None
        for prefix, value in (("not-destructive:", False), ("destructive:", True)):
            if text.startswith(prefix):
                text, destructive = text[len(prefix) :].strip(), value
                break
        try:
            patterns.append(Pattern(re.compile(text), destructive))
        except re.error as exc:
            raise PatternError(
                f"SIGNOFF_HOOK_PATTERNS {path}, line {number}: not a regular expression ({exc})"
            ) from None
    return patterns


def _words_of_each_command(command: str) -> list[list[str]] | None:
    """The words of each simple command in ``command``, or None when the shell's rules cannot split it."""
    parts = []
    for piece in _SEPARATORS.split(command):
        try:
            words = shlex.split(piece)
        except ValueError:
            return None
        while words and (words[0] in PREFIXES or _ASSIGNMENT.match(words[0]) or words[0].startswith("-")):
            words = words[1:]  # sudo -E, env A=b, time, …
        if words:
            parts.append(words)
    return parts


def held(command: str, patterns: list[Pattern]) -> Held | None:
    """Why ``command`` must wait for sign-off, or None when it may run at once."""
    for pattern in patterns:
        if pattern.regex.search(command):
            return Held(f"matches the pattern {pattern.regex.pattern!r}", pattern.destructive)
    parts = _words_of_each_command(command)
    if parts is None:
        named = [tool for tool in DEFAULTS if re.search(rf"\b{re.escape(tool.split()[0])}\b", command)]
        return Held(f"it names {named[0]} and cannot be read word by word", None) if named else None
    for words in parts:
        tool = os.path.basename(words[0])
        for name, (changes, destroys) in DEFAULTS.items():
            first, *rest = name.split()
            if tool != first or any(r not in words[1:] for r in rest):
                continue
            found = [w for w in words[1:] if w in changes]
            if found:
                destroying = any(w in destroys for w in found)
                return Held(f"{name} {found[0]} changes production", True if destroying else None)
    return None
