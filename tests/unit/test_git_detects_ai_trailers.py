"""`--from-git` reads title, commit and authors, and detects AI assistance from trailers and
"Generated with" lines, saying why; a plain commit is not flagged."""

from __future__ import annotations

import os
import subprocess
from pathlib import Path

import pytest

from bot.gate.git import GitError, read_change


def git(repo: Path, *args: str) -> str:
    env = {
        "GIT_AUTHOR_NAME": "Jun Ior",
        "GIT_AUTHOR_EMAIL": "Junior@Example.com",
        "GIT_COMMITTER_NAME": "Jun Ior",
        "GIT_COMMITTER_EMAIL": "junior@example.com",
        "HOME": str(repo),
        "PATH": "/usr/bin:/bin:/usr/local/bin",
    }
    return subprocess.run(["git", *args], cwd=repo, env=env, check=True, capture_output=True, text=True).stdout


@pytest.fixture
def repo(tmp_path: Path) -> Path:
    git(tmp_path, "init", "-q", "-b", "main")
    git(tmp_path, "commit", "-q", "--allow-empty", "-m", "Initial commit")
    return tmp_path


def commit(repo: Path, message: str) -> str:
    git(repo, "commit", "-q", "--allow-empty", "-m", message)
    return git(repo, "rev-parse", "HEAD").strip()


@pytest.mark.parametrize(
    ("trailer", "tool"),
    [
        ("Co-authored-by: Claude <noreply@anthropic.com>", "Claude"),
        ("Co-authored-by: Copilot <175728472+Copilot@users.noreply.github.com>", "Copilot"),
        ("Co-Authored-By: cursoragent <cursoragent@cursor.com>", "cursoragent"),
        ("Assisted-by: Gemini Code Assist", "Gemini Code Assist"),
        ("AI-Assisted: true", ""),
        ("🤖 Generated with [Claude Code](https://claude.com/claude-code)", "Claude Code"),
        ("Co-authored-by: Copilot <copilot@github.com>", "Copilot"),
        ("Co-authored-by: Codex <noreply@openai.com>", "Codex"),
        ("Co-authored-by: aider (gpt-4o) <noreply@aider.chat>", "aider gpt-4o"),
        ("Co-authored-by: aider <aider@aider.chat>", "aider"),
        ("Assisted-by: claude-code:claude-opus-4 [ripgrep]", "claude-code:claude-opus-4 ripgrep"),
        ("Generated-by: Amazon Q Developer", "Amazon Q Developer"),
        ("Made-with: Cursor", "Cursor"),
        ("Replit-Commit-Author: Agent", "Replit Agent"),
    ],
)
def test_each_trailer_form_is_detected(repo: Path, trailer: str, tool: str) -> None:
    sha = commit(repo, f"Fix retry storm\n\nBody text.\n\n{trailer}\n")
    change = read_change("HEAD", cwd=str(repo))
    assert change.ai_assisted
    assert change.title == "Fix retry storm"
    assert change.commit == sha
    assert change.evidence == [f"{sha[:7]}: {trailer.strip()}"]
    assert change.ai_tool == tool
    assert change.authors == ["junior@example.com"]


def test_a_plain_commit_is_not_flagged_and_human_coauthors_are_authors(repo: Path) -> None:
    commit(repo, "Tidy logging\n\nAI-Assisted: false\nCo-authored-by: Carol Senior <carol@example.com>\n")
    change = read_change("HEAD", cwd=str(repo))
    assert not change.ai_assisted and change.evidence == []
    assert change.authors == ["junior@example.com", "carol@example.com"]


def test_a_range_is_read_whole(repo: Path) -> None:
    base = git(repo, "rev-parse", "HEAD").strip()
    commit(repo, "Step one")
    tip = commit(repo, "Step two\n\nAssisted-by: Aider")
    change = read_change(f"{base}..HEAD", cwd=str(repo))
    assert change.commits == 2 and change.commit == tip
    assert change.title == "Step two (+1 more commits)"
    assert change.ai_assisted and change.ai_tool == "Aider"


def test_an_unknown_revision_is_a_clear_error(repo: Path) -> None:
    with pytest.raises(GitError, match="nosuchrev"):
        read_change("nosuchrev", cwd=str(repo))


def test_made_with_something_else_is_not_ai(repo: Path) -> None:
    commit(repo, "Rework the cache\n\nMade-with: love\nReplit-Commit-Author: Alice\n")
    assert not read_change("HEAD", cwd=str(repo)).ai_assisted


@pytest.mark.parametrize(
    ("name", "email", "tool"),
    [
        ("copilot-swe-agent[bot]", "198982749+Copilot@users.noreply.github.com", "copilot-swe-agent bot"),
        ("devin-ai-integration[bot]", "158243242+devin-ai-integration[bot]@users.noreply.github.com",
         "devin-ai-integration bot"),
        ("amazon-q-developer[bot]", "208079219+amazon-q-developer[bot]@users.noreply.github.com",
         "amazon-q-developer bot"),
        ("Kiro Agent", "kiro@example.com", "Kiro Agent"),
        ("Jun Ior (aider)", "junior@example.com", "Jun Ior aider"),
    ],
)  # fmt: skip
def test_an_agent_as_author_or_committer_is_detected(repo: Path, name: str, email: str, tool: str) -> None:
    for role in ("AUTHOR", "COMMITTER"):
        env = {
            "GIT_AUTHOR_NAME": "Jun Ior",
            "GIT_AUTHOR_EMAIL": "junior@example.com",
            "GIT_COMMITTER_NAME": "Jun Ior",
            "GIT_COMMITTER_EMAIL": "junior@example.com",
            f"GIT_{role}_NAME": name,
            f"GIT_{role}_EMAIL": email,
        }
        subprocess.run(
            ["git", "commit", "-q", "--allow-empty", "-m", "Bump the client"],
            cwd=repo,
            env={**os.environ, "HOME": str(repo), **env},
            check=True,
        )
        sha = git(repo, "rev-parse", "HEAD").strip()
        change = read_change("HEAD", cwd=str(repo))
        assert change.ai_assisted and change.ai_tool == tool
        assert change.evidence == [f"{sha[:7]}: {role.lower()} {name} <{email}>"]


def test_an_aider_subject_is_detected(repo: Path) -> None:
    sha = commit(repo, "aider: Fix the flaky test")
    change = read_change("HEAD", cwd=str(repo))
    assert change.ai_assisted and change.ai_tool == "aider"
    assert change.evidence == [f"{sha[:7]}: subject aider: Fix the flaky test"]
