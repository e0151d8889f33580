"""The Flask app factory: builds everything once and registers the blueprints."""

from __future__ import annotations

import atexit
import logging
from datetime import timedelta
from pathlib import Path

from flask import Flask

from webapp import cli, errors, sandbox
from webapp import limits as rate_limits
from webapp.alerts import Alerts
from webapp.astria import AstriaClient
from webapp.images import ImagePolicy
from webapp.jobs import Jobs, QueuedJobs, Sweeper
from webapp.logs import init_logging
from webapp.routes import (
    Id64Converter,
    RowIdConverter,
    api,
    callbacks,
    headers,
    health,
    miniapp,
    webhook,
)
from webapp.runtime import Runtime
from webapp.services import build_services
from webapp.services.leases import Leases
from webapp.services.ports import LogNotifier, NoFiles
from webapp.services.styles import Styles
from webapp.settings import Settings
from webapp.stash import open_stash
from webapp.store import open_store

ROOT = Path(__file__).resolve().parent.parent
log = logging.getLogger("app")


def create_app(settings: Settings | None = None) -> Flask:
    """Build the app: settings, store, Astria client, jobs, services and the bot, once."""
    app = Flask(
        __name__,
        instance_relative_config=True,
        static_folder=str(ROOT / "static"),
        template_folder=str(ROOT / "templates"),
    )
    settings = (settings or Settings.from_env()).with_instance(app.instance_path)
    init_logging(settings.secrets())
    app.config.update(SECRET_KEY=settings.secret_key, MAX_CONTENT_LENGTH=64 * 1024 * 1024)

    store = open_store(settings)
    astria = AstriaClient(
        settings.astria_base,
        settings.astria_api_key or settings.sandbox_key,
        timeout=settings.astria_timeout,
        retries=settings.astria_retries,
        backoff=settings.astria_backoff,
    )
    jobs = Jobs(settings.job_workers)
    if settings.redis_url:  # durable jobs, run by `flask --app wsgi worker`
        jobs = QueuedJobs(settings.redis_url, local=jobs)
    images = ImagePolicy(settings)
    styles = Styles.load(settings.generate_cost)  # the catalogue, checked before anything runs
    telegram = storage = None
    notifier, files, cashier = LogNotifier(), NoFiles(), None
    send_alert = None
    if settings.telegram_bot_token:
        import bot
        from bot.cashier import TelegramCashier
        from bot.files import TelegramFiles
        from bot.notifier import BotNotifier
        from bot.outbox import unheld

        telegram, storage = bot.build_bot(settings, store)
        notifier = BotNotifier(
            telegram,
            images,
            styles,
            settings.hd_cost,
            settings.generate_cost,
            settings.app_url,
            outbox=bot.OUTBOX,
        )
        files = TelegramFiles(telegram, bot.api_urls(settings)[1])
        cashier = TelegramCashier(telegram)
        send_alert = unheld(telegram.send_message)  # not held back with the update's replies
    alerts = Alerts(send_alert, settings.admin_chat_ids, redis_url=settings.redis_url)
    services = build_services(
        settings,
        store,
        astria,
        jobs,
        notifier,
        files,
        alerts,
        images,
        cashier,
        styles,
        open_stash(settings.redis_url),
    )
    if isinstance(jobs, QueuedJobs):
        jobs.bind(services)
    if cashier is not None:
        cashier.payments = services.payments
    rt = Runtime(
        settings=settings,
        store=store,
        jobs=jobs,
        services=services,
        images=images,
        alerts=alerts,
    )
    if telegram is not None:
        bot.register(telegram, services, files, alerts)
        rt.bot = telegram
        rt.outbox = bot.OUTBOX
        bot.OUTBOX.journal = None
        if settings.redis_url:  # queued messages outlive this process: another one sends them
            from bot.outbox.journal import RedisJournal

            rt.journal = bot.OUTBOX.journal = RedisJournal(
                settings.redis_url,
                settings.telegram_bot_token,
                bot.api_urls(settings)[0],
                refresh=min(settings.sweep_seconds, 10.0),
            )
        rt.leases = Leases(store, settings.update_lease_seconds)
        rt.handle_update = bot.update_handler(
            telegram, storage, store, rt.leases, settings.telegram_webhook_replies
        )
        rt.claim_update = bot.update_claimer(telegram, storage, store, services, rt.leases)
    app.extensions["runtime"] = rt

    app.url_map.converters["id64"] = Id64Converter
    app.url_map.converters["row_id"] = RowIdConverter
    errors.init_app(app)
    headers.init_app(app)
    sandbox.init_app(app, settings)
    app.register_blueprint(webhook.bp)
    app.register_blueprint(callbacks.bp)
    app.register_blueprint(health.bp)
    app.register_blueprint(api.bp)
    app.register_blueprint(miniapp.bp)
    rate_limits.init_app(app, settings)  # after the blueprints: it applies their limits
    cli.init_app(app)

    # Work a previous process left half-done is picked up now and then every minute; work whose
    # callback never came is settled by asking Astria every few minutes.
    services.resume()
    rt.sweepers.append(Sweeper(settings.sweep_seconds, services.resume))
    if rt.journal is not None:
        rt.sweepers.append(Sweeper(settings.sweep_seconds, rt.outbox.adopt))
    if settings.reconcile_every_minutes:
        margin = timedelta(minutes=settings.reconcile_margin_minutes)
        rt.sweepers.append(
            Sweeper(settings.reconcile_every_minutes * 60, lambda: services.reconciler.run(margin))
        )
    for sweeper in rt.sweepers:
        sweeper.start()
    atexit.register(rt.close)
    log.info(
        "app ready: store=%s astria=%s telegram=%s",
        "supabase" if settings.supabase_url else "sqlite",
        "sandbox" if settings.sandbox else "astria",
        "dev mode" if settings.dev_mode else "webhook",
    )
    return app
