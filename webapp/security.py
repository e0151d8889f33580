"""Signed tokens for Astria callback URLs: each URL is good for one object of one kind only."""

from __future__ import annotations

import hashlib
import hmac


def callback_token(secret_key: str, kind: str, object_id: int) -> str:
    """The token we put in the callback URL of one tune or prompt."""
    message = f"astria-callback:{kind}:{object_id}".encode()
    return hmac.new(secret_key.encode(), message, hashlib.sha256).hexdigest()[:40]


def check_callback_token(secret_key: str, kind: str, object_id: int, token: str | None) -> bool:
    """True when `token` was made by us for exactly this object."""
    if not token or not token.isascii():
        return False
    return hmac.compare_digest(callback_token(secret_key, kind, object_id), token)
