"""Every pointer a reader follows leads somewhere: each link in the README and docs/ names a file
that exists (and a heading that exists, for a #section); each reference in the code, the
messages and .env.example to a page, a section of it ("docs/api.md, 'Decisions other apps can
read'") or a file ("see .env.example") resolves. A section that moves breaks this test, not the
reader's trust."""

from __future__ import annotations

import re
import unicodedata
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
PAGES = [ROOT / "README.md", *sorted((ROOT / "docs").rglob("*.md"))]
SOURCES = [
    *sorted((ROOT / "bot").rglob("*.py")),
    ROOT / ".env.example",
    ROOT / "manifest.yml",
    ROOT / "roster.example.yml",
    *sorted((ROOT / "scripts").iterdir()),
    *PAGES,
]
LINK = re.compile(r"\[[^\]]*\]\(([^)\s]+)\)")
PAGE_SECTION = re.compile(r"""((?:docs/[\w/-]+\.md)|README(?:\.md)?)(?:,\s*["'“]([^"'”]+)["'”])?""")
SEE_FILE = re.compile(r"\bsee (\.?[\w/-]+\.(?:md|example|yml|toml))\b")
HEADING = re.compile(r"^#{1,6}\s+(.+?)\s*$", re.M)


def slug(heading: str) -> str:
    """Python-Markdown's (and so mkdocs') anchor for a heading."""
    text = unicodedata.normalize("NFKD", heading).encode("ascii", "ignore").decode()
    text = re.sub(r"[^\w\s-]", "", text).strip().lower()
    return re.sub(r"[-\s]+", "-", text)


def headings(page: Path) -> set[str]:
    text = re.sub(r"```.*?```", "", page.read_text(encoding="utf-8"), flags=re.S)
    return {h.strip("`*") for h in HEADING.findall(text)}


def test_every_link_in_the_docs_leads_somewhere() -> None:
    broken = []
    count = 0
    for page in PAGES:
        for target in LINK.findall(page.read_text(encoding="utf-8")):
            if target.startswith(("http://", "https://", "mailto:")):
                continue
            count += 1
            path, _, anchor = target.partition("#")
            found = (page.parent / path).resolve() if path else page
            if not found.exists():
                broken.append(f"{page.relative_to(ROOT)}: {target} (no such file)")
            elif anchor and found.suffix == ".md" and anchor not in {slug(h) for h in headings(found)}:
                broken.append(f"{page.relative_to(ROOT)}: {target} (no such section)")
    assert count > 20, "the docs link nowhere: the pattern is wrong"
    assert not broken, "\n".join(broken)


def test_every_reference_in_code_and_messages_resolves() -> None:
    broken = []
    sections = 0
    for source in SOURCES:
        if not source.is_file():
            continue
        text = source.read_text(encoding="utf-8")
        for page, section in PAGE_SECTION.findall(text):
            target = ROOT / ("README.md" if page.startswith("README") else page)
            if not target.exists():
                broken.append(f"{source.relative_to(ROOT)}: {page} (no such page)")
            elif section:
                sections += 1
                if section not in headings(target):
                    broken.append(f"{source.relative_to(ROOT)}: {page}, {section!r} (no such section)")
        for name in SEE_FILE.findall(text):
            if not (ROOT / name).exists() and not any(ROOT.rglob(Path(name).name)):
                broken.append(f"{source.relative_to(ROOT)}: see {name} (no such file)")
    assert sections >= 3, "no section references found: the pattern is wrong"
    assert not broken, "\n".join(broken)
