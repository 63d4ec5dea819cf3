"""Reading a commit (or range) for the gate, and spotting AI assistance in its messages.
The markers it looks for are in ``bot/domain/ai_markers.py``.
"""

from __future__ import annotations

import subprocess
from dataclasses import dataclass, field

from bot.domain.ai_markers import detect, detect_identity

SEP_FIELD, SEP_COMMIT = "\x1f", "\x1e"


class GitError(Exception):
    pass


@dataclass
class GitChange:
    title: str
    commit: str
    authors: list[str]
    ai_assisted: bool
    ai_tool: str = ""
    evidence: list[str] = field(default_factory=list)
    commits: int = 1


def _git(args: list[str], cwd: str | None) -> str:
    try:
        out = subprocess.run(["git", *args], cwd=cwd, capture_output=True, text=True, check=True, timeout=30)
    except FileNotFoundError:
        raise GitError("git is not installed") from None
    except subprocess.CalledProcessError as err:
        raise GitError((err.stderr or err.stdout).strip() or f"git {' '.join(args)} failed") from None
    return out.stdout


def read_change(rev: str, cwd: str | None = None) -> GitChange:
    fmt = SEP_FIELD.join(["%H", "%ae", "%an", "%ce", "%cn", "%s", "%B"]) + SEP_COMMIT
    args = ["log", f"--format={fmt}", rev] if ".." in rev else ["log", "-1", f"--format={fmt}", rev]
    raw = _git([*args, "--"], cwd)
    commits = [c for c in raw.split(SEP_COMMIT) if c.strip()]
    if not commits:
        raise GitError(f"{rev} names no commits")
    authors: list[str] = []
    evidence: list[str] = []
    tool = ""
    parsed = []
    for chunk in commits:
        sha, email, name, committer_email, committer_name, subject, body = chunk.strip("\n").split(SEP_FIELD, 6)
        parsed.append((sha, subject))
        found, humans, named = detect(sha, body)
        people = [("author", name, email), ("committer", committer_name, committer_email)]
        by_identity, identity_tool = detect_identity(sha, subject, people)
        evidence += found + by_identity
        tool = tool or named or identity_tool
        authors += [email.lower(), *humans]
    tip_sha, tip_subject = parsed[0]
    title = tip_subject if len(parsed) == 1 else f"{tip_subject} (+{len(parsed) - 1} more commits)"
    return GitChange(
        title=title[:150],
        commit=tip_sha,
        authors=list(dict.fromkeys(authors)),
        ai_assisted=bool(evidence),
        ai_tool=tool,
        evidence=evidence,
        commits=len(parsed),
    )
