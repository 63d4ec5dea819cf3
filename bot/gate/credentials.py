"""`signoff guard --credentials CMD`: production credentials released only after the approval.

CMD runs once the approval is verified (never before, never when it is not), and what it
prints goes into the approved command's environment alone: it is never printed, logged, sent
to signoff or stored. It may print ``KEY=value`` lines (``export KEY=value`` and quoted values
too), a JSON object of names to strings, or the JSON of ``aws sts assume-role`` /
``get-session-token`` (its ``Credentials`` become ``AWS_ACCESS_KEY_ID``,
``AWS_SECRET_ACCESS_KEY`` and ``AWS_SESSION_TOKEN``). Its standard error passes through, for
its own error messages. A CMD that fails, prints nothing usable or runs past ``LIMIT`` is
stopped and guard exits 3 without running the command.
"""

from __future__ import annotations

import json
import re
import shlex
import subprocess
from collections.abc import Mapping

from bot.gate.client import GateError

LIMIT_SECONDS = 120.0
MAX_OUTPUT = 1024 * 1024
_NAME = re.compile(r"[A-Za-z_][A-Za-z0-9_]*", re.ASCII)
_AWS = {
    "AccessKeyId": "AWS_ACCESS_KEY_ID",
    "SecretAccessKey": "AWS_SECRET_ACCESS_KEY",
    "SessionToken": "AWS_SESSION_TOKEN",
}


class Credentials(Mapping[str, str]):
    """Names and secret values; its repr and str name the variables, never the values."""

    def __init__(self, values: dict[str, str]) -> None:
        self._values = dict(values)

    def __getitem__(self, key: str) -> str:
        return self._values[key]

    def __iter__(self):  # type: ignore[no-untyped-def]
        return iter(self._values)

    def __len__(self) -> int:
        return len(self._values)

    def __repr__(self) -> str:
        return f"Credentials({', '.join(sorted(self._values))})"

    __str__ = __repr__


def fetch(command: str, env: Mapping[str, str], limit: float = LIMIT_SECONDS) -> Credentials:
    """Run ``command`` with the shell and read the credentials it prints, or GateError."""
    try:
        proc = subprocess.Popen(
            ["/bin/sh", "-c", command], stdin=subprocess.DEVNULL, stdout=subprocess.PIPE, env=dict(env)
        )
    except OSError as exc:
        raise GateError(f"the credentials command cannot start ({exc.strerror or exc})") from None
    try:
        out, _ = proc.communicate(timeout=limit)
    except subprocess.TimeoutExpired:
        proc.kill()
        proc.communicate()
        raise GateError(f"the credentials command did not finish within {limit:.0f}s; it was stopped") from None
    except BaseException:  # a signal while it runs: nothing of it is left running
        proc.kill()
        proc.wait()
        raise
    if proc.returncode != 0:
        raise GateError(f"the credentials command failed (exit code {proc.returncode}); not running the command")
    values = parse(out[:MAX_OUTPUT])
    if not values:
        raise GateError(
            "the credentials command printed no credentials (expected KEY=value lines, a JSON object of names to "
            "strings, or aws sts JSON); not running the command"
        )
    return Credentials(values)


def parse(raw: bytes) -> dict[str, str]:
    """The variables in what a credentials command printed; {} when it is none of the forms."""
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError:
        return {}
    try:
        doc = json.loads(text)
    except (json.JSONDecodeError, RecursionError):
        return _lines(text)
    if isinstance(doc, dict) and isinstance(doc.get("Credentials"), dict):
        aws = doc["Credentials"]
        found = {var: aws[key] for key, var in _AWS.items() if isinstance(aws.get(key), str)}
        return found if "AWS_ACCESS_KEY_ID" in found and "AWS_SECRET_ACCESS_KEY" in found else {}
    if isinstance(doc, dict) and doc and all(isinstance(v, str) and _NAME.fullmatch(k) for k, v in doc.items()):
        return {str(k): str(v) for k, v in doc.items()}
    return {}


def _lines(text: str) -> dict[str, str]:
    found: dict[str, str] = {}
    for line in text.splitlines():
        line = line.strip()
        if not line or line.startswith("#"):
            continue
        line = line.removeprefix("export ").strip()
        name, eq, value = line.partition("=")
        if not eq or not _NAME.fullmatch(name):
            return {}
        try:
            words = shlex.split(value) if value else [""]
        except ValueError:
            return {}
        if len(words) != 1:
            return {}
        found[name] = words[0]
    return found
