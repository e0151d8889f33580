"""The chat: one `Chat` per app (a TeleBot in webhook mode, threaded=False, its outbox and
the update handling the webhook calls), flows registered on it."""

from __future__ import annotations

import logging

from redis import Redis
from telebot import TeleBot, custom_filters
from telebot.states.sync.middleware import StateMiddleware
from telebot.types import BotCommand, MenuButtonWebApp, Update, WebAppInfo

from bot import telegram
from bot.cashier import TelegramCashier
from bot.failures import Failures
from bot.files import TelegramFiles
from bot.flood import FloodControl
from bot.flows import account, admin, buy, common, generate, likes, photoshoot, train
from bot.middleware import UserMiddleware
from bot.notifier import BotNotifier
from bot.outbox import Outbox, unheld
from bot.outbox.journal import RedisJournal
from bot.state_storage import StoreStateStorage
from bot.updates import Claimed, Handled, Updates
from webapp.alerts import Alerts
from webapp.clock import Clock
from webapp.images import ImagePolicy
from webapp.services import Services
from webapp.services.leases import Leases
from webapp.services.ports import FileSource
from webapp.services.styles import Styles
from webapp.settings import Settings
from webapp.store import Store
from webapp.texts import LANGUAGES, Texts

log = logging.getLogger("telegram")

COMMANDS = (
    "start", "help", "train", "generate", "photoshoot", "models", "credits", "buy", "plan",
    "cancel", "delete", "paysupport", "terms",
)  # fmt: skip
ALLOWED_UPDATES = ["message", "callback_query", "my_chat_member", "pre_checkout_query"]


class Chat:
    """The chat side of one app. Made before the services (they send through its notifier,
    read Telegram files through `files` and sell through `cashier`); `start` then attaches the
    flows and the update handling (`claim`, then `handle`: what the webhook calls per update)."""

    def __init__(
        self,
        settings: Settings,
        store: Store,
        images: ImagePolicy,
        styles: Styles,
        redis: Redis | None = None,
        clock: Clock | None = None,
    ) -> None:
        self.settings, self.store, self.redis = settings, store, redis
        self.outbox: Outbox = telegram.connect(settings, clock)
        self.storage = StoreStateStorage(store)
        self.bot = TeleBot(
            settings.telegram_bot_token,
            threaded=False,  # inline: with threads, telebot would answer 200 before the handler
            state_storage=self.storage,
            use_class_middlewares=True,
        )
        self.files = TelegramFiles(self.bot, telegram.api_urls(settings)[1])
        self.notifier = BotNotifier(
            self.bot, images, styles, settings.hd_cost, settings.generate_cost,
            settings.app_url, outbox=self.outbox,
        )  # fmt: skip
        self.cashier = TelegramCashier(self.bot)
        # an admin's alert leaves now, not with the replies of the update it is about
        self.send_alert = unheld(self.bot.send_message)
        self.journal: RedisJournal | None = None
        self.leases: Leases | None = None
        self.updates: Updates | None = None  # the webhook's side, once started

    def start(self, services: Services, alerts: Alerts) -> None:
        """Attach the flows and the update handling; with REDIS_URL, queued messages are kept
        in Redis too, for another process to adopt if this one dies."""
        settings = self.settings
        register(self.bot, self.outbox, services, self.files, alerts, self.redis)
        self.cashier.payments = services.payments
        if self.redis is not None:  # queued messages outlive this process
            self.journal = self.outbox.journal = RedisJournal(
                self.redis,
                settings.telegram_bot_token,
                telegram.api_urls(settings)[0],
                refresh=min(settings.sweep_seconds, 10.0),
            )
        self.leases = Leases(self.store, settings.update_lease_seconds)
        self.updates = Updates(
            self.bot, self.outbox, self.storage, self.store, services, self.leases,
            settings.telegram_webhook_replies,
        )  # fmt: skip

    def claim(self, payload: dict) -> Claimed:
        """Claim an update for this process (bot.updates.Updates.claim)."""
        return self.updates.claim(payload)

    def handle(self, update: Update, claimed: bool = True) -> Handled:
        """Run a claimed update through the flows and mark it done (Updates.handle)."""
        return self.updates.handle(update, claimed)

    @staticmethod
    def parse(payload: dict) -> Update | None:
        """An update's JSON as telebot's Update; None when telebot cannot read it."""
        try:
            return Update.de_json(payload)
        except Exception:
            return None

    def go_live(self) -> str:
        """setWebhook and the command menus (`go_live`)."""
        return go_live(self.bot, self.settings)

    def wait_sent(self, timeout: float) -> bool:
        """Wait until the outbox has sent everything queued; True when it has."""
        return self.outbox.wait_idle(timeout)

    @property
    def journaled(self) -> bool:
        """Queued messages are kept in Redis too (REDIS_URL)."""
        return self.journal is not None

    def close(self) -> None:
        """Updates handled here are marked done, queued messages sent (5 s at most) or left in
        the journal for another process, and the bot's token no longer routes here."""
        if self.leases is not None:
            self.leases.close()
        telegram.disconnect(self.settings.telegram_bot_token, self.outbox)  # nothing new comes
        self.outbox.wait_idle(5)
        self.outbox.close()
        if self.journal is not None:
            self.journal.close()
            self.outbox.journal = None


def register(
    bot: TeleBot,
    outbox: Outbox,
    services: Services,
    files: FileSource,
    alerts: Alerts,
    redis: Redis | None = None,
) -> None:
    """Attach middlewares, filters and every flow, in the order they must be tried."""
    outbox.on_unreachable = lambda chat_id: services.accounts.set_reachable(chat_id, False)
    bot.exception_handler = Failures(bot, alerts)
    bot.setup_middleware(StateMiddleware(bot))
    flood = FloodControl(services.settings, redis)
    bot.setup_middleware(UserMiddleware(bot, services, flood))
    bot.add_custom_filter(custom_filters.StateFilter(bot))
    common.register(bot, services)
    train.register(bot, services, files)
    generate.register(bot, services)
    photoshoot.register(bot, services)
    likes.register(bot, services)
    account.register(bot, services)
    buy.register(bot, services)
    admin.register(bot, services)
    common.register_fallbacks(bot, services)


__all__ = ["ALLOWED_UPDATES", "COMMANDS", "Chat", "Claimed", "Handled", "go_live", "register"]


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
