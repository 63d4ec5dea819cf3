"""Fuzzing: arbitrary API bodies and Slack payloads get a 4xx or a clear reply, never a 500,
and bad input never writes anything."""

from __future__ import annotations

import asyncio
import json
import threading
import urllib.error
import urllib.request
from collections.abc import Iterator
from typing import Any
from urllib.parse import urlencode

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from bot.domain.errors import InvalidInput, MalformedPayload
from bot.domain.models import parse_ref
from bot.domain.validation import validate_draft
from bot.http.api import ACCEPTED
from bot.slack.listeners.payloads import check_shape, form_values
from tests.fakes.signing import sign
from tests.harness import CI_TOKEN, Harness, running

FUZZ = settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
FIELDS = sorted(ACCEPTED)  # every field of a request, and break_glass
json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(max_size=40),
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=10), inner, max_size=4),
    max_leaves=12,
)
bodies = st.dictionaries(st.sampled_from(FIELDS) | st.text(max_size=12), json_values, max_size=8)


class LiveBot:
    """The real bot on its own event loop thread, so synchronous Hypothesis tests can call it."""

    def __init__(self, tmp: Any) -> None:
        self.loop = asyncio.new_event_loop()
        self.thread = threading.Thread(target=self.loop.run_forever, daemon=True)
        self.thread.start()
        self._cm = running(tmp)
        self.h: Harness = self._run(self._cm.__aenter__())

    def _run(self, coro: Any) -> Any:
        return asyncio.run_coroutine_threadsafe(coro, self.loop).result(60)

    def counts(self) -> dict[str, int]:
        async def read() -> dict[str, int]:
            out = {}
            for table in ("requests", "decisions", "outbox", "audit"):
                row = await self.h.fetchone(f"SELECT COUNT(*) FROM {table}")
                out[table] = int(row[0]) if row else -1
            return out

        return dict(self._run(read()))

    def post(self, path: str, data: bytes, headers: dict[str, str]) -> tuple[int, bytes]:
        req = urllib.request.Request(self.h.url + path, data=data, headers=headers, method="POST")
        try:
            with urllib.request.urlopen(req, timeout=30) as resp:
                return resp.status, resp.read()
        except urllib.error.HTTPError as err:
            return err.code, err.read()

    def close(self) -> None:
        self._run(self._cm.__aexit__(None, None, None))
        self.loop.call_soon_threadsafe(self.loop.stop)
        self.thread.join(10)


@pytest.fixture(scope="module")
def live(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LiveBot]:
    bot = LiveBot(tmp_path_factory.mktemp("fuzz"))
    yield bot
    bot.close()


def api(live: LiveBot, data: bytes) -> tuple[int, Any]:
    status, raw = live.post(
        "/api/v1/requests", data, {"Authorization": f"Bearer {CI_TOKEN}", "Content-Type": "application/json"}
    )
    return status, json.loads(raw)


@FUZZ
@given(body=bodies)
def test_api_bodies(live: LiveBot, body: dict[str, Any]) -> None:
    before = live.counts()
    status, reply = api(live, json.dumps(body).encode())
    assert status in (201, 400, 422, 503), reply
    assert isinstance(reply.get("message") or reply.get("id"), str)
    if status != 201:
        assert live.counts() == before


verify_bodies = st.dictionaries(
    st.sampled_from(["sha256"]) | st.text(max_size=8),
    json_values | st.lists(st.sampled_from(["a" * 64, "A" * 64, "0" * 63, ""]), max_size=3),
    max_size=3,
)


@FUZZ
@given(body=verify_bodies, ref=st.sampled_from(["CR-1", "CR-999", "1", "CR-x", "%C2%B2"]))
def test_verify_bodies(live: LiveBot, body: dict[str, Any], ref: str) -> None:
    """Whatever is sent to verify: an answer or a JSON error, never a 500; only an answer is audited."""
    before = live.counts()
    status, raw = live.post(
        f"/api/v1/requests/{ref}/verify",
        json.dumps(body).encode(),
        {"Authorization": f"Bearer {CI_TOKEN}", "Content-Type": "application/json"},
    )
    reply = json.loads(raw)
    assert status in (200, 404, 422), reply
    after = live.counts()
    assert after["requests"] == before["requests"] and after["decisions"] == before["decisions"]
    if status == 200:
        assert reply["result"] in ("match", "mismatch", "not_approved")
        assert after["audit"] == before["audit"] + 1
    else:
        assert reply["message"] and after["audit"] == before["audit"]


@FUZZ
@given(raw=st.binary(max_size=300))
def test_api_raw_bytes(live: LiveBot, raw: bytes) -> None:
    before = live.counts()
    status, reply = api(live, raw)
    assert status in (400, 422) and reply["message"]
    assert live.counts() == before


slack_payloads = st.fixed_dictionaries(
    {"type": st.sampled_from(["block_actions", "view_submission", "view_closed", "shortcut", "message_action", "x"])},
    optional={
        "user": st.dictionaries(st.sampled_from(["id", "name"]), json_values, max_size=2),
        "actions": st.lists(
            st.dictionaries(st.sampled_from(["action_id", "value", "action_ts"]), json_values), max_size=2
        ),
        "view": st.dictionaries(
            st.sampled_from(["id", "type", "callback_id", "state", "private_metadata"]), json_values | st.just("x")
        ),
        "trigger_id": json_values,
        "response_url": st.just("http://127.0.0.1:9/nowhere"),
    },
)


@FUZZ
@given(payload=slack_payloads)
def test_slack_payloads(live: LiveBot, payload: dict[str, Any]) -> None:
    before = live.counts()
    body = urlencode({"payload": json.dumps(payload)})
    status, _ = live.post(
        "/slack/events", body.encode(), {"Content-Type": "application/x-www-form-urlencoded", **sign(body)}
    )
    assert status in (200, 400, 404)
    assert live.counts() == before


@FUZZ
@given(
    text=st.text(max_size=200).filter(
        lambda t: t.strip().partition(" ")[0].lower() not in ("", "summary", "away", "back", "breakglass")
    )
)
def test_slash_command_text(live: LiveBot, text: str) -> None:
    before = live.counts()
    body = live.h.driver.command_body("U0JUNIOR1", text)
    status, raw = live.post(
        "/slack/events", body.encode(), {"Content-Type": "application/x-www-form-urlencoded", **sign(body)}
    )
    assert status == 200
    assert json.loads(raw)["text"]
    after = live.counts()
    assert after["requests"] == before["requests"] and after["decisions"] == before["decisions"]


@FUZZ
@given(body=bodies)
def test_validation_raises_only_field_errors(body: dict[str, Any]) -> None:
    try:
        validate_draft(body)
    except InvalidInput as err:
        assert err.fields and all(isinstance(v, str) and v for v in err.fields.values())


@FUZZ
@given(payload=json_values)
def test_payload_shape_check_raises_only_malformed(payload: Any) -> None:
    if not isinstance(payload, dict):
        return
    try:
        check_shape(payload)
    except MalformedPayload as err:
        assert err.message
    form_values(payload)
    parse_ref(str(payload))
