"""Pipelines that prove who they are: OIDC ID tokens from GitHub Actions and GitLab CI.

``Authorization: Bearer <ID token>`` is accepted wherever an API token is, when the token's
issuer is in ``OIDC_ISSUERS`` (``issuer=audience`` pairs). The signature is checked with the
issuer's keys (its JWKS, found through ``/.well-known/openid-configuration``, cached, fetched
again for an unknown ``kid``), with RS256 only (so neither ``alg: none`` nor an HS256 token
signed with the public key passes), and ``iss``, ``aud``, ``exp``, ``nbf`` and ``iat`` with a
little clock skew. The repository or project must match ``OIDC_ALLOW`` (``glob=service``
pairs): a token from elsewhere is refused. What the request says of the pipeline (its
repository, ref, commit, environment and run) then comes from the token's claims, not the body.

The keys are fetched with the standard library in a worker thread, so the event loop never
waits on the issuer.
"""

from __future__ import annotations

import asyncio
import fnmatch
import ipaddress
import json
import time
import urllib.parse
import urllib.request
from dataclasses import dataclass
from typing import Any

import jwt

from bot.domain.errors import NotThisPipeline, Unauthenticated, Unavailable

LEEWAY_SECONDS = 30
FETCH_SECONDS = 5.0
KEYS_KEPT_SECONDS = 3600
ALGORITHMS = ["RS256"]


@dataclass(frozen=True)
class Issuer:
    url: str
    audience: str


@dataclass(frozen=True)
class AllowRule:
    pattern: str  # a glob over owner/repo (GitHub) or group/project (GitLab)
    service: str


@dataclass(frozen=True)
class PipelineIdentity:
    """Who asks over the API: a static token's name, or a verified pipeline."""

    pipeline: str  # recorded on the request and in the audit: the token's name, or oidc:<repository>
    kind: str = "token"  # token | oidc
    platform: str = ""  # github | gitlab, for oidc
    human: str = ""  # the person behind the run: GitHub's actor, GitLab's user_login
    repository: str = ""
    ref: str = ""
    sha: str = ""
    environment: str = ""
    run: str = ""
    service: str = ""


def parse_issuers(raw: str) -> list[Issuer]:
    issuers = []
    for i, pair in enumerate(p.strip() for p in raw.split(",")):
        if not pair:
            continue
        url, sep, audience = pair.rpartition("=")
        url, audience = url.strip().rstrip("/"), audience.strip()
        if not sep or not url or not audience:
            raise ValueError(f"entry {i + 1} is not issuer=audience")
        parts = urllib.parse.urlsplit(url)
        if parts.scheme != "https" and not (parts.scheme == "http" and _loopback(parts.hostname or "")):
            raise ValueError(f"the issuer {url!r} must be an https:// URL")
        issuers.append(Issuer(url, audience))
    return issuers


def parse_allow(raw: str) -> list[AllowRule]:
    rules = []
    for i, pair in enumerate(p.strip() for p in raw.split(",")):
        if not pair:
            continue
        pattern, sep, service = pair.partition("=")
        if not sep or not pattern.strip() or not service.strip():
            raise ValueError(f"entry {i + 1} is not repository-glob=service")
        rules.append(AllowRule(pattern.strip(), service.strip()))
    return rules


def _loopback(host: str) -> bool:
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return host == "localhost"


def looks_like_jwt(token: str) -> bool:
    return token.count(".") == 2 and token.startswith("ey")


class OidcVerifier:
    def __init__(self, issuers: list[Issuer], allow: list[AllowRule]) -> None:
        self._issuers = {i.url: i for i in issuers}
        self._allow = allow
        self._clients: dict[str, tuple[jwt.PyJWKClient, float]] = {}
        self._lock = asyncio.Lock()

    def __repr__(self) -> str:
        return f"OidcVerifier(issuers={sorted(self._issuers)})"

    @property
    def enabled(self) -> bool:
        return bool(self._issuers)

    async def identity(self, token: str) -> PipelineIdentity:
        """The verified pipeline behind ``token``; Unauthenticated (401) for a token that is not
        valid, NotThisPipeline (403) for a valid one from outside the allow-list."""
        try:
            unverified = jwt.decode(token, options={"verify_signature": False})
            header = jwt.get_unverified_header(token)
        except jwt.PyJWTError:
            raise Unauthenticated("The bearer token is neither an API token nor a readable ID token.") from None
        issuer = self._issuers.get(str(unverified.get("iss", "")).rstrip("/"))
        if issuer is None:
            raise Unauthenticated("The ID token's issuer is not one signoff trusts (OIDC_ISSUERS).")
        if header.get("alg") not in ALGORITHMS:
            raise Unauthenticated(f"The ID token is not signed with {', '.join(ALGORITHMS)}.")
        key = await self._key(issuer, token)
        try:
            claims = jwt.decode(
                token, key, algorithms=ALGORITHMS, audience=issuer.audience, issuer=issuer.url,
                leeway=LEEWAY_SECONDS, options={"require": ["exp", "iat", "iss", "aud"]},
            )  # fmt: skip
        except jwt.ExpiredSignatureError:
            raise Unauthenticated("The ID token has expired; mint a new one for this step.") from None
        except jwt.ImmatureSignatureError:
            raise Unauthenticated("The ID token is not valid yet (nbf or iat in the future).") from None
        except jwt.InvalidAudienceError:
            raise Unauthenticated(f"The ID token is for another audience; ask for {issuer.audience!r}.") from None
        except jwt.PyJWTError as exc:
            raise Unauthenticated(f"The ID token is not valid ({type(exc).__name__}).") from None
        return self._pipeline(claims)

    async def _key(self, issuer: Issuer, token: str) -> Any:
        client = await self._client(issuer)
        try:
            signing = await asyncio.to_thread(client.get_signing_key_from_jwt, token)
        except jwt.PyJWKClientConnectionError:
            raise Unavailable("The ID token's issuer did not give its keys; try again in a moment.") from None
        except jwt.PyJWKClientError:
            raise Unauthenticated("The ID token is signed with a key its issuer does not publish.") from None
        return signing.key

    async def _client(self, issuer: Issuer) -> jwt.PyJWKClient:
        async with self._lock:
            kept = self._clients.get(issuer.url)
            if kept is not None and time.monotonic() - kept[1] < KEYS_KEPT_SECONDS:
                return kept[0]
            try:
                jwks_uri = await asyncio.to_thread(_jwks_uri, issuer.url)
            except (OSError, ValueError):
                raise Unavailable("The ID token's issuer could not be reached; try again in a moment.") from None
            client = jwt.PyJWKClient(jwks_uri, cache_keys=True, lifespan=KEYS_KEPT_SECONDS, timeout=int(FETCH_SECONDS))
            self._clients[issuer.url] = (client, time.monotonic())
            return client

    def _pipeline(self, claims: dict[str, Any]) -> PipelineIdentity:
        gitlab = "project_path" in claims
        repository = str(claims.get("project_path" if gitlab else "repository") or "")
        rule = next((r for r in self._allow if repository and fnmatch.fnmatchcase(repository, r.pattern)), None)
        if rule is None:
            raise NotThisPipeline(f"Pipelines of {repository or 'this repository'} may not ask signoff (OIDC_ALLOW).")
        return PipelineIdentity(
            pipeline=f"oidc:{repository}"[:200],
            kind="oidc",
            platform="gitlab" if gitlab else "github",
            human=str(claims.get("user_login" if gitlab else "actor") or ""),
            repository=repository,
            ref=str(claims.get("ref") or ""),
            sha=str(claims.get("sha") or ""),
            environment=str(claims.get("environment") or ""),
            run=str(claims.get("pipeline_id" if gitlab else "run_id") or ""),
            service=rule.service,
        )


def _jwks_uri(issuer: str) -> str:
    with urllib.request.urlopen(f"{issuer}/.well-known/openid-configuration", timeout=FETCH_SECONDS) as resp:
        doc = json.loads(resp.read(256 * 1024))
    uri = doc.get("jwks_uri") if isinstance(doc, dict) else None
    if not isinstance(uri, str) or not uri.startswith(("https://", "http://")):
        raise ValueError("no jwks_uri")
    return uri
