"""A pipeline that can mint an OIDC ID token proves who it is: the API takes the token wherever
it takes an API token, the request's commit, environment and service come from the claims,
and the requester is the person behind the run, through the roster. A token that is not valid
(another issuer or audience, expired, not yet valid, an unknown key, `alg: none`, HS256 keyed
with the public key) is 401; one from a repository outside the allow-list, or naming another
requester, is 403; none of them stores a request, and every refusal is audited."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from tests.cli import run
from tests.fakes.oidc import RUNNER_SECRET, IssuerStandIn
from tests.harness import ROSTER, Harness, running

OIDC_ROSTER = ROSTER.replace(
    "{user: U0JUNIOR1, level: junior, team: payments}",
    "{user: U0JUNIOR1, level: junior, team: payments, github: june-j, gitlab: june.gl}",
)
BODY = {"title": "Deploy the shop", "url": "https://git.example.com/acme/shop/pull/7", "ai_assisted": True}


@pytest.fixture
async def issuer() -> AsyncIterator[IssuerStandIn]:
    stand_in = IssuerStandIn()
    await stand_in.start()
    try:
        yield stand_in
    finally:
        await stand_in.stop()


@pytest.fixture
async def h(tmp_path: Path, issuer: IssuerStandIn) -> AsyncIterator[Harness]:
    async with running(
        tmp_path,
        roster=OIDC_ROSTER,
        OIDC_ISSUERS=f"{issuer.url}=signoff",
        OIDC_ALLOW="acme/shop=shop,acme/bill*=billing",
    ) as harness:
        yield harness


async def test_a_github_token_asks_as_the_person_behind_the_run(h: Harness, issuer: IssuerStandIn) -> None:
    token = issuer.mint(issuer.github_claims())
    body = {**BODY, "commit": "c" * 40, "environment": "staging", "service": "other"}
    status, answer = await h.api("POST", "/api/v1/requests", body, token=token)
    assert status == 201, answer
    assert (answer["requester"], answer["commit"], answer["environment"], answer["service"]) == (
        "U0JUNIOR1",
        "a" * 40,
        "production",
        "shop",
    )  # the claims win over the body
    assert answer["pipeline"] == "oidc:acme/shop"
    row = await h.fetchone("SELECT details FROM audit WHERE action = 'requested'")
    assert json.loads(row[0])["identity"] == "oidc" and json.loads(row[0])["pipeline"] == "oidc:acme/shop"
    status, again = await h.api("GET", f"/api/v1/requests/{answer['id']}", token=token)
    assert status == 200 and again["id"] == answer["id"]


async def test_a_gitlab_token_asks_as_the_person_behind_the_pipeline(h: Harness, issuer: IssuerStandIn) -> None:
    status, answer = await h.api("POST", "/api/v1/requests", BODY, token=issuer.mint(issuer.gitlab_claims()))
    assert status == 201, answer
    assert (answer["requester"], answer["service"], answer["pipeline"]) == ("U0JUNIOR1", "billing", "oidc:acme/billing")


async def test_every_bad_token_is_refused_and_stores_nothing(h: Harness, issuer: IssuerStandIn) -> None:
    claims = issuer.github_claims()
    cases = [
        (issuer.mint({**claims, "iss": "https://token.elsewhere.example"}), 401, "issuer"),
        (issuer.mint({**claims, "aud": "somebody-else"}), 401, "audience"),
        (issuer.mint({**claims, "exp": claims["iat"] - 120, "iat": claims["iat"] - 600}), 401, "expired"),
        (issuer.mint({**claims, "nbf": claims["iat"] + 600}), 401, "not valid yet"),
        (issuer.mint(claims, kid="k9", key=issuer.stranger), 401, "does not publish"),
        (issuer.unsigned(claims), 401, "RS256"),
        (issuer.hs256_with_public_key(claims), 401, "RS256"),
        (issuer.mint({**claims, "repository": "evil/shop"}), 403, "OIDC_ALLOW"),
        (issuer.mint({**claims, "actor": "mallory"}), 403, "does not know the GitHub user mallory"),
    ]
    for token, expected, words in cases:
        status, answer = await h.api("POST", "/api/v1/requests", BODY, token=token)
        assert (status, words in answer["message"]) == (expected, True), (words, answer)
    assert await h.count_requests() == 0
    assert await h.audit_actions("refused") >= 1  # recorded, at most a row per source each minute


async def test_a_requester_that_disagrees_with_the_token_is_refused(h: Harness, issuer: IssuerStandIn) -> None:
    token = issuer.mint(issuer.github_claims())
    status, answer = await h.api("POST", "/api/v1/requests", {**BODY, "requester": "U0SENIOR1"}, token=token)
    assert status == 403 and "the person who ran this pipeline" in answer["message"]
    assert await h.count_requests() == 0
    status, answer = await h.api("POST", "/api/v1/requests", {**BODY, "requester": "U0JUNIOR1"}, token=token)
    assert status == 201  # naming the same person is fine


async def test_static_api_tokens_keep_working_beside_oidc(h: Harness) -> None:
    status, answer = await h.api("POST", "/api/v1/requests", {**BODY, "requester": "U0JUNIOR1"})
    assert status == 201 and answer["pipeline"] == "ci"
    row = await h.fetchone("SELECT details FROM audit WHERE action = 'requested'")
    assert json.loads(row[0])["identity"] == "token"


async def test_the_cli_gets_its_token_from_github_actions(h: Harness, issuer: IssuerStandIn) -> None:
    env = {
        "ACTIONS_ID_TOKEN_REQUEST_URL": f"{issuer.url}/actions-token?api-version=2.0",
        "ACTIONS_ID_TOKEN_REQUEST_TOKEN": RUNNER_SECRET,
        "SIGNOFF_TOKEN": "",
    }
    result = await run(h, "request", "--title", "Deploy", "--url", "https://x.example/1", "--ai-assisted", env=env)
    assert result.code == 2 and "CR-1" in result.out, result.err  # asked, and pending
    assert (await h.get("CR-1")).requester == "U0JUNIOR1"
    bad = await run(h, "request", "--title", "Deploy", "--url", "https://x.example/1", "--ai-assisted",
                    env={**env, "ACTIONS_ID_TOKEN_REQUEST_TOKEN": "wrong"})  # fmt: skip
    assert bad.code == 3 and "id-token: write" in bad.err
