"""Who signoff is to GitHub: a JWT signed as the App (RS256), exchanged for installation tokens.

An App JWT lives at most 10 minutes (we ask for 9, issued 60 s in the past for clock drift); an
installation token lives an hour and is kept until shortly before it expires. The tokens are
this process's own credentials, so each replica keeps its own: nothing here needs to agree
across replicas.
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from pathlib import Path

import jwt
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa

JWT_LIFETIME = 9 * 60
JWT_BACKDATE = 60
TOKEN_MARGIN = 5 * 60  # a cached installation token is renewed this long before it expires


def load_private_key(value: str) -> str:
    """The App's private key as PEM text, from the text itself or a path to the .pem file;
    ValueError (a settings error, exit 3) when it is neither, or not an RSA private key."""
    text = value.strip()
    if not text.startswith("-----BEGIN"):
        path = Path(text).expanduser()
        try:
            text = path.read_text(encoding="utf-8").strip()
        except (OSError, UnicodeDecodeError) as exc:
            raise ValueError(f"is neither a PEM key nor a readable file ({type(exc).__name__})") from None
    text = text.replace("\\n", "\n")  # a PEM pasted into one line of an .env file
    try:
        key = serialization.load_pem_private_key(text.encode(), password=None)
    except (ValueError, TypeError):
        raise ValueError("is not a PEM private key without a passphrase") from None
    if not isinstance(key, rsa.RSAPrivateKey):
        raise ValueError("is not an RSA private key (GitHub Apps sign with RS256)")
    return text


def app_jwt(app_id: int, private_key: str, now: float | None = None) -> str:
    issued = int(now if now is not None else time.time()) - JWT_BACKDATE
    claims = {"iat": issued, "exp": issued + JWT_BACKDATE + JWT_LIFETIME, "iss": str(app_id)}
    return str(jwt.encode(claims, private_key, algorithm="RS256"))


@dataclass
class InstallationToken:
    token: str
    expires_at: float  # time.time()

    def __repr__(self) -> str:
        return f"InstallationToken(expires_at={self.expires_at:.0f})"

    def fresh(self, now: float) -> bool:
        return now < self.expires_at - TOKEN_MARGIN
