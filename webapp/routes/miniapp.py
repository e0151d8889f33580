"""GET /app: the Telegram Mini App (one Jinja page, small vanilla JS modules and CSS), and in
dev mode GET /app/dev: a page that plays Telegram's part around it in a plain browser."""

from __future__ import annotations

import json
import time
from urllib.parse import quote, urlencode

from flask import Blueprint, abort, render_template, request, url_for

from webapp.routes.headers import TELEGRAM_SCRIPT, TELEGRAM_WEB, nonce, page_policy
from webapp.runtime import runtime
from webapp.security import dev_user_allowed, sign_init_data
from webapp.texts import LANGUAGES

bp = Blueprint("miniapp", __name__)

# Telegram's theme params of its iOS light and Android dark themes, for the dev host.
DEV_THEMES = {
    "light": {
        "bg_color": "#ffffff",
        "secondary_bg_color": "#efeff4",
        "text_color": "#000000",
        "hint_color": "#8e8e93",
        "link_color": "#007aff",
        "button_color": "#007aff",
        "button_text_color": "#ffffff",
        "header_bg_color": "#f8f8f8",
        "bottom_bar_bg_color": "#f2f2f2",
        "section_bg_color": "#ffffff",
        "section_header_text_color": "#6d6d72",
        "subtitle_text_color": "#8e8e93",
        "destructive_text_color": "#ff3b30",
        "accent_text_color": "#007aff",
        "section_separator_color": "#c8c7cc",
    },
    "dark": {
        "bg_color": "#212d3b",
        "secondary_bg_color": "#151e27",
        "text_color": "#ffffff",
        "hint_color": "#7d8b99",
        "link_color": "#5eabe1",
        "button_color": "#5288c1",
        "button_text_color": "#ffffff",
        "header_bg_color": "#242d39",
        "bottom_bar_bg_color": "#151e27",
        "section_bg_color": "#1d2733",
        "section_header_text_color": "#79c4fc",
        "subtitle_text_color": "#7b8790",
        "destructive_text_color": "#ee686f",
        "accent_text_color": "#64b5ef",
        "section_separator_color": "#0d1218",
    },
}
DEV_USER = {"id": 1, "first_name": "Dev", "last_name": "User", "username": "dev"}


@bp.get("/app")
def app_page():
    """The Mini App. Telegram opens it with its launch parameters in the URL fragment."""
    rt = runtime()
    dev = rt.settings.dev_mode
    script = url_for("static", filename="vendor/telegram-web-app.js") if dev else TELEGRAM_SCRIPT
    host = dev and dev_user_allowed(rt.settings, request.remote_addr)
    config = {
        "devHost": url_for("miniapp.dev_host") if host else None,
        "texts": {lang: module.APP for lang, module in LANGUAGES.items()},
    }
    page = render_template("app.html", telegram_script=script, app_config=config, nonce=nonce())
    policy = page_policy(rt.images, "'self'" if dev else TELEGRAM_WEB)
    return page, 200, {"Cache-Control": "no-cache", "Content-Security-Policy": policy}


@bp.get("/app/dev")
def dev_host():
    """Dev mode only: /app in a frame, launched as Telegram launches it, for a dev user whose
    initData is signed with the dev key. ?theme=dark, ?lang=ru, ?platform=android and
    ?startapp=m_<id> choose what Telegram would; ?screen=… opens the app at that route."""
    rt = runtime()
    settings = rt.settings
    if not settings.dev_mode or not dev_user_allowed(settings, request.remote_addr):
        abort(404)
    theme = DEV_THEMES.get(request.args.get("theme", ""), DEV_THEMES["light"])
    lang = request.args.get("lang") or request.accept_languages.best_match(list(LANGUAGES)) or "en"
    fields = {
        "query_id": "AAHdF6IQAAAAAN0XohDhrOrc",
        "user": json.dumps({**DEV_USER, "language_code": lang[:2]}, separators=(",", ":")),
        "auth_date": str(int(time.time())),
        "signature": "dev",
    }
    start = request.args.get("startapp", "")
    if start:
        fields["start_param"] = start
    launch = {
        "tgWebAppData": sign_init_data(fields, settings.dev_bot_token),
        "tgWebAppVersion": "8.0",
        "tgWebAppPlatform": request.args.get("platform", "weba"),
        "tgWebAppThemeParams": json.dumps(theme, separators=(",", ":")),
    }
    if start:
        launch["tgWebAppStartParam"] = start
    route = {k: request.args[k] for k in ("screen", "id") if k in request.args}  # /app?screen=…
    app_src = url_for("miniapp.app_page", **route) + "#" + urlencode(launch, quote_via=quote)
    page = render_template(
        "dev-host.html",
        app_src=app_src,
        host_config={"theme": theme, "lang": lang[:2]},
        nonce=nonce(),
    )
    policy = page_policy(rt.images, "'none'", frame_src="'self'")
    return page, 200, {"Cache-Control": "no-cache", "Content-Security-Policy": policy}
