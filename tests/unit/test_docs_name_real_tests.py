"""The documentation names only tests that exist: every `tests/….py` path (and every
`file.py::test_name`) in the README and docs/ is a real file (and a real test function), and
every bare `test_….py` named is found under tests/."""

from __future__ import annotations

import re
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
PAGES = [ROOT / "README.md", *sorted((ROOT / "docs").rglob("*.md"))]
PATH = re.compile(r"(tests/[\w/]+\.py)(?:::(\w+))?")
BARE = re.compile(r"(?<![/\w])(test_\w+\.py)")


def test_every_test_the_docs_name_exists() -> None:
    named: set[tuple[str, str | None]] = set()
    bare: set[str] = set()
    for page in PAGES:
        text = page.read_text(encoding="utf-8")
        named |= {(m.group(1), m.group(2)) for m in PATH.finditer(text)}
        bare |= set(BARE.findall(text))
    assert named, "the docs name no tests"
    for path, function in sorted(named, key=str):
        assert (ROOT / path).is_file(), f"{path} is named in the docs but does not exist"
        if function is not None:
            assert re.search(rf"def {function}\(", (ROOT / path).read_text()), f"{path}::{function} does not exist"
    every = {p.name for p in (ROOT / "tests").rglob("test_*.py")}
    assert not bare - every, f"named in the docs, not under tests/: {sorted(bare - every)}"
