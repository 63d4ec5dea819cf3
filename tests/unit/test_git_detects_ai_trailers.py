"""`--from-git` reads title, commit and authors, and detects AI assistance from trailers and
"Generated with" lines, saying why; a plain commit is not flagged."""

from __future__ import annotations

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
