"""Signatures: tokens in Astria callback URLs (good for one object of one kind only), and the
Telegram Mini App's initData."""

from __future__ import annotations

import hashlib
import hmac
import ipaddress
import json
import time
from dataclasses import dataclass
from urllib.parse import parse_qsl, urlencode, urlsplit

from webapp.records import bounded_id
from webapp.settings import Settings


def callback_token(secret_key: str, kind: str, object_id: int) -> str:
    """The token we put in the callback URL of one tune or prompt."""
    message = f"astria-callback:{kind}:{object_id}".encode()
    return hmac.new(secret_key.encode(), message, hashlib.sha256).hexdigest()[:40]


def check_callback_token(secret_key: str, kind: str, object_id: int, token: str | None) -> bool:
    """True when `token` was made by us for exactly this object."""
    if not token or not token.isascii():
        return False
    return hmac.compare_digest(callback_token(secret_key, kind, object_id), token)


def dev_user_allowed(settings: Settings, remote_addr: str | None) -> bool:
    """Whether dev mode's host page (/app/dev, which signs in anyone as the dev user) and the
    dev user's initData serve this client. On the sandbox there is nothing real to spend:
    anyone. With a real ASTRIA_API_KEY (dev mode spends real credits): only a client on this
    machine, and only when PUBLIC_URL is on this machine too (behind a proxy on the same host
    every client would look local). With a bot token there is no dev mode at all."""
    if not settings.dev_mode:
        return False
    if settings.sandbox:
        return True
    return _loopback(urlsplit(settings.public_url).hostname) and _loopback(remote_addr)


def _loopback(host: str | None) -> bool:
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address((host or "").split("%")[0]).is_loopback
    except ValueError:
        return False


class InitDataError(Exception):
    """Mini App initData that is missing, malformed, forged or too old; the message says which."""


@dataclass(frozen=True)
class WebAppUser:
    """The Telegram user a verified initData speaks for."""

    id: int
    first_name: str | None
    last_name: str | None
    username: str | None
    language_code: str | None


def validate_init_data(
    raw: str, bot_token: str, max_age: int, now: float | None = None
) -> WebAppUser:
    """Check `Telegram.WebApp.initData` as Telegram documents and return its user.

    The data-check-string is every received field but `hash`, sorted, as `key=value` lines; the
    key is HMAC-SHA256("WebAppData", bot_token). No field is whitelisted (a newer `signature`
    stays in), values are compared in constant time, and `auth_date` may be at most `max_age`
    seconds old."""
    try:
        pairs = parse_qsl(raw or "", keep_blank_values=True, strict_parsing=True)
    except ValueError:
        raise InitDataError("malformed") from None
    fields = dict(pairs)
    if len(fields) != len(pairs):
        raise InitDataError("a field appears twice")
    received = fields.pop("hash", "")
    if not received or not received.isascii():
        raise InitDataError("no hash")
    check = "\n".join(f"{key}={value}" for key, value in sorted(fields.items()))
    secret = hmac.new(b"WebAppData", bot_token.encode(), hashlib.sha256).digest()
    expected = hmac.new(secret, check.encode(), hashlib.sha256).hexdigest()
    if not hmac.compare_digest(expected, received):
        raise InitDataError("wrong signature")
    try:
        auth_date = int(fields["auth_date"])
        user = json.loads(fields["user"])
        user_id = bounded_id(user["id"])  # a positive 64-bit integer, not a float or a bool
    except (KeyError, ValueError, TypeError, RecursionError):
        raise InitDataError("no auth_date or user") from None
    if user_id is None or not all(
        isinstance(user.get(k), str | None)
        for k in ("first_name", "last_name", "username", "language_code")
    ):
        raise InitDataError("a malformed user")
    now = time.time() if now is None else now
    if now - auth_date > max_age:
        raise InitDataError("too old")
    if auth_date - now > 300:
        raise InitDataError("from the future")
    return WebAppUser(
        id=user_id,
        first_name=user.get("first_name"),
        last_name=user.get("last_name"),
        username=user.get("username"),
        language_code=user.get("language_code"),
    )


def sign_init_data(fields: dict[str, str], bot_token: str) -> str:
    """Signed initData for the given fields, as Telegram makes it (for tests and dev tools)."""
    check = "\n".join(f"{key}={value}" for key, value in sorted(fields.items()))
    secret = hmac.new(b"WebAppData", bot_token.encode(), hashlib.sha256).digest()
    digest = hmac.new(secret, check.encode(), hashlib.sha256).hexdigest()
    return urlencode({**fields, "hash": digest})
