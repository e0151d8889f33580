"""GET /app: the Telegram Mini App (one Jinja page, small vanilla JS and CSS)."""

from __future__ import annotations

from flask import Blueprint, render_template

from webapp.runtime import runtime

bp = Blueprint("miniapp", __name__)


@bp.get("/app")
def app_page():
    """The Mini App; in dev mode it also loads a stand-in for Telegram's chrome."""
    settings = runtime().settings
    response = render_template("app.html", dev_mode=settings.dev_mode)
    return response, 200, {"Cache-Control": "no-cache"}
