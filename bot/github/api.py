"""The GitHub REST calls signoff makes, as its App: the answer to a deployment protection rule,
progress reports on the run, the commits a deployment brings, and the waiting deployments the
sweep looks for. Every call is bounded in time; an installation token GitHub no longer takes is
dropped and asked for again, once."""

from __future__ import annotations

import asyncio
import json
import logging
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any
from urllib.parse import quote

import aiohttp

from bot.domain.deployments import Answer, Deployment
from bot.github.app_auth import InstallationToken, app_jwt

log = logging.getLogger(__name__)
CALL_SECONDS = 10.0
ACCEPT = "application/vnd.github+json"
API_VERSION = "2022-11-28"
MAX_COMMITS = 250  # the compare API's first page; more is reported as "and more"


class GitHubUnavailable(Exception):
    """GitHub did not answer, or answered 5xx or 429: try again later."""


class GitHubRefused(Exception):
    """GitHub refused the call for good (4xx other than a stale token): do not repeat it."""


@dataclass(frozen=True)
class Commit:
    sha: str
    message: str
    author_login: str
    people: list[tuple[str, str, str]]  # (role, name, email) of its author and committer


@dataclass
class Provenance:
    commits: list[Commit] = field(default_factory=list)
    base: str | None = None  # the last successful deployment's commit, when one was found
    more: bool = False


class GitHubApp:
    def __init__(
        self,
        app_id: int,
        private_key: str,
        api_url: str,
        session: Callable[[], aiohttp.ClientSession | None],
        wall: Callable[[], float] = time.time,
    ) -> None:
        self._app_id = app_id
        self._key = private_key
        self.api_url = api_url.rstrip("/")
        self._session = session
        self._wall = wall
        self._tokens: dict[int, InstallationToken] = {}
        self._locks: dict[int, asyncio.Lock] = {}

    def __repr__(self) -> str:
        return f"GitHubApp(app_id={self._app_id}, api_url={self.api_url!r})"

    def owns(self, url: str) -> bool:
        """Whether ``url`` is on the configured GitHub API: tokens are only ever sent there."""
        return url.startswith(self.api_url + "/")

    # ---- the calls ----------------------------------------------------------------------------

    async def answer(self, d: Deployment, answer: Answer, comment: str) -> None:
        await self._call(
            "POST", d.callback_url, d.installation_id,
            {"environment_name": d.environment, "state": answer.value, "comment": comment},
        )  # fmt: skip

    async def report(self, d: Deployment, comment: str) -> None:
        """A status report on the run while it waits: the answer's call without a state."""
        await self._call(
            "POST", d.callback_url, d.installation_id, {"environment_name": d.environment, "comment": comment}
        )

    async def provenance(self, d: Deployment) -> Provenance:
        """The commits this deployment brings: from the environment's last successful deployment
        to its commit (the compare API), or the commit alone when there was none."""
        repo = d.repository
        base = await self._last_success(d)
        if base is not None and base != d.sha:
            body = await self._call("GET", f"/repos/{repo}/compare/{base}...{d.sha}", d.installation_id)
            raw = body.get("commits") if isinstance(body, dict) else None
            commits = [c for c in (_commit(x) for x in raw or []) if c is not None]
            total = body.get("total_commits") if isinstance(body, dict) else None
            more = isinstance(total, int) and total > len(commits)
            return Provenance(commits[:MAX_COMMITS], base, more)
        one = _commit(await self._call("GET", f"/repos/{repo}/commits/{d.sha}", d.installation_id))
        return Provenance([one] if one is not None else [], base)

    async def _last_success(self, d: Deployment) -> str | None:
        env = quote(d.environment, safe="")
        listed = await self._call("GET", f"/repos/{d.repository}/deployments?environment={env}&per_page=10",
                                  d.installation_id)  # fmt: skip
        for item in listed if isinstance(listed, list) else []:
            if not isinstance(item, dict) or item.get("id") == d.deployment_id:
                continue
            statuses = await self._call(
                "GET", f"/repos/{d.repository}/deployments/{item.get('id')}/statuses?per_page=1", d.installation_id
            )
            if isinstance(statuses, list) and statuses and statuses[0].get("state") == "success":
                sha = item.get("sha")
                return str(sha) if isinstance(sha, str) else None
        return None

    async def waiting(self) -> list[Deployment]:
        """Deployments of every installed repository that wait on a protection rule now (the sweep)."""
        found: list[Deployment] = []
        installations = await self._call("GET", "/app/installations?per_page=100", None)
        for inst in installations if isinstance(installations, list) else []:
            installation = inst.get("id") if isinstance(inst, dict) else None
            if not isinstance(installation, int):
                continue
            repos = await self._call("GET", "/installation/repositories?per_page=100", installation)
            for repo in (repos or {}).get("repositories", []) if isinstance(repos, dict) else []:
                name = repo.get("full_name") if isinstance(repo, dict) else None
                if isinstance(name, str):
                    found += await self._waiting_in(installation, name)
        return found

    async def _waiting_in(self, installation: int, repo: str) -> list[Deployment]:
        runs = await self._call("GET", f"/repos/{repo}/actions/runs?status=waiting&per_page=50", installation)
        found = []
        for run in (runs or {}).get("workflow_runs", []) if isinstance(runs, dict) else []:
            run_id, sha = run.get("id"), run.get("head_sha")
            if not isinstance(run_id, int) or not isinstance(sha, str):
                continue
            deployments = await self._call("GET", f"/repos/{repo}/deployments?sha={sha}&per_page=20", installation)
            for item in deployments if isinstance(deployments, list) else []:
                statuses = await self._call(
                    "GET", f"/repos/{repo}/deployments/{item.get('id')}/statuses?per_page=1", installation
                )
                if not (isinstance(statuses, list) and statuses and statuses[0].get("state") == "waiting"):
                    continue
                creator = item.get("creator") if isinstance(item.get("creator"), dict) else {}
                found.append(
                    Deployment(
                        deployment_id=int(item["id"]),
                        installation_id=installation,
                        repository=repo,
                        environment=str(item.get("environment") or ""),
                        sha=sha,
                        ref=str(item.get("ref") or ""),
                        creator=str(creator.get("login") or ""),
                        run_url=str(run.get("html_url") or ""),
                        callback_url=f"{self.api_url}/repos/{repo}/actions/runs/{run_id}/deployment_protection_rule",
                        via="sweep",
                    )
                )
        return found

    # ---- plumbing -----------------------------------------------------------------------------

    async def _token(self, installation: int) -> str:
        lock = self._locks.setdefault(installation, asyncio.Lock())
        async with lock:  # one exchange at a time per installation
            cached = self._tokens.get(installation)
            if cached is not None and cached.fresh(self._wall()):
                return cached.token
            body = await self._send(
                "POST", f"{self.api_url}/app/installations/{installation}/access_tokens", self._jwt_header(), None
            )
            token, expires = body.get("token"), body.get("expires_at")
            if not isinstance(token, str) or not isinstance(expires, str):
                raise GitHubUnavailable("GitHub answered the installation token request without a token")
            at = datetime.fromisoformat(expires.replace("Z", "+00:00")).astimezone(UTC).timestamp()
            self._tokens[installation] = InstallationToken(token, at)
            return token

    def _jwt_header(self) -> dict[str, str]:
        return {"Authorization": f"Bearer {app_jwt(self._app_id, self._key, self._wall())}"}

    async def _call(self, method: str, path: str, installation: int | None, body: Any = None) -> Any:
        url = path if path.startswith(("http://", "https://")) else self.api_url + path
        if not self.owns(url):
            raise GitHubRefused(f"{url[:200]} is not on {self.api_url}; no token is sent there")
        for attempt in (1, 2):
            headers = (
                self._jwt_header()
                if installation is None
                else {"Authorization": f"token {await self._token(installation)}"}
            )
            try:
                return await self._send(method, url, headers, body)
            except _StaleToken:
                self._tokens.pop(installation or 0, None)
                if attempt == 2:
                    raise GitHubRefused("GitHub refused a fresh installation token") from None
        raise AssertionError("unreachable")  # pragma: no cover

    async def _send(self, method: str, url: str, headers: dict[str, str], body: Any) -> Any:
        session = self._session()
        if session is None:
            raise GitHubUnavailable("not started")
        all_headers = {"Accept": ACCEPT, "X-GitHub-Api-Version": API_VERSION, **headers}
        try:
            async with session.request(
                method, url, json=body, headers=all_headers, timeout=aiohttp.ClientTimeout(total=CALL_SECONDS)
            ) as resp:
                text = await resp.text()
                status = resp.status
        except (aiohttp.ClientError, TimeoutError, OSError) as exc:
            raise GitHubUnavailable(f"{type(exc).__name__}") from None
        data = _json(text)
        if status == 401:
            raise _StaleToken()
        if status == 429 or status >= 500:
            raise GitHubUnavailable(f"HTTP {status}")
        if status >= 400:
            message = data.get("message") if isinstance(data, dict) else None
            raise GitHubRefused(f"HTTP {status}: {str(message or 'refused')[:200]}")
        return data


class _StaleToken(Exception):
    pass


def _json(text: str) -> Any:
    try:
        return json.loads(text) if text else None
    except (json.JSONDecodeError, RecursionError):
        return None


def _commit(raw: Any) -> Commit | None:
    if not isinstance(raw, dict) or not isinstance(raw.get("sha"), str):
        return None
    inner: dict[str, Any] = raw["commit"] if isinstance(raw.get("commit"), dict) else {}
    people = []
    for role in ("author", "committer"):
        who: dict[str, Any] = inner[role] if isinstance(inner.get(role), dict) else {}
        people.append((role, str(who.get("name") or ""), str(who.get("email") or "")))
    author: dict[str, Any] = raw["author"] if isinstance(raw.get("author"), dict) else {}
    return Commit(str(raw["sha"]), str(inner.get("message") or ""), str(author.get("login") or ""), people)
