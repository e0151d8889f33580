"""The chat: one TeleBot per app (webhook mode, threaded=False), flows registered on it."""

from __future__ import annotations

import logging
import os
import threading
import time
from enum import Enum
from typing import NamedTuple

import requests
from telebot import TeleBot, apihelper, custom_filters
from telebot.apihelper import ApiTelegramException
from telebot.states.sync.middleware import StateMiddleware
from telebot.types import BotCommand, InaccessibleMessage, MenuButtonWebApp, Update, WebAppInfo

from bot.failures import Failures, current_update, update_failed
from bot.flood import FloodControl
from bot.flows import account, admin, buy, common, generate, train
from bot.leases import keyed
from bot.middleware import UserMiddleware, known_sender
from bot.outbox import Outbox, Pace, WebhookAnswer, webhook_answer
from bot.outbox.calls import json_body
from bot.state_storage import StoreStateStorage
from webapp.alerts import Alerts
from webapp.records import Begun, bounded_id
from webapp.services import Services
from webapp.services.leases import GAVE_UP, Leases
from webapp.services.ports import FileSource
from webapp.settings import Settings
from webapp.store import Store
from webapp.texts import LANGUAGES, Texts

log = logging.getLogger("telegram")

COMMANDS = (
    "start", "help", "train", "generate", "models", "credits", "buy", "plan", "cancel", "delete",
    "paysupport", "terms",
)  # fmt: skip
ALLOWED_UPDATES = ["message", "callback_query", "my_chat_member", "pre_checkout_query"]
_sessions = threading.local()
_session_settings: dict = {}


def _session() -> requests.Session:
    """This thread's session to the Bot API.

    Proxies and CA bundle are read from the environment once, not on every call: requests'
    per-call environment scan was a third of an update's CPU."""
    session = getattr(_sessions, "session", None)
    if session is None:
        session = _sessions.session = requests.Session()
        session.trust_env = False
        session.proxies.update(_session_settings.get("proxies", {}))
        session.verify = _session_settings.get("verify", True)
    return session


def _send(method, url, params=None, files=None, timeout=None, proxies=None):
    """telebot's HTTP call, with one log line per Bot API call and no token in any error."""
    name = url.rsplit("/", 1)[-1]
    started = time.perf_counter()
    try:
        response = _session().request(
            method, url, params=params, files=files, timeout=timeout, proxies=proxies
        )
    except requests.RequestException as exc:
        log.warning("%s failed: %s", name, type(exc).__name__)
        # requests puts the URL, and so the token, in its messages: raise a clean one instead.
        raise type(exc)(f"Telegram {name} failed: {type(exc).__name__}") from None
    log.info("%s %s %.0fms", name, response.status_code, (time.perf_counter() - started) * 1000)
    return response


# One outbox per process, like the bot's connection: Telegram's limits are per bot.
OUTBOX = Outbox(_send)


def api_urls(settings: Settings) -> tuple[str, str]:
    """The Bot API's method and file URL templates ({0} the token, {1} the method or path);
    Telegram's test environment adds /test after the token."""
    test = "/test" if settings.telegram_test_env else ""
    base = settings.telegram_api_url
    return f"{base}/bot{{0}}{test}/{{1}}", f"{base}/file/bot{{0}}{test}/{{1}}"


def configure_telebot(settings: Settings) -> None:
    """Point telebot at TELEGRAM_API_URL and send its calls through the outbox (process-wide)."""
    apihelper.API_URL, apihelper.FILE_URL = api_urls(settings)
    apihelper.CUSTOM_REQUEST_SENDER = OUTBOX.request
    OUTBOX.pacer.pace = Pace(
        settings.telegram_chat_rate, settings.telegram_chat_burst, settings.telegram_global_rate
    )
    _session_settings.update(
        proxies=requests.utils.get_environ_proxies(settings.telegram_api_url),
        verify=os.environ.get("REQUESTS_CA_BUNDLE") or os.environ.get("CURL_CA_BUNDLE") or True,
    )
    _sessions.__dict__.pop("session", None)


def build_bot(settings: Settings, store: Store) -> tuple[TeleBot, StoreStateStorage]:
    """The TeleBot, with state kept in the store; flows are attached later by `register`."""
    configure_telebot(settings)
    storage = StoreStateStorage(store)
    bot = TeleBot(
        settings.telegram_bot_token,
        threaded=False,  # inline: with threads, telebot would answer 200 before the handler ran
        state_storage=storage,
        use_class_middlewares=True,
    )
    return bot, storage


def register(bot: TeleBot, services: Services, files: FileSource, alerts: Alerts) -> None:
    """Attach middlewares, filters and every flow, in the order they must be tried."""
    OUTBOX.on_unreachable = lambda chat_id: services.accounts.set_reachable(chat_id, False)
    bot.exception_handler = Failures(bot, alerts)
    bot.setup_middleware(StateMiddleware(bot))
    bot.setup_middleware(UserMiddleware(bot, services, FloodControl(services.settings)))
    bot.add_custom_filter(custom_filters.StateFilter(bot))
    common.register(bot, services)
    train.register(bot, services, files)
    generate.register(bot, services)
    account.register(bot, services)
    buy.register(bot, services)
    admin.register(bot, services)
    common.register_fallbacks(bot, services)


class Claimed(NamedTuple):
    """What the claim of an update says: handle it here (`claimed`), or not: it was done (with
    the webhook `answer` it carried, for this redelivery), or another process is still at it
    (`busy`: Telegram should deliver it again later)."""

    claimed: bool
    answer: dict | None = None
    busy: bool = False


def update_claimer(
    bot: TeleBot, storage: StoreStateStorage, store: Store, services: Services, leases: Leases
):
    """A function that claims one update and, for a person writing in their private chat,
    makes sure of them and reads their flow's state with the claim: one store round trip for a
    plain command (Supabase: begin_update()). What it read is handed to the middleware and the
    state storage for this update only. A redelivery of an update a process holds waits for
    it (webapp.services.leases)."""
    accounts, settings = services.accounts, services.settings
    holder = leases.holder

    def claim(payload: dict) -> Claimed:
        update_id = payload["update_id"]
        found = _private_sender(payload)

        def attempt(lease: float = leases.lease) -> Begun:
            if found is None:
                return store.claim_update(update_id, holder, lease)
            sender = found[0]
            return store.begin_update(
                update_id,
                sender["id"],
                username=_text(sender.get("username")),
                first_name=_text(sender.get("first_name")),
                last_name=_text(sender.get("last_name")),
                language_code=_text(sender.get("language_code")),
                free_credits=settings.free_credits,
                signup_key=accounts.signup_key(sender["id"]),
                state_key=state_key(),
                holder=holder,
                lease=lease,
            )

        def state_key() -> str:
            return storage.key_of(found[0]["id"], found[0]["id"], bot.bot_id)

        begun = attempt()
        if begun.busy and begun.held_by == holder and leases.local(update_id) is GAVE_UP:
            begun = attempt(lease=0)  # this process's own claim, on an update it gave up
        if begun.busy:
            log.info("update=%s is being handled elsewhere; waiting", update_id)
            begun = leases.wait_busy(update_id, attempt, begun)
        if not begun.claimed:
            return Claimed(False, begun.answer, begun.busy)
        if begun.taken_over:
            log.warning("update=%s taken over: the process handling it stopped", update_id)
        leases.begin(update_id)
        if found is not None:
            known_sender.set((update_id, begun.user, begun.created))
            if not found[1]:  # a topic's state has another key: read as usual
                storage.prime(update_id, state_key(), begun.conversation)
        return Claimed(True)

    return claim


def _text(value) -> str | None:
    return value if isinstance(value, str) else None


def _private_sender(payload: dict) -> tuple[dict, bool] | None:
    """The sender of a message or button press in their own private chat (as a dict), and
    whether it is in a topic; None for anything else (groups, channels, odd updates)."""
    message = payload.get("message")
    sender = message.get("from") if isinstance(message, dict) else None
    if isinstance(payload.get("callback_query"), dict):
        query = payload["callback_query"]
        sender, message = query.get("from"), query.get("message")
    if not isinstance(sender, dict) or not isinstance(message, dict):
        return None
    chat = message.get("chat")
    raw_id = sender.get("id")
    user_id = bounded_id(raw_id) if type(raw_id) is int else None
    if not isinstance(chat, dict) or chat.get("type") != "private" or user_id is None:
        return None
    if chat.get("id") != user_id or sender.get("is_bot") is True:
        return None
    return sender, "message_thread_id" in message


class Handled(NamedTuple):
    """How one update went, and the call its webhook answer carries (None: nothing);
    `finished` False when it could not be marked done (the store refused): Telegram should
    deliver it again."""

    ok: bool
    answer: dict | None
    finished: bool = True


class Finish(Enum):
    """How an update's done mark went."""

    DONE = "done"  # marked (now, or shortly with others): its messages leave
    TAKEN = "taken"  # another process took it over meanwhile: it answers, not this one
    REFUSED = "refused"  # the store refused: nothing written, the claim runs out


def _mend_inaccessible(update: Update) -> None:
    """A button under a message the bot can no longer read (Telegram sends its press with the
    message's chat and id only, and date 0: an old album's 🔁 More, days later) works as any
    other: telebot's chat state asks that message for its business connection and topic, which
    pyTelegramBotAPI 4.37's InaccessibleMessage raises on, so they are given as none."""
    query = update.callback_query
    if query is not None and isinstance(query.message, InaccessibleMessage):
        query.message.business_connection_id = None
        query.message.message_thread_id = None
        query.message.is_topic_message = None


def update_handler(
    bot: TeleBot,
    storage: StoreStateStorage,
    store: Store,
    leases: Leases,
    replies_in_answer: bool = True,
):
    """A function that runs one update through the flows; whatever fails is dealt with by the
    bot's Failures (bot/failures.py), never silently."""

    def handle(update: Update, claimed: bool = True) -> Handled:
        """Run one update: whether it went well (else Failures has dealt with it), and the one
        Bot API call the webhook's answer may carry (the update's only message, whose result
        nobody needs; Telegram makes that call, we save a request).

        A `claimed` update (all but payments, which are once per charge) keeps its chat state
        and its replies until it ends: then the state is written with its done mark, and the
        replies leave (webapp.services.leases). One cut short (the process dies) leaves neither."""
        update_id = update.update_id
        storage.begin_update(update_id, held=claimed)
        _mend_inaccessible(update)
        answer = WebhookAnswer(
            carry=claimed and replies_in_answer, chat=_chat_of(update) if claimed else None
        )
        tokens = (
            current_update.set(update),
            update_failed.set(False),
            webhook_answer.set(answer),
            keyed.set(False),
        )
        try:
            try:
                bot.process_new_updates([update])
            except Exception as exc:  # raised outside telebot's own handling
                bot.exception_handler.failed(exc, update)
            ok = not update_failed.get()
            if claimed:
                finished, carried = _finish(update, answer, ok)
                if finished is Finish.REFUSED:
                    return Handled(False, None, finished=False)
                return Handled(ok, carried)
        except BaseException:  # cut short (the process is going down): its claim runs out
            storage.finish_update()
            if claimed:
                leases.end(update_id, gave_up=True)
            raise
        finally:
            current_update.reset(tokens[0])
            update_failed.reset(tokens[1])
            webhook_answer.reset(tokens[2])
            keyed.reset(tokens[3])
        if not ok:
            OUTBOX.flush(answer)  # a failed update's answer may not be delivered: send it now
        return Handled(ok, answer.json())

    def _finish(update: Update, answer: WebhookAnswer, ok: bool) -> tuple[Finish, dict | None]:
        """Mark the update done with what it carries, then let its replies leave.

        Now, in one transaction with its state writes, when it wrote state, created something
        (`request_key`) or sends replies itself: a crash after that mark cannot make them
        twice. Else (at most one reply, riding in the webhook's answer) shortly, with others,
        off the request path (webapp.services.leases). And the answer the webhook gives."""
        update_id = update.update_id
        writes = storage.finish_update()
        carried = OUTBOX.carry(answer) if ok else None  # what a redelivery answers too
        if not (writes or keyed.get() or answer.held):
            leases.end(update_id, carried, done_later=True)
            return Finish.DONE, carried
        ours = leases.finish(update_id, writes, carried)
        if not ours:
            OUTBOX.release(answer, send=False)
            if ours is False:
                log.warning("update=%s was taken over by another process; its writes and "
                            "replies dropped", update_id)  # fmt: skip
            return (Finish.TAKEN if ours is False else Finish.REFUSED), None
        for call, response in OUTBOX.release(answer):  # refused; the handler got placeholders
            refused = ApiTelegramException(call.method, response, json_body(response))
            bot.exception_handler.failed(refused, update)
        return Finish.DONE, carried

    return handle


def _chat_of(update: Update) -> int | None:
    """The chat an update happened in (its replies go there)."""
    if update.message is not None:
        return update.message.chat.id
    query = update.callback_query
    if query is not None and query.message is not None:
        return query.message.chat.id
    return None


def go_live(bot: TeleBot, settings: Settings) -> str:
    """setWebhook with the secret token, and the command menu in every language we speak."""
    url = f"{settings.public_url}/api/bot/webhook"
    bot.set_webhook(
        url=url,
        secret_token=settings.telegram_webhook_secret,
        allowed_updates=ALLOWED_UPDATES,
        max_connections=40,
    )
    offered = set(COMMANDS)
    if not settings.credit_packs:
        offered.discard("buy")
    if not settings.monthly_plan:
        offered.discard("plan")
    for lang in LANGUAGES:
        t = Texts(lang)
        commands = [BotCommand(c, t(f"cmd_{c}")) for c in COMMANDS if c in offered]
        bot.set_my_commands(commands, language_code=None if lang == "en" else lang)
    if settings.app_url:  # the chat's menu button opens the Mini App
        bot.set_chat_menu_button(
            menu_button=MenuButtonWebApp(Texts("en")("menu_app"), WebAppInfo(settings.app_url))
        )
    return url
