"""Security headers: on every response, no MIME sniffing and no referrer; on the Mini App's
pages, a Content-Security-Policy that lets them load only our own files, Telegram's script (by
its exact URL, nothing else on telegram.org) and Astria's images, run no inline script without
the page's nonce, and be framed only by Telegram's web client (in dev mode: by the dev host,
this same origin)."""

from __future__ import annotations

import secrets

from flask import Flask, g

from webapp.images import ImagePolicy

TELEGRAM_WEB = "https://web.telegram.org"
TELEGRAM_SCRIPT = "https://telegram.org/js/telegram-web-app.js"
# Telegram's script, framed by a web client, adds an empty <style> for the client to fill with
# scrollbar styles: the empty one is allowed (this is the hash of ""), what fills it is not.
EMPTY_STYLE = "'sha256-47DEQpj8HBSa+/TImW+5JCeuQeRkm5NMpJWZG3hSuFU='"


def nonce() -> str:
    """This response's script nonce (made once per request)."""
    if "csp_nonce" not in g:
        g.csp_nonce = secrets.token_urlsafe(16)
    return g.csp_nonce


def page_policy(images: ImagePolicy, frame_ancestors: str, frame_src: str = "'none'") -> str:
    """The CSP of a Mini App page: who may frame it, and what it may frame itself."""
    image_sources = " ".join(
        o.scheme + "://" + o.host + ("" if o.port in (80, 443) else f":{o.port}")
        for o in images.origins.values()
    )
    return "; ".join(
        [
            "default-src 'none'",
            f"script-src 'self' {TELEGRAM_SCRIPT} 'nonce-{nonce()}'",
            f"style-src 'self' {EMPTY_STYLE}",
            f"img-src 'self' blob: data: {image_sources}",
            "connect-src 'self'",
            f"frame-src {frame_src}",
            "base-uri 'none'",
            "form-action 'none'",
            f"frame-ancestors {frame_ancestors}",
        ]
    )


def init_app(app: Flask) -> None:
    """Add the headers every response carries."""

    @app.after_request
    def everywhere(response):
        response.headers.setdefault("X-Content-Type-Options", "nosniff")
        response.headers.setdefault("Referrer-Policy", "no-referrer")
        return response
