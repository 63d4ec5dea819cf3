"""GitHub's webhook: its signature, and the deployment a ``deployment_protection_rule`` names."""

from __future__ import annotations

import hashlib
import hmac
import re
from typing import Any

from bot.domain.deployments import Deployment
from bot.domain.errors import InvalidInput

_SHA = re.compile(r"[0-9a-fA-F]{7,64}", re.ASCII)
_REPO = re.compile(r"[A-Za-z0-9_.-]{1,100}/[A-Za-z0-9_.-]{1,100}", re.ASCII)
TEXT_MAX = 200


def signed(secret: bytes, body: bytes, header: str | None) -> bool:
    """Whether ``X-Hub-Signature-256`` is GitHub's HMAC of ``body``; compared in constant time."""
    if not header or not header.startswith("sha256="):
        return False
    expected = "sha256=" + hmac.new(secret, body, hashlib.sha256).hexdigest()
    return hmac.compare_digest(expected.encode(), header.strip().encode())


def deployment_of(payload: dict[str, Any], api_url: str) -> Deployment:
    """The deployment a ``deployment_protection_rule`` (action ``requested``) holds, or InvalidInput
    naming each field that is missing or wrong. Its callback must be on the configured API, so a
    payload can never make signoff send its token elsewhere."""
    errors: dict[str, str] = {}
    deployment = _object(payload, "deployment")
    installation = _object(payload, "installation")
    repository = _object(payload, "repository")
    creator = _object(deployment, "creator")
    sender = _object(payload, "sender")

    deployment_id, installation_id = deployment.get("id"), installation.get("id")
    if not _positive(deployment_id):
        errors["deployment.id"] = "must be GitHub's deployment id"
    if not _positive(installation_id):
        errors["installation.id"] = "must be the App installation's id"
    repo = repository.get("full_name")
    if not isinstance(repo, str) or not _REPO.fullmatch(repo):
        errors["repository.full_name"] = "must be owner/name"
    environment = payload.get("environment")
    if not isinstance(environment, str) or not environment.strip() or len(environment) > TEXT_MAX:
        errors["environment"] = "must be the environment's name"
    sha = deployment.get("sha")
    if not isinstance(sha, str) or not _SHA.fullmatch(sha):
        errors["deployment.sha"] = "must be a commit SHA"
    callback = payload.get("deployment_callback_url")
    if not isinstance(callback, str) or not callback.startswith(api_url.rstrip("/") + "/repos/"):
        errors["deployment_callback_url"] = f"must be a URL on {api_url}"
    login = creator.get("login") or sender.get("login")
    if not isinstance(login, str) or not login or len(login) > TEXT_MAX:
        errors["deployment.creator.login"] = "must be the GitHub login that started the deployment"
    if errors:
        raise InvalidInput(errors)
    run_url = _run_url(payload, str(repo), str(callback), api_url)
    ref = deployment.get("ref")
    return Deployment(
        deployment_id=int(deployment_id),  # type: ignore[arg-type]
        installation_id=int(installation_id),  # type: ignore[arg-type]
        repository=str(repo),
        environment=str(environment).strip(),
        sha=str(sha).lower(),
        ref=str(ref)[:TEXT_MAX] if isinstance(ref, str) else "",
        creator=str(login),
        run_url=run_url,
        callback_url=str(callback),
    )


def _positive(value: Any) -> bool:
    return isinstance(value, int) and not isinstance(value, bool) and value > 0


def _object(parent: dict[str, Any], key: str) -> dict[str, Any]:
    value = parent.get(key)
    return value if isinstance(value, dict) else {}


def web_url(api_url: str) -> str:
    """GitHub's pages for people: github.com for api.github.com; the host of a GitHub Enterprise
    Server's ``https://HOST/api/v3``."""
    base = api_url.rstrip("/")
    if base == "https://api.github.com":
        return "https://github.com"
    return base.removesuffix("/api/v3")


def _run_url(payload: dict[str, Any], repo: str, callback: str, api_url: str) -> str:
    """The run's page for people: GitHub's own link when given, else built from the callback."""
    link = _object(payload, "workflow_run").get("html_url")
    if isinstance(link, str) and link.startswith(("https://", "http://")):
        return link[:2000]
    match = re.search(r"/actions/runs/(\d+)/", callback)
    run = f"/actions/runs/{match.group(1)}" if match else "/actions"
    return f"{web_url(api_url)}/{repo}{run}"
