"""Reading a commit (or range) for the gate, and spotting AI assistance in its messages.

Recognised, case-insensitively, in any commit of the range:
  * ``Co-authored-by:`` naming an AI tool or its bot address (Claude ``noreply@anthropic.com``,
    Copilot ``…+Copilot@users.noreply.github.com`` / ``copilot@github.com``, Cursor
    ``cursoragent@cursor.com``, Codex ``noreply@openai.com``, aider ``noreply@aider.chat``, ...)
  * ``Assisted-by:`` anything (the Linux kernel's ``AGENT:MODEL [tools]``), ``Generated-by:`` anything
  * ``Made-with:`` naming an AI tool (``Made-with: Cursor``), ``Replit-Commit-Author: Agent``
  * ``AI-Assisted: true`` (or yes / 1)
  * a line starting "Generated with ..." (e.g. "🤖 Generated with Claude Code")
  * an author or committer that is an agent (``copilot-swe-agent[bot]``, ``devin-ai-integration[bot]``,
    ``amazon-q-developer[bot]``, "Kiro Agent", a name ending in "(aider)"), or a subject starting ``aider:``

A commit without any of these may still have been written with AI: no marker proves nothing.
"""

from __future__ import annotations

import re
import subprocess
from dataclasses import dataclass, field

AI_NAMES = re.compile(
    r"\b(claude|anthropic|copilot|chatgpt|openai|gpt-?\d|codex|cursor|gemini|bard|devin|aider|windsurf|codeium|"
    r"tabnine|codewhisperer|amazon q|cody|jules|sweep|replit)\b",
    re.IGNORECASE,
)
AI_ADDRESSES = re.compile(r"(noreply@anthropic\.com|copilot|@openai\.com|cursoragent|devin-ai|aider\.chat)", re.I)
TRAILER = re.compile(r"^\s*([A-Za-z-]+)\s*:\s*(.+?)\s*$")
PERSON = re.compile(r"^(?P<name>.*?)\s*<(?P<email>[^>]+)>\s*$")
GENERATED = re.compile(r"^\W*generated (with|by)\b(?P<what>.*)$", re.IGNORECASE)
AGENT_IDENTITY = re.compile(
    r"(copilot-swe-agent\[bot\]|devin-ai-integration\[bot\]|amazon-q-developer\[bot\]|\bkiro agent\b|\(aider\)\s*$)",
    re.IGNORECASE,
)
AIDER_SUBJECT = re.compile(r"^\s*aider:", re.IGNORECASE)
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


def detect(sha: str, message: str) -> tuple[list[str], list[str], str]:
    """(evidence, human co-author emails, first AI tool named) for one commit message."""
    evidence: list[str] = []
    humans: list[str] = []
    tool = ""
    short = sha[:7]
    for line in message.splitlines():
        trailer = TRAILER.match(line)
        generated = GENERATED.match(line.strip())
        if trailer:
            key, value = trailer.group(1).lower(), trailer.group(2)
            person = PERSON.match(value)
            if key == "co-authored-by":
                is_ai = bool(AI_NAMES.search(value) or AI_ADDRESSES.search(value))
                if is_ai:
                    evidence.append(f"{short}: {line.strip()}")
                    tool = tool or _tool_name(value)
                elif person:
                    humans.append(person.group("email").strip().lower())
            elif key in ("assisted-by", "generated-by") or (key == "made-with" and AI_NAMES.search(value)):
                evidence.append(f"{short}: {line.strip()}")
                tool = tool or _tool_name(value)
            elif key == "replit-commit-author" and value.strip().lower() == "agent":
                evidence.append(f"{short}: {line.strip()}")
                tool = tool or "Replit Agent"
            elif key == "ai-assisted" and value.strip().lower() in ("true", "yes", "1"):
                evidence.append(f"{short}: {line.strip()}")
        elif generated:
            evidence.append(f"{short}: {line.strip()}")
            tool = tool or _tool_name(generated.group("what"))
    return evidence, humans, tool


def detect_identity(sha: str, subject: str, people: list[tuple[str, str, str]]) -> tuple[list[str], str]:
    """(evidence, tool) from who made a commit: ``people`` are (role, name, email) of its author and
    committer; an agent's identity, or aider's subject prefix, is evidence."""
    evidence: list[str] = []
    tool = ""
    short = sha[:7]
    for role, name, email in people:
        if AGENT_IDENTITY.search(name) or AGENT_IDENTITY.search(email):
            evidence.append(f"{short}: {role} {name} <{email}>")
            tool = tool or _tool_name(name)
    if AIDER_SUBJECT.match(subject):
        evidence.append(f"{short}: subject {subject.strip()[:80]}")
        tool = tool or "aider"
    return evidence, tool


def _tool_name(text: str) -> str:
    person = PERSON.match(text)
    name = person.group("name") if person else text
    name = re.sub(r"\s+", " ", re.sub(r"[\[\]()]|https?://\S+", " ", name)).strip(" .-")
    m = AI_NAMES.search(name)
    return (name if len(name) <= 40 else m.group(0) if m else name[:40]).strip()


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
