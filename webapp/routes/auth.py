"""Who calls the Mini App's API: `Authorization: tma <initData>`, checked against the bot token
(HMAC-SHA256, constant-time compare, a maximum age). In dev mode (no bot token) the dev host page
(/app/dev) signs a dev user's initData with the dev key, checked the same way."""

from __future__ import annotations

from flask import g, request

from webapp.errors import json_error
from webapp.records import User
from webapp.runtime import runtime
from webapp.security import InitDataError, WebAppUser, dev_user_allowed, validate_init_data

JSON_MAX = 64 * 1024  # a generation or an invoice is a few hundred bytes


def user_key() -> str:
    """Rate limits count per verified Telegram user (else per address), not per IP: many
    users may share one."""
    web_user = verified_user()
    return f"user:{web_user.id}" if web_user else f"ip:{request.remote_addr}"


def verified_user() -> WebAppUser | None:
    """The Telegram user the request's initData speaks for, checked once per request."""
    if "web_user" not in g:
        g.web_user, g.auth_error = None, None
        try:
            g.web_user = _check_auth()
        except InitDataError as exc:
            g.auth_error = str(exc)
    return g.web_user


def authenticate():
    """401 unless the initData is Telegram's, fresh, and names a user."""
    if verified_user() is None:
        return json_error(401, "unauthorized", g.auth_error)
    return None


def _check_auth() -> WebAppUser:
    rt = runtime()
    scheme, _, raw = request.headers.get("Authorization", "").partition(" ")
    if scheme.lower() != "tma" or not raw:
        raise InitDataError("Send Authorization: tma <initData>.")
    settings = rt.settings
    if settings.dev_mode and not dev_user_allowed(settings, request.remote_addr):
        raise InitDataError("The dev user is served on this machine only.")
    token = settings.dev_bot_token if settings.dev_mode else settings.telegram_bot_token
    try:
        return validate_init_data(raw, token, settings.init_data_max_age)
    except InitDataError as exc:
        raise InitDataError(f"initData refused: {exc}.") from None


def caller() -> User:
    """The caller as a registered user (created with the free credits on first contact)."""
    w: WebAppUser = g.web_user
    return runtime().services.accounts.register(
        w.id,
        username=w.username,
        first_name=w.first_name,
        last_name=w.last_name,
        language_code=w.language_code,
    )


def json_object() -> dict | None:
    """The body as a JSON object, or None (not JSON, not an object, nested past Python's
    limit); JSON bodies here are small."""
    request.max_content_length = JSON_MAX
    try:
        body = request.get_json(silent=True)
    except RecursionError:
        return None
    return body if isinstance(body, dict) else None
