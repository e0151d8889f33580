"""The Flask app factory: builds everything once, per app, and registers the blueprints."""

from __future__ import annotations

import atexit
import logging
import weakref
from contextlib import ExitStack
from datetime import timedelta
from pathlib import Path

from flask import Flask

from webapp import cli, errors, limits as rate_limits, sandbox
from webapp.alerts import Alerts
from webapp.astria import AstriaClient
from webapp.backoff import redis_client
from webapp.clock import Clock
from webapp.images import ImagePolicy
from webapp.jobs import Jobs
from webapp.logs import init_logging
from webapp.queue import QueuedJobs
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
from webapp.services.photoshoots import REFRESH_SECONDS
from webapp.services.ports import LogNotifier, NoFiles
from webapp.services.styles import Styles
from webapp.settings import Settings
from webapp.stash import open_stash
from webapp.store import open_store
from webapp.timers import Sweeper

ROOT = Path(__file__).resolve().parent.parent
log = logging.getLogger("app")


def create_app(settings: Settings | None = None, clock: Clock | None = None) -> Flask:
    """Build the app: settings, store, Astria client, jobs, services and the bot, once. `clock`:
    what the outbox counts Telegram's pace and retry_after on (tests move theirs on)."""
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
    redis = redis_client(settings.redis_url) if settings.redis_url else None  # the one client
    jobs = Jobs(settings.job_workers)
    if redis is not None:  # durable jobs, run by `flask --app wsgi worker`
        jobs = QueuedJobs(redis, local=jobs)
    images = ImagePolicy(settings)
    styles = Styles.load(settings.generate_cost)  # the catalogue, checked before anything runs
    # a build that fails half-way (a setting a library refuses) lets go of what it took
    with ExitStack() as undo:
        chat = None
        notifier, files, cashier, send_alert = LogNotifier(), NoFiles(), None, None
        if settings.telegram_bot_token:
            from bot import Chat  # the chat, wired in here only: nothing below imports bot/

            chat = Chat(settings, store, images, styles, redis, clock)
            undo.callback(chat.close)  # its token routes to it from here on
            notifier, files, cashier, send_alert = (
                chat.notifier,
                chat.files,
                chat.cashier,
                chat.send_alert,
            )
        alerts = Alerts(send_alert, settings.admin_chat_ids, redis=redis)
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
            open_stash(redis),
        )
        if isinstance(jobs, QueuedJobs):
            jobs.bind(services)
        if chat is not None:
            chat.start(services, alerts)
        rt = Runtime(
            settings=settings,
            store=store,
            jobs=jobs,
            services=services,
            images=images,
            chat=chat,
            alerts=alerts,
        )
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
        rate_limits.init_app(app, settings, redis)  # after the blueprints: it applies their limits
        cli.init_app(app)

        # Work a previous process left half-done is picked up when the app serves (Runtime.start)
        # and then every minute; work whose callback never came is settled by asking Astria every
        # few minutes.
        rt.sweepers.append(Sweeper(settings.sweep_seconds, services.resume))
        rt.sweepers.append(Sweeper(REFRESH_SECONDS, services.photoshoots.refresh))  # hourly
        rt.sweepers.append(Sweeper(settings.sweep_seconds, services.shoots.sweep))  # deadlines
        if chat is not None and chat.journal is not None:
            rt.sweepers.append(Sweeper(settings.sweep_seconds, chat.outbox.adopt))
        if settings.reconcile_every_minutes:
            margin = timedelta(minutes=settings.reconcile_margin_minutes)
            rt.sweepers.append(
                Sweeper(
                    settings.reconcile_every_minutes * 60, lambda: services.reconciler.run(margin)
                )
            )

        @app.before_request
        def serving() -> None:  # gunicorn starts it earlier (gunicorn_conf); any other server here
            if not rt.started:
                rt.start()

        closing = weakref.ref(rt)  # (an app let go of, in tests, is not kept alive for exit)
        atexit.register(lambda: (alive := closing()) is not None and alive.close())
        undo.pop_all()  # built: the app keeps what it took
    log.info(
        "app ready: store=%s astria=%s telegram=%s",
        "supabase" if settings.supabase_url else "sqlite",
        "sandbox" if settings.sandbox else "astria",
        "dev mode" if settings.dev_mode else "webhook",
    )
    return app
