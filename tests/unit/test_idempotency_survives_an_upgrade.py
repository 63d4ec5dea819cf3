"""A pipeline that retries across an upgrade gets its earlier request back: the idempotency
fingerprint of a request that uses no newer field is what the earlier version stored."""

from __future__ import annotations

import hashlib
import json

import pytest

from bot.domain.models import Draft
from bot.domain.plan_summary import PlanSummary
from bot.gate.asking import RUN_ID_VARIABLES, idempotency_key
from bot.services.create_request import Submission

DRAFT = Draft("Bump timeout", "https://e.example/pr/1", True, service="payments", authors=("U0X",), commit="ab12")


def stored_before(sub: Submission) -> str:
    """The fingerprint as signoff wrote it before destructive, plan and break-glass existed."""
    d = sub.draft
    draft = {
        "title": d.title, "url": d.url, "ai_assisted": d.ai_assisted, "description": d.description,
        "service": d.service, "environment": d.environment, "ai_tool": d.ai_tool,
        "authors": list(d.authors), "commit": d.commit,
    }  # fmt: skip
    body = {"requester": sub.requester, "draft": draft, "source": sub.source}
    return hashlib.sha256(json.dumps(body, sort_keys=True).encode()).hexdigest()


def test_a_request_without_newer_fields_keeps_its_fingerprint() -> None:
    sub = Submission("U0JUNIOR1", DRAFT, source="api", idempotency_key="k")
    assert sub.fingerprint() == stored_before(sub)


def test_newer_fields_change_the_fingerprint_when_given() -> None:
    plain = Submission("U0JUNIOR1", DRAFT, source="api")
    said = Submission("U0JUNIOR1", Draft(**{**DRAFT.__dict__, "destructive": False}), source="api")
    planned = Submission(
        "U0JUNIOR1", Draft(**{**DRAFT.__dict__, "plan": PlanSummary(("a" * 64,), ("terraform",))}), source="api"
    )
    glass = Submission("U0JUNIOR1", DRAFT, source="api", break_glass="down")
    assert len({plain.fingerprint(), said.fingerprint(), planned.fingerprint(), glass.fingerprint()}) == 4


def test_the_clis_derived_key_is_unchanged_without_a_plan(monkeypatch: pytest.MonkeyPatch) -> None:
    """A CI job retried with a newer CLI asks once: the key of a request without a plan or
    break-glass is derived as before; a plan or break-glass gives a key of its own."""
    for name in RUN_ID_VARIABLES:
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("GITHUB_RUN_ID", "4242")
    body = {"commit": "ab12", "environment": "production", "service": "payments"}
    before = "cli-" + hashlib.sha256(b"4242|ab12|production|payments").hexdigest()[:40]
    assert idempotency_key(None, body) == before
    planned = idempotency_key(None, {**body, "plan": {"sha256": ["a" * 64]}})
    glass = idempotency_key(None, {**body, "break_glass": "down"})
    assert len({before, planned, glass}) == 3
