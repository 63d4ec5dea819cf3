"""/api/v1/openapi.json describes what the API really answers: every status a call returns is
documented for that operation, and every body matches the documented schema."""

from __future__ import annotations

from typing import Any

from jsonschema import Draft202012Validator

from bot.http.api import ACCEPTED
from bot.slack import ids
from tests.harness import Harness

BODY = {
    "requester": "U0JUNIOR1",
    "title": "t",
    "url": "https://e.example/pr/1",
    "ai_assisted": True,
    "destructive": False,
}


def check(doc: dict[str, Any], path: str, method: str, status: int, body: Any) -> None:
    operation = doc["paths"][path][method.lower()]
    assert str(status) in operation["responses"], f"{method} {path} answered {status}, which is not documented"
    schema = operation["responses"][str(status)]["content"]["application/json"]["schema"]
    validator = Draft202012Validator({**schema, "components": doc["components"]})
    errors = sorted(validator.iter_errors(body), key=str)
    assert not errors, f"{method} {path} {status}: {errors[0].message}"


async def test_real_responses_match_the_description(h: Harness) -> None:
    status, doc = await h.api("GET", "/api/v1/openapi.json", token=None)
    assert status == 200 and doc["openapi"].startswith("3.1")
    Draft202012Validator.check_schema(doc["components"]["schemas"]["Request"])
    assert set(doc["components"]["schemas"]["NewRequest"]["properties"]) == set(ACCEPTED)
    post, get, verify = "/api/v1/requests", "/api/v1/requests/{id}", "/api/v1/requests/{id}/verify"
    plan = {"sha256": ["a" * 64], "formats": ["terraform"], "deletes": 1,
            "resources": [{"address": "aws_db_instance.main", "action": "delete", "reason": "gone"}]}  # fmt: skip
    calls: list[tuple[str, str, str, Any, dict[str, Any]]] = [
        (post, "POST", post, BODY, {"Idempotency-Key": "k1"}),
        (post, "POST", post, BODY, {"Idempotency-Key": "k1"}),
        (post, "POST", post, {**BODY, "title": ""}, {}),
        (post, "POST", post, {**BODY, "requester": "nobody@example.com"}, {}),
        (post, "POST", post, {**BODY, "ai_assisted": False}, {}),
        (get, "GET", "/api/v1/requests/CR-1", None, {}),
        (get, "GET", "/api/v1/requests/CR-77", None, {}),
        (get, "GET", "/api/v1/requests/CR-1?wait=99", None, {}),
        (post, "PUT", post, BODY, {}),
        (post, "POST", post, {**BODY, "plan": plan, "destructive": None}, {}),
        (post, "POST", post, {**BODY, "break_glass": "Checkout is down"}, {}),
        (post, "POST", post, {**BODY, "plan": {"sha256": "x"}}, {}),
        (verify, "POST", "/api/v1/requests/CR-1/verify", {"sha256": ["a" * 64]}, {}),
        (verify, "POST", "/api/v1/requests/CR-4/verify", {"sha256": ["a" * 64]}, {}),
        (verify, "POST", "/api/v1/requests/CR-77/verify", {"sha256": ["a" * 64]}, {}),
        (verify, "POST", "/api/v1/requests/CR-1/verify", {"sha256": ["nope"]}, {}),
        (verify, "POST", "/api/v1/requests/CR-1/verify", {"command": "terraform apply", "workdir": "/srv"}, {}),
        (
            post,
            "POST",
            post,
            {**BODY, "command": "terraform apply", "workdir": "/srv", "asked_again_after": "CR-1"},
            {},
        ),
    ]
    seen = set()
    for path, method, url, body, headers in calls:
        status, reply = await h.api(method, url, body, headers=headers)
        check(doc, path, "POST" if method == "PUT" else method, status, reply)
        seen.add((path, status))
    for raw, expected in ((b"{", 400), (b'"' + b"x" * 600_000 + b'"', 413)):
        status, reply = await h.api("POST", post, raw=raw)
        assert status == expected
        check(doc, post, "POST", status, reply)
        seen.add((post, status))
    status, reply = await h.api("GET", "/api/v1/requests/CR-1", token="bad-token-0123456789abcdefghijk")
    check(doc, get, "GET", status, reply)
    await h.settle()
    await h.driver.click("U0SENIOR1", ids.APPROVE, "1")
    status, reply = await h.api("GET", "/api/v1/requests/CR-1")
    assert reply["status"] == "approved"
    check(doc, get, "GET", status, reply)
    assert {s for _, s in seen} >= {200, 201, 400, 404, 405, 413, 422}
