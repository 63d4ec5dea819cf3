"""An OIDC ID token for the CLI, so a pipeline proves who it is instead of holding an API token.

``SIGNOFF_OIDC_TOKEN`` holds one (GitLab's ``id_tokens:`` puts it there), or, inside GitHub
Actions with ``permissions: id-token: write``, the CLI asks the runner for one with the audience
``SIGNOFF_OIDC_AUDIENCE`` (``signoff`` by default), and asks again when signoff says it
expired during a long wait.
"""

from __future__ import annotations

import json
import urllib.error
import urllib.parse
import urllib.request
from collections.abc import Callable, Mapping

from bot.gate.client import GateError

DEFAULT_AUDIENCE = "signoff"
FETCH_SECONDS = 10


def from_environment(env: Mapping[str, str]) -> Callable[[], str] | None:
    """How to get an ID token here, or None when there is none to get."""
    given = env.get("SIGNOFF_OIDC_TOKEN", "").strip()
    if given:
        return lambda: given
    url = env.get("ACTIONS_ID_TOKEN_REQUEST_URL", "").strip()
    bearer = env.get("ACTIONS_ID_TOKEN_REQUEST_TOKEN", "").strip()
    if url and bearer:
        audience = env.get("SIGNOFF_OIDC_AUDIENCE", "").strip() or DEFAULT_AUDIENCE
        return lambda: github_actions_token(url, bearer, audience)
    return None


def github_actions_token(url: str, bearer: str, audience: str) -> str:
    """Ask the GitHub Actions runner for an ID token with this audience."""
    full = url + ("&" if "?" in url else "?") + "audience=" + urllib.parse.quote(audience, safe="")
    request = urllib.request.Request(full, headers={"Authorization": f"bearer {bearer}", "Accept": "application/json"})
    try:
        with urllib.request.urlopen(request, timeout=FETCH_SECONDS) as resp:
            body = json.loads(resp.read(64 * 1024))
    except (urllib.error.URLError, OSError, TimeoutError, ValueError) as exc:
        raise GateError(
            f"could not get an ID token from GitHub Actions ({type(exc).__name__}); does the job have "
            "`permissions: id-token: write`?"
        ) from None
    value = body.get("value") if isinstance(body, dict) else None
    if not isinstance(value, str) or not value:
        raise GateError("GitHub Actions answered without an ID token")
    return value
