"""DATABASE_URL: which backend it names, checked before anything opens."""

from __future__ import annotations

from urllib.parse import urlsplit

SQLITE = "sqlite:///"
POSTGRES = ("postgresql://", "postgres://")


def check_url(url: str) -> None:
    """Raise ValueError (a message without the URL, which may hold a password) unless ``url`` is usable."""
    if url.startswith(SQLITE):
        if len(url) <= len(SQLITE):
            raise ValueError("must name a file, e.g. sqlite:///signoff.db")
        return
    if url.startswith(POSTGRES):
        try:
            parts = urlsplit(url)
            parts.port  # noqa: B018 - raises ValueError on a bad port
        except ValueError:
            raise ValueError("is not a valid postgresql:// URL (check the host and port)") from None
        if not parts.path.strip("/"):
            raise ValueError("must name a database, e.g. postgresql://signoff@db.internal:5432/signoff")
        return
    raise ValueError("must start with sqlite:/// (one process) or postgresql:// (several replicas)")


def sqlite_path(url: str) -> str | None:
    return url.removeprefix(SQLITE) if url.startswith(SQLITE) else None
