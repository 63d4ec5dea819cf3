"""A stand-in OIDC issuer (GitHub Actions' or GitLab's): its own RSA keys, a discovery document
and a JWKS endpoint, minting ID tokens good and bad, and a GitHub Actions runner's token
endpoint for the CLI."""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import time
from typing import Any

import jwt
from aiohttp import web
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa

AUDIENCE = "signoff"
RUNNER_SECRET = "runner-request-token-for-tests"


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


class IssuerStandIn:
    def __init__(self) -> None:
        self.key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
        self.stranger = rsa.generate_private_key(public_exponent=65537, key_size=2048)  # a key it never publishes
        self.url = ""
        self.jwks_fetches = 0
        self._runner: web.AppRunner | None = None

    async def start(self) -> None:
        app = web.Application()
        app.router.add_get("/.well-known/openid-configuration", self._discovery)
        app.router.add_get("/jwks", self._jwks)
        app.router.add_get("/actions-token", self._actions_token)
        self._runner = web.AppRunner(app)
        await self._runner.setup()
        site = web.TCPSite(self._runner, "127.0.0.1", 0)
        await site.start()
        self.url = f"http://127.0.0.1:{self._runner.addresses[0][1]}"

    async def stop(self) -> None:
        if self._runner is not None:
            await self._runner.cleanup()

    def github_claims(self, **extra: Any) -> dict[str, Any]:
        now = int(time.time())
        claims = {
            "iss": self.url, "aud": AUDIENCE, "iat": now, "nbf": now, "exp": now + 300,
            "repository": "acme/shop", "ref": "refs/heads/main", "sha": "a" * 40, "environment": "production",
            "run_id": "9001", "actor": "june-j", "sub": "repo:acme/shop:environment:production",
        }  # fmt: skip
        claims.update(extra)
        return claims

    def gitlab_claims(self, **extra: Any) -> dict[str, Any]:
        now = int(time.time())
        claims = {
            "iss": self.url, "aud": AUDIENCE, "iat": now, "nbf": now, "exp": now + 300,
            "project_path": "acme/billing", "ref": "main", "sha": "b" * 40, "environment": "production",
            "pipeline_id": "4242", "user_login": "june.gl", "sub": "project_path:acme/billing:ref_type:branch:ref:main",
        }  # fmt: skip
        claims.update(extra)
        return claims

    def mint(self, claims: dict[str, Any], kid: str = "k1", key: Any = None) -> str:
        return jwt.encode(claims, key or self.key, algorithm="RS256", headers={"kid": kid})

    def unsigned(self, claims: dict[str, Any]) -> str:
        """``alg: none``."""
        return f"{_b64(json.dumps({'alg': 'none', 'typ': 'JWT'}).encode())}.{_b64(json.dumps(claims).encode())}."

    def hs256_with_public_key(self, claims: dict[str, Any]) -> str:
        """HS256, keyed with the issuer's public key: the old algorithm-confusion attack."""
        public = self.key.public_key().public_bytes(
            serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
        )
        head = _b64(json.dumps({"alg": "HS256", "typ": "JWT", "kid": "k1"}).encode())
        body = _b64(json.dumps(claims).encode())
        signature = hmac.new(public, f"{head}.{body}".encode(), hashlib.sha256).digest()
        return f"{head}.{body}.{_b64(signature)}"

    async def _discovery(self, _: web.Request) -> web.Response:
        return web.json_response({"issuer": self.url, "jwks_uri": f"{self.url}/jwks"})

    async def _jwks(self, _: web.Request) -> web.Response:
        self.jwks_fetches += 1
        public = json.loads(jwt.algorithms.RSAAlgorithm.to_jwk(self.key.public_key()))
        return web.json_response({"keys": [{**public, "kid": "k1", "use": "sig", "alg": "RS256"}]})

    async def _actions_token(self, request: web.Request) -> web.Response:
        if request.headers.get("Authorization") != f"bearer {RUNNER_SECRET}":
            return web.json_response({"message": "bad request token"}, status=401)
        audience = request.query.get("audience", "")
        return web.json_response({"value": self.mint(self.github_claims(aud=audience))})
