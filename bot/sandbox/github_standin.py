"""A stand-in for GitHub's REST API and webhooks, for signoff as a GitHub App: the sandbox's,
and the tests'.

It refuses what GitHub refuses: an App JWT not signed with the App's key (or expired, or for
another App), an installation token it did not issue or that expired, a token of another
installation, an answer for a run that does not wait on this App's rule, and a second answer
for one run's environment. It records every answer and status report, and can send a
deployment's webhook, signed with the webhook secret, as GitHub would.
"""

from __future__ import annotations

import hashlib
import hmac
import itertools
import json
import secrets
import time
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

import aiohttp
import jwt
from aiohttp import web
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa

APP_ID = 424242
WEBHOOK_SECRET = "github-webhook-secret-for-tests"
INSTALLATION = 77


def key_pair() -> tuple[str, Any]:
    """A new App key: (the private key as PEM, the public key GitHub keeps)."""
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    pem = key.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
    ).decode()
    return pem, key.public_key()


@dataclass
class Run:
    run_id: int
    repo: str
    environment: str
    deployment_id: int
    sha: str
    creator: str
    waiting: bool = True  # waiting on this App's protection rule
    answers: list[dict[str, Any]] = field(default_factory=list)  # each accepted state answer
    reports: list[str] = field(default_factory=list)  # status reports (comment, no state)


@dataclass
class Commit:
    sha: str
    message: str
    login: str = "june-j"
    name: str = "June Junior"
    email: str = "june@example.com"


class GitHubStandIn:
    def __init__(self, webhook_secret: str = WEBHOOK_SECRET) -> None:
        self.private_key, self._public_key = key_pair()
        self.webhook_secret = webhook_secret
        self.runs: dict[int, Run] = {}
        self.commits: dict[str, list[Commit]] = {}  # repo -> commits, oldest first
        self.successful: dict[tuple[str, str], str] = {}  # (repo, environment) -> last successful sha
        self.tokens: dict[str, tuple[int, float]] = {}  # token -> (installation, expires at)
        self.token_lifetime = 3600.0
        self.refusals: list[str] = []  # why calls were refused, for tests to read
        self.calls: list[str] = []
        self.fail_next: dict[str, list[int]] = {}  # call ("review", "access_token") -> statuses to answer next
        self.repos: dict[str, int] = {"acme/shop": INSTALLATION}
        self._ids = itertools.count(1000)
        self._runner: web.AppRunner | None = None
        self.url = ""

    async def start(self) -> None:
        app = web.Application()
        app.router.add_post("/app/installations/{inst}/access_tokens", self._access_token)
        app.router.add_get("/app/installations", self._installations)
        app.router.add_get("/installation/repositories", self._repositories)
        app.router.add_post("/repos/{owner}/{repo}/actions/runs/{run}/deployment_protection_rule", self._review)
        app.router.add_get("/repos/{owner}/{repo}/actions/runs", self._waiting_runs)
        app.router.add_get("/repos/{owner}/{repo}/deployments", self._deployments)
        app.router.add_get("/repos/{owner}/{repo}/deployments/{id}/statuses", self._statuses)
        app.router.add_get("/repos/{owner}/{repo}/compare/{spec}", self._compare)
        app.router.add_get("/repos/{owner}/{repo}/commits/{sha}", self._commit)
        self._runner = web.AppRunner(app, access_log=None, shutdown_timeout=1.0)
        await self._runner.setup()
        site = web.TCPSite(self._runner, "127.0.0.1", 0)
        await site.start()
        port = self._runner.addresses[0][1]
        self.url = f"http://127.0.0.1:{port}"

    async def stop(self) -> None:
        if self._runner is not None:
            await self._runner.cleanup()

    # ---- what a test does -----------------------------------------------------------------------

    def settings(self) -> dict[str, Any]:
        return {
            "GITHUB_APP_ID": APP_ID,
            "GITHUB_APP_PRIVATE_KEY": self.private_key,
            "GITHUB_WEBHOOK_SECRET": self.webhook_secret,
            "GITHUB_API_URL": self.url,
            "GITHUB_SWEEP_EVERY": "30s",
        }

    def state_of(self, run: Run) -> str:
        """How GitHub shows the run: held, approved or rejected."""
        return run.answers[-1]["state"] if run.answers else "held"

    def deploy(self, creator: str = "june-j", environment: str = "production", repo: str = "acme/shop") -> Run:
        """A workflow run that deploys the repository's newest commit and waits on signoff."""
        commits = self.commits.get(repo) or []
        sha = commits[-1].sha if commits else hashlib.sha1(str(next(self._ids)).encode()).hexdigest()
        run = Run(next(self._ids), repo, environment, next(self._ids), sha, creator)
        self.runs[run.run_id] = run
        return run

    def payload(self, run: Run) -> dict[str, Any]:
        return {
            "action": "requested",
            "environment": run.environment,
            "event": "push",
            "deployment_callback_url": f"{self.url}/repos/{run.repo}/actions/runs/{run.run_id}/"
            "deployment_protection_rule",
            "deployment": {
                "id": run.deployment_id,
                "sha": run.sha,
                "ref": "main",
                "environment": run.environment,
                "creator": {"login": run.creator},
            },
            "repository": {"full_name": run.repo},
            "installation": {"id": self.repos[run.repo]},
            "sender": {"login": run.creator},
        }

    async def deliver(
        self, session: aiohttp.ClientSession, bot_url: str, run: Run, secret: str | None = None,
        event: str = "deployment_protection_rule", body: bytes | None = None,
    ) -> tuple[int, Any]:  # fmt: skip
        """Send the run's webhook as GitHub does, signed with the webhook secret (or ``secret``)."""
        raw = body if body is not None else json.dumps(self.payload(run)).encode()
        key = (secret if secret is not None else self.webhook_secret).encode()
        signature = "sha256=" + hmac.new(key, raw, hashlib.sha256).hexdigest()
        headers = {
            "X-GitHub-Event": event,
            "X-GitHub-Delivery": secrets.token_hex(8),
            "X-Hub-Signature-256": signature,
            "Content-Type": "application/json",
        }
        async with session.post(f"{bot_url}/github/webhook", data=raw, headers=headers) as resp:
            text = await resp.text()
            return resp.status, json.loads(text) if text else None

    def add_commit(self, message: str, repo: str = "acme/shop", **who: str) -> Commit:
        commit = Commit(hashlib.sha1(f"{repo}{message}{time.time_ns()}".encode()).hexdigest(), message, **who)
        self.commits.setdefault(repo, []).append(commit)
        return commit

    # ---- authentication, as GitHub refuses it -----------------------------------------------------

    def _refuse(self, status: int, message: str) -> web.Response:
        self.refusals.append(message)
        return web.json_response({"message": message}, status=status)

    def _injected(self, call: str) -> web.Response | None:
        if self.fail_next.get(call):
            status = self.fail_next[call].pop(0)
            return web.json_response({"message": "injected failure"}, status=status)
        return None

    def _app(self, request: web.Request) -> str | None:
        """Why the App JWT is refused, or None."""
        header = request.headers.get("Authorization", "")
        if not header.startswith("Bearer "):
            return "an App JWT is required"
        try:
            claims = jwt.decode(
                header[7:], self._public_key, algorithms=["RS256"], options={"require": ["iat", "exp", "iss"]}
            )
        except jwt.PyJWTError as exc:
            return f"a JWT could not be decoded: {type(exc).__name__}"
        if str(claims["iss"]) != str(APP_ID):
            return "the JWT is for another App"
        if claims["exp"] - claims["iat"] > 600:
            return "the JWT lives longer than 10 minutes"
        return None

    def _installation(self, request: web.Request) -> int | str:
        """The installation a token belongs to, or why it is refused."""
        header = request.headers.get("Authorization", "")
        if not header.startswith("token "):
            return "an installation token is required"
        found = self.tokens.get(header[6:])
        if found is None:
            return "Bad credentials"
        installation, expires = found
        if time.time() >= expires:
            return "Bad credentials: the token expired"
        return installation

    def _repo_token(self, request: web.Request) -> web.Response | None:
        repo = f"{request.match_info['owner']}/{request.match_info['repo']}"
        installation = self._installation(request)
        if isinstance(installation, str):
            return self._refuse(401, installation)
        if self.repos.get(repo) != installation:
            return self._refuse(404, "Not Found: the installation cannot see this repository")
        return None

    async def _access_token(self, request: web.Request) -> web.Response:
        self.calls.append("access_token")
        injected = self._injected("access_token")
        if injected is not None:
            return injected
        why = self._app(request)
        if why is not None:
            return self._refuse(401, why)
        installation = int(request.match_info["inst"])
        if installation not in self.repos.values():
            return self._refuse(404, "Not Found: no such installation")
        token = "ghs_" + secrets.token_hex(16)
        expires = time.time() + self.token_lifetime
        self.tokens[token] = (installation, expires)
        at = datetime.fromtimestamp(expires, UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
        return web.json_response({"token": token, "expires_at": at}, status=201)

    async def _installations(self, request: web.Request) -> web.Response:
        why = self._app(request)
        if why is not None:
            return self._refuse(401, why)
        return web.json_response([{"id": i} for i in sorted(set(self.repos.values()))])

    async def _repositories(self, request: web.Request) -> web.Response:
        installation = self._installation(request)
        if isinstance(installation, str):
            return self._refuse(401, installation)
        names = [r for r, i in self.repos.items() if i == installation]
        return web.json_response({"repositories": [{"full_name": n} for n in names]})

    # ---- the protection rule ----------------------------------------------------------------------

    async def _review(self, request: web.Request) -> web.Response:
        self.calls.append("review")
        injected = self._injected("review")
        if injected is not None:
            return injected
        refused = self._repo_token(request)
        if refused is not None:
            return refused
        run = self.runs.get(int(request.match_info["run"]))
        body = await request.json()
        if run is None or not run.waiting or body.get("environment_name") != run.environment:
            return self._refuse(422, "No pending deployment protection rule of this app for that environment")
        state, comment = body.get("state"), body.get("comment")
        if state is None:
            if not isinstance(comment, str) or not comment:
                return self._refuse(422, "comment is required when state is not provided")
            run.reports.append(comment)
            return web.Response(status=204)
        if state not in ("approved", "rejected"):
            return self._refuse(422, "state must be approved or rejected")
        if run.answers:
            return self._refuse(422, "This deployment protection rule was already reviewed")
        run.answers.append({"state": state, "comment": comment or ""})
        run.waiting = False
        return web.Response(status=204)

    async def _waiting_runs(self, request: web.Request) -> web.Response:
        refused = self._repo_token(request)
        if refused is not None:
            return refused
        repo = f"{request.match_info['owner']}/{request.match_info['repo']}"
        runs = [r for r in self.runs.values() if r.repo == repo and r.waiting]
        listed = [{"id": r.run_id, "head_sha": r.sha, "html_url": f"https://github.example/{repo}/actions/runs/{r.run_id}"}
                  for r in runs]  # fmt: skip
        return web.json_response({"total_count": len(listed), "workflow_runs": listed})

    async def _deployments(self, request: web.Request) -> web.Response:
        refused = self._repo_token(request)
        if refused is not None:
            return refused
        repo = f"{request.match_info['owner']}/{request.match_info['repo']}"
        sha, env = request.query.get("sha"), request.query.get("environment")
        found = [
            {"id": r.deployment_id, "sha": r.sha, "ref": "main", "environment": r.environment,
             "creator": {"login": r.creator}}
            for r in sorted(self.runs.values(), key=lambda r: -r.deployment_id)
            if r.repo == repo and (sha is None or r.sha == sha) and (env is None or r.environment == env)
        ]  # fmt: skip
        for (srepo, senv), ssha in self.successful.items():
            if srepo == repo and (env is None or env == senv):
                found.append({"id": 1, "sha": ssha, "ref": "main", "environment": senv, "creator": {"login": "x"}})
        return web.json_response(found)

    async def _statuses(self, request: web.Request) -> web.Response:
        refused = self._repo_token(request)
        if refused is not None:
            return refused
        deployment = int(request.match_info["id"])
        if deployment == 1:
            return web.json_response([{"state": "success"}])
        run = next((r for r in self.runs.values() if r.deployment_id == deployment), None)
        if run is None:
            return web.json_response([])
        return web.json_response([{"state": "waiting" if run.waiting else "success"}])

    async def _compare(self, request: web.Request) -> web.Response:
        refused = self._repo_token(request)
        if refused is not None:
            return refused
        repo = f"{request.match_info['owner']}/{request.match_info['repo']}"
        base, _, head = request.match_info["spec"].partition("...")
        commits = self.commits.get(repo, [])
        shas = [c.sha for c in commits]
        start = shas.index(base) + 1 if base in shas else 0
        end = shas.index(head) + 1 if head in shas else len(commits)
        chosen = commits[start:end]
        return web.json_response({"total_commits": len(chosen), "commits": [_commit_json(c) for c in chosen]})

    async def _commit(self, request: web.Request) -> web.Response:
        refused = self._repo_token(request)
        if refused is not None:
            return refused
        repo = f"{request.match_info['owner']}/{request.match_info['repo']}"
        found = next((c for c in self.commits.get(repo, []) if c.sha == request.match_info["sha"]), None)
        if found is None:
            return self._refuse(404, "No commit found for SHA")
        return web.json_response(_commit_json(found))


def _commit_json(c: Commit) -> dict[str, Any]:
    person = {"name": c.name, "email": c.email, "date": "2026-12-01T10:00:00Z"}
    return {"sha": c.sha, "commit": {"message": c.message, "author": person, "committer": person},
            "author": {"login": c.login}}  # fmt: skip
