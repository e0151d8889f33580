"""Rate limits on the HTTP surface (flask-limiter). A route or blueprint declares its limit next
to itself with `limit(...)`; the app factory binds one limiter per app and applies them all.
Counters live in memory, or in Redis when REDIS_URL is set (shared by every worker; in memory
again while Redis does not answer). The webhook
and Astria's callbacks are authenticated by secrets and not limited; the chat's own flood
control is bot/flood.py."""

from __future__ import annotations

from collections.abc import Callable

from flask import Blueprint, Flask, request
from flask_limiter import Limiter
from redis import Redis

from webapp import counters  # noqa: F401 (registers sweeping-memory://)
from webapp.settings import Settings


def by_address() -> str:
    """The caller's address (for callers with no identity of their own)."""
    return f"ip:{request.remote_addr}"


def limit(rule: str, key: Callable[[], str] = by_address):
    """Declare a limit on a view function or a blueprint (applied by `init_app`)."""

    def declare(target):
        target.rate_limit = (rule, key)
        return target

    return declare


def init_app(app: Flask, settings: Settings, redis: Redis | None = None) -> Limiter:
    """Bind a limiter to this app and apply every declared limit."""
    # No X-RateLimit/Retry-After headers: flask-limiter would put Retry-After on every answer,
    # even the sandbox's 500s, and a client honouring it would wait a minute for nothing.
    # Redis not answering is no reason to fail requests: the limits are then counted in this
    # process's memory (a warning in the log) until Redis is back.
    limiter = Limiter(
        key_func=by_address,
        storage_uri=settings.redis_url or "sweeping-memory://",  # webapp.counters
        # the app's one Redis client's connections
        storage_options={"connection_pool": redis.connection_pool} if redis is not None else {},
        default_limits=[],
        headers_enabled=False,
        strategy="moving-window",
        swallow_errors=True,
        in_memory_fallback_enabled=True,
    )
    limiter.init_app(app)
    for blueprint in app.blueprints.values():
        if isinstance(blueprint, Blueprint) and hasattr(blueprint, "rate_limit"):
            rule, key = blueprint.rate_limit
            limiter.limit(rule, key_func=key)(blueprint)
    for endpoint, view in list(app.view_functions.items()):
        if hasattr(view, "rate_limit"):
            rule, key = view.rate_limit
            app.view_functions[endpoint] = limiter.limit(rule, key_func=key)(view)
    return limiter
