"""Printing benchmark results: a Markdown table per measurement, PASS or MISS per target."""

from __future__ import annotations

from typing import Any


def table(title: str, rows: list[dict[str, Any]]) -> None:
    print(f"\n## {title}")
    if not rows:
        return
    cols = list(rows[0])
    widths = [max(len(str(c)), *(len(str(r.get(c, ""))) for r in rows)) for c in cols]
    print("| " + " | ".join(str(c).ljust(w) for c, w in zip(cols, widths, strict=True)) + " |")
    print("|" + "|".join("-" * (w + 2) for w in widths) + "|")
    for r in rows:
        print("| " + " | ".join(str(r.get(c, "")).ljust(w) for c, w in zip(cols, widths, strict=True)) + " |")


def verdict(ok: bool) -> str:
    return "PASS" if ok else "MISS"
