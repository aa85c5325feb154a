"""Credentials of the embedded warehouse: a personal access token and an OAuth M2M client.

Both are generated once and kept in files readable only by the user (0600) under the data
folder, so `warehouse serve` and the in-process transport agree on them across restarts. OAuth
access tokens handed out by `/oidc/v1/token` live in memory for an hour, like the real ones.
Nothing here logs or echoes a secret.
"""

from __future__ import annotations

import base64
import binascii
import contextlib
import hmac
import json
import os
import secrets
import tempfile
import threading
import time
import uuid
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import unquote_plus

from core.embedded.errors import AuthError

__all__ = ["ACCESS_TOKEN_TTL_S", "Credentials", "Principal", "basic_credentials"]

ACCESS_TOKEN_TTL_S = 3600
TOKEN_FILE = "token"
CLIENT_FILE = "oauth-client.json"


@dataclass(frozen=True)
class Principal:
    """Who a request authenticated as."""

    kind: str  # "user" (the access token) or "service_principal" (an OAuth client)
    name: str


def _write_once(path: Path, content: str) -> str:
    """Create `path` (0600) holding `content` unless it already exists; return what it holds.

    Written to a temporary file and hard-linked into place, so a concurrent reader never sees a
    half-written secret and two processes starting at once agree on one value.
    """
    if not path.exists():
        fd, temporary = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.")
        try:
            with os.fdopen(fd, "w", encoding="utf-8") as handle:
                handle.write(content)
            os.chmod(temporary, 0o600)
            with contextlib.suppress(FileExistsError):
                os.link(temporary, path)
        finally:
            os.unlink(temporary)
    if path.stat().st_mode & 0o077:
        os.chmod(path, 0o600)
    return path.read_text(encoding="utf-8").strip()


class Credentials:
    """The warehouse's secrets and the checks that use them."""

    def __init__(self, folder: Path) -> None:
        folder.mkdir(mode=0o700, parents=True, exist_ok=True)
        self.token = _write_once(folder / TOKEN_FILE, "dapi" + secrets.token_hex(16))
        client = json.loads(
            _write_once(
                folder / CLIENT_FILE,
                json.dumps(
                    {
                        "client_id": str(uuid.uuid4()),
                        "client_secret": "dose" + secrets.token_hex(32),
                    }
                ),
            )
        )
        self.client_id: str = client["client_id"]
        self.client_secret: str = client["client_secret"]
        self._issued: dict[str, float] = {}
        self._lock = threading.Lock()

    def authenticate(self, authorization: str | None) -> Principal:
        """Check an `Authorization` header; raise `AuthError` (401 or 403) if it does not pass."""
        scheme, _, credential = (authorization or "").strip().partition(" ")
        credential = credential.strip()
        if scheme.lower() != "bearer" or not credential:
            raise AuthError.missing()
        if hmac.compare_digest(credential.encode(), self.token.encode()):
            return Principal("user", "embedded-user@localhost")
        with self._lock:
            expires = self._issued.get(credential)
        if expires is not None and expires > time.monotonic():
            return Principal("service_principal", self.client_id)
        raise AuthError.invalid()

    def client_matches(self, client_id: str, client_secret: str) -> bool:
        same_id = hmac.compare_digest(client_id.encode(), self.client_id.encode())
        same_secret = hmac.compare_digest(client_secret.encode(), self.client_secret.encode())
        return same_id and same_secret

    def issue_access_token(self) -> str:
        token = secrets.token_urlsafe(48)
        now = time.monotonic()
        with self._lock:
            self._issued = {t: e for t, e in self._issued.items() if e > now}
            self._issued[token] = now + ACCESS_TOKEN_TTL_S
        return token


def basic_credentials(authorization: str | None) -> tuple[str, str] | None:
    """`client_id, client_secret` from an HTTP Basic header, or None."""
    scheme, _, encoded = (authorization or "").strip().partition(" ")
    if scheme.lower() != "basic":
        return None
    try:
        decoded = base64.b64decode(encoded.strip(), validate=True).decode("utf-8")
    except (binascii.Error, UnicodeDecodeError):
        return None
    client_id, sep, secret = decoded.partition(":")
    if not sep:
        return None
    return unquote_plus(client_id), unquote_plus(secret)
