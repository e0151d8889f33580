"""An app's line to the Bot API: its HTTP session per thread and its outbox, made per app.

telebot makes every Bot API call through one module-level hook (`apihelper.CUSTOM_REQUEST_SENDER`,
with the URL from `apihelper.API_URL`): that is telebot's design, not ours. `connect` points the
hook, the same way each time, at `_route`, which hands each call to the outbox of the app whose
bot token made it. So two apps in one process (tests, a staging bot beside a live one) keep their
own Bot API, pace, journal and queue; of two apps open for the same token, the last built
sends for both until it closes."""

from __future__ import annotations

import logging
import os
import threading
import time

import requests
from telebot import apihelper

from bot.outbox import Outbox, Pace
from webapp.clock import Clock
from webapp.settings import Settings

log = logging.getLogger("telegram")

ROUTE = "{0} {1}"  # the "URL" telebot makes for a call: the token and the method, for `_route`
# telebot's hook is per process: each app's outbox by token (the last built of the apps still
# open for a token sends for it; when it closes, the one before takes over again)
_outboxes: dict[str, list[Outbox]] = {}
_lock = threading.Lock()


def api_urls(settings: Settings) -> tuple[str, str]:
    """The Bot API's method and file URL templates ({0} the token, {1} the method or path);
    Telegram's test environment adds /test after the token."""
    test = "/test" if settings.telegram_test_env else ""
    base = settings.telegram_api_url
    return f"{base}/bot{{0}}{test}/{{1}}", f"{base}/file/bot{{0}}{test}/{{1}}"


class BotApi:
    """HTTP calls to one Bot API: one requests session per thread, with proxies and the CA
    bundle read from the environment once (requests' per-call scan was a third of an update's
    CPU), one log line per call and no token in any error."""

    def __init__(self, base_url: str) -> None:
        self._local = threading.local()
        self._proxies = requests.utils.get_environ_proxies(base_url)
        self._verify = os.environ.get("REQUESTS_CA_BUNDLE") or os.environ.get("CURL_CA_BUNDLE")

    def _session(self) -> requests.Session:
        session = getattr(self._local, "session", None)
        if session is None:
            session = self._local.session = requests.Session()
            session.trust_env = False
            session.proxies.update(self._proxies)
            session.verify = self._verify or True
        return session

    def send(self, method, url, params=None, files=None, timeout=None, proxies=None):
        """One HTTP call (requests' signature, as telebot makes it)."""
        name = url.rsplit("/", 1)[-1]
        started = time.perf_counter()
        try:
            response = self._session().request(
                method, url, params=params, files=files, timeout=timeout, proxies=proxies
            )
        except requests.RequestException as exc:
            log.warning("%s failed: %s", name, type(exc).__name__)
            # requests puts the URL, and so the token, in its messages: raise a clean one
            raise type(exc)(f"Telegram {name} failed: {type(exc).__name__}") from None
        log.info("%s %s %.0fms", name, response.status_code, (time.perf_counter() - started) * 1000)
        return response


def connect(settings: Settings, clock: Clock | None = None) -> Outbox:
    """This app's outbox for its bot token: every call telebot makes with that token goes
    through it, to TELEGRAM_API_URL, at TELEGRAM_*_RATE (counted on `clock`)."""
    outbox = Outbox(
        BotApi(settings.telegram_api_url).send,
        Pace(settings.telegram_chat_rate, settings.telegram_chat_burst,
             settings.telegram_global_rate),
        clock=clock,
    )  # fmt: skip
    outbox.api_url = api_urls(settings)[0]
    with _lock:
        apihelper.API_URL, apihelper.CUSTOM_REQUEST_SENDER = ROUTE, _route
        _outboxes.setdefault(settings.telegram_bot_token, []).append(outbox)
    return outbox


def disconnect(token: str, outbox: Outbox) -> None:
    """The app closes: its token no longer routes to its outbox (another app still open for the
    same token, if any, sends for it again)."""
    with _lock:
        routes = _outboxes.get(token, [])
        if outbox in routes:
            routes.remove(outbox)
        if not routes:
            _outboxes.pop(token, None)


def _route(method, url, params=None, files=None, timeout=None, proxies=None):
    """telebot's hook: the call to the outbox of the app whose token made it."""
    token, _, name = url.partition(" ")
    routes = _outboxes.get(token)
    outbox = routes[-1] if routes else None
    if outbox is None:  # the app closed: nothing may be sent for it any more
        raise requests.ConnectionError(f"Telegram {name}: no open app for this bot")
    return outbox.request(method, outbox.api_url.format(token, name), params, files, timeout,
                          proxies)  # fmt: skip
