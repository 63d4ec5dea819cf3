"""AI assistance as commits show it: trailers, agent identities, subjects. Pure: the CLI reads
commits with git, the GitHub gate with GitHub's API, and both ask these functions.

Recognised, case-insensitively:
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
                    tool = tool or tool_name(value)
                elif person:
                    humans.append(person.group("email").strip().lower())
            elif key in ("assisted-by", "generated-by") or (key == "made-with" and AI_NAMES.search(value)):
                evidence.append(f"{short}: {line.strip()}")
                tool = tool or tool_name(value)
            elif key == "replit-commit-author" and value.strip().lower() == "agent":
                evidence.append(f"{short}: {line.strip()}")
                tool = tool or "Replit Agent"
            elif key == "ai-assisted" and value.strip().lower() in ("true", "yes", "1"):
                evidence.append(f"{short}: {line.strip()}")
        elif generated:
            evidence.append(f"{short}: {line.strip()}")
            tool = tool or tool_name(generated.group("what"))
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
            tool = tool or tool_name(name)
    if AIDER_SUBJECT.match(subject):
        evidence.append(f"{short}: subject {subject.strip()[:80]}")
        tool = tool or "aider"
    return evidence, tool


def tool_name(text: str) -> str:
    person = PERSON.match(text)
    name = person.group("name") if person else text
    name = re.sub(r"\s+", " ", re.sub(r"[\[\]()]|https?://\S+", " ", name)).strip(" .-")
    m = AI_NAMES.search(name)
    return (name if len(name) <= 40 else m.group(0) if m else name[:40]).strip()
