"""Signed-cookie sessions with an idle timeout, CSRF tokens and a login throttle.

The cookie holds only the account name, a CSRF token and when it was last used, signed with a
key kept owner-only in the state directory (so sessions survive a restart of `batch serve`).
It is HttpOnly, SameSite=Strict, and Secure whenever the request came over TLS (the scheme a
proxy named in `trusted_proxies` gives in `X-Forwarded-Proto`, see `proxies`).
"""

from __future__ import annotations

import base64
import hmac
import json
import secrets
import threading
import time
from collections import deque
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from itsdangerous import BadSignature, TimestampSigner

from batch.web.accounts import private_dir, write_private

if TYPE_CHECKING:
    from pathlib import Path

    from starlette.types import ASGIApp, Message, Receive, Scope, Send

__all__ = ["COOKIE", "LoginThrottle", "SessionMiddleware", "csrf_ok", "secret_key"]

COOKIE = "batch_session"


def secret_key(state_dir: Path) -> str:
    """The signing key of this state directory, made once (32 random bytes, mode 0600)."""
    path = private_dir(state_dir.expanduser() / "web") / "secret.key"
    if not path.exists():
        write_private(path, secrets.token_urlsafe(32).encode())
    return path.read_text(encoding="ascii").strip()


def csrf_ok(session: dict[str, Any], token: str | None) -> bool:
    """The request carries this session's CSRF token (compared in constant time)."""
    expected = session.get("csrf")
    return bool(expected and token) and hmac.compare_digest(str(expected), str(token))


class SessionMiddleware:
    """Puts `scope["session"]` (a dict) in place and writes it back as a signed cookie."""

    def __init__(self, app: ASGIApp, *, key: str, idle_seconds: int) -> None:
        self.app = app
        self.signer = TimestampSigner(key, salt="batch.web.session")
        self.idle = idle_seconds

    def _load(self, scope: Scope) -> dict[str, Any]:
        for name, value in scope["headers"]:
            if name != b"cookie":
                continue
            for part in value.decode("latin-1").split(";"):
                key, _, text = part.strip().partition("=")
                if key == COOKIE:
                    return self._unsign(text)
        return {}

    def _unsign(self, text: str) -> dict[str, Any]:
        try:
            raw = self.signer.unsign(text, max_age=self.idle)
            data: dict[str, Any] = json.loads(base64.urlsafe_b64decode(raw))
        except (BadSignature, ValueError):
            return {}
        if time.time() - float(data.get("seen", 0)) > self.idle:
            return {}
        return data

    def _cookie(self, session: dict[str, Any], secure: bool) -> str:
        flags = "; Path=/; HttpOnly; SameSite=Strict" + ("; Secure" if secure else "")
        if not session:
            return f"{COOKIE}=; Max-Age=0{flags}"
        session["seen"] = time.time()
        raw = base64.urlsafe_b64encode(json.dumps(session).encode())
        value = self.signer.sign(raw).decode("ascii")
        return f"{COOKIE}={value}; Max-Age={self.idle}{flags}"

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        """Load the session, run the app, set the cookie on the response."""
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        scope["session"] = self._load(scope)
        secure = scope.get("scheme") == "https"

        async def with_cookie(message: Message) -> None:
            if message["type"] == "http.response.start" and not scope.get("session_untouched"):
                cookie = self._cookie(scope["session"], secure)
                message.setdefault("headers", []).append((b"set-cookie", cookie.encode()))
            await send(message)

        await self.app(scope, receive, with_cookie)


@dataclass
class LoginThrottle:
    """At most `attempts` failed sign-ins per name and per client address in `window` seconds."""

    attempts: int = 5
    window: float = 300.0

    def __post_init__(self) -> None:
        self._failures: dict[str, deque[float]] = {}
        self._lock = threading.Lock()

    def _recent(self, key: str, now: float) -> deque[float]:
        failures = self._failures.setdefault(key, deque())
        while failures and now - failures[0] > self.window:
            failures.popleft()
        return failures

    def blocked(self, *keys: str) -> bool:
        """True while any of `keys` (name, address) has used up its attempts."""
        now = time.monotonic()
        with self._lock:
            return any(len(self._recent(key, now)) >= self.attempts for key in keys)

    def failed(self, *keys: str) -> None:
        """Count a failed attempt against each of `keys`."""
        now = time.monotonic()
        with self._lock:
            for key in keys:
                self._recent(key, now).append(now)

    def succeeded(self, *keys: str) -> None:
        """Forget the failures of `keys` after a good sign-in."""
        with self._lock:
            for key in keys:
                self._failures.pop(key, None)
