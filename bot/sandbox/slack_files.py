"""File uploads as Slack takes them today (files.upload was retired in November 2025):
``files.getUploadURLExternal`` (form-encoded ``filename`` and ``length``) answers an
``upload_url`` and a ``file_id``; the bytes are POSTed to that URL; ``files.completeUploadExternal``
(``files``: a JSON list of ``{"id", "title"}``, and optionally ``channel_id``) finishes it. A file
may be shown in a message's image block (``slack_file``) once it is complete, by the app that
uploaded it. The stand-in refuses what Slack refuses: a wrong length, an unknown or unfinished
file, a file completed twice."""

from __future__ import annotations

import itertools
import json
from dataclasses import dataclass
from typing import Any

from aiohttp import web

UPLOAD_MAX = 1024 * 1024 * 1024


@dataclass
class StoredFile:
    id: str
    filename: str
    length: int
    data: bytes | None = None  # None until the bytes arrive
    title: str = ""
    complete: bool = False
    channel: str | None = None  # shared there on completion; None: private to the app


class FileUploads:
    """The stand-in's file store and the two Web API methods (mixed into SlackStandIn)."""

    port: int

    def __init__(self) -> None:
        self.files: dict[str, StoredFile] = {}
        self._file_ids = itertools.count(1)

    def file_routes(self, app: web.Application) -> None:
        app.router.add_post("/upload/{file_id}", self._upload)

    def _m_files_getUploadURLExternal(self, args: dict[str, Any]) -> dict[str, Any]:
        filename = str(args.get("filename") or "")
        length = str(args.get("length") or "")
        if not filename or not length.isdigit() or not 0 < int(length) <= UPLOAD_MAX:
            return {"ok": False, "error": "invalid_arguments"}
        file_id = f"F0{next(self._file_ids):08d}"
        self.files[file_id] = StoredFile(file_id, filename, int(length))
        return {"ok": True, "upload_url": f"http://127.0.0.1:{self.port}/upload/{file_id}", "file_id": file_id}

    async def _upload(self, request: web.Request) -> web.Response:
        stored = self.files.get(request.match_info["file_id"])
        if stored is None or stored.complete:
            return web.Response(status=404, text="not found")
        data = await request.read()
        if len(data) != stored.length:
            return web.Response(status=400, text=f"expected {stored.length} bytes, got {len(data)}")
        stored.data = data
        return web.Response(text=f"OK - {len(data)}")

    def _m_files_completeUploadExternal(self, args: dict[str, Any]) -> dict[str, Any]:
        try:
            listed = json.loads(str(args.get("files") or ""))
        except ValueError:
            return {"ok": False, "error": "invalid_arguments"}
        if not isinstance(listed, list) or not listed or not all(isinstance(f, dict) for f in listed):
            return {"ok": False, "error": "invalid_arguments"}
        found = [self.files.get(str(f.get("id"))) for f in listed]
        if any(f is None or f.data is None for f in found):
            return {"ok": False, "error": "file_not_found"}
        if any(f is not None and f.complete for f in found):
            return {"ok": False, "error": "file_already_completed"}
        channel = args.get("channel_id")
        done = []
        for stored, item in zip(found, listed, strict=True):
            assert stored is not None
            stored.complete, stored.title = True, str(item.get("title") or stored.filename)
            stored.channel = str(channel) if channel else None
            done.append({"id": stored.id, "title": stored.title})
        return {"ok": True, "files": done}

    def unknown_files(self, blocks: Any) -> list[str]:
        """The ``slack_file`` ids in ``blocks`` that are not complete uploads (Slack refuses those)."""
        wanted: list[str] = []

        def walk(obj: Any) -> None:
            if isinstance(obj, list):
                for item in obj:
                    walk(item)
            elif isinstance(obj, dict):
                ref = obj.get("slack_file")
                if isinstance(ref, dict):
                    wanted.append(str(ref.get("id") or ref.get("url") or ""))
                for value in obj.values():
                    walk(value)

        walk(blocks)
        return [f for f in wanted if f not in self.files or not self.files[f].complete]
