"""`flask --app wsgi …` commands for operators."""

from __future__ import annotations

import os
from datetime import timedelta

import click
from flask import Flask

from webapp.runtime import runtime


def init_app(app: Flask) -> None:
    """Register the commands."""

    @app.cli.command("set-webhook")
    def set_webhook() -> None:
        """Go live: point Telegram at PUBLIC_URL/api/bot/webhook (with the secret token) and set
        the bot's command list in every language it speaks."""
        rt = runtime()
        if rt.chat is None:
            raise click.ClickException("TELEGRAM_BOT_TOKEN is not set: nothing to go live with.")
        if not rt.settings.public_url.startswith("https://"):
            raise click.ClickException(
                f"PUBLIC_URL must be https for Telegram webhooks, got {rt.settings.public_url}"
            )
        from webapp.texts import LANGUAGES

        url = rt.chat.go_live()
        click.echo(f"Webhook set to {url}; commands set for {', '.join(sorted(LANGUAGES))}.")

    @app.cli.command("reconcile")
    @click.option(
        "--older-than",
        "minutes",
        default=None,
        type=click.IntRange(0),
        help="Minutes past the ETA (models) or since creation (generations); 0 = all. "
        "[default: RECONCILE_MARGIN_MINUTES, 15]",
    )
    def reconcile(minutes: int | None) -> None:
        """Ask Astria about models and generations still in progress and settle them exactly
        as their callbacks would have (Astria never retries a callback)."""
        rt = runtime()
        if minutes is None:  # the same margin as the app's own reconciler
            minutes = rt.settings.reconcile_margin_minutes
        report = rt.services.reconciler.run(timedelta(minutes=minutes))
        # what it started here (albums, messages); jobs it queued in Redis wait for the workers,
        # and other processes' jobs are not its to wait for (after a crash, for minutes)
        rt.jobs.wait_idle(120, here_only=True)
        # and the messages it holds back (a 429's retry_after): without Redis no other process
        # knows of them, so they go out before it exits
        held = rt.chat is not None and not rt.chat.wait_sent(120)
        click.echo(
            f"models: {report.models or 'none'}; generations: {report.generations or 'none'}"
        )
        if held:
            where = "another process sends them" if rt.chat.journaled else "they are lost"
            click.echo(f"Telegram still held back some messages after 2 minutes: {where}.")

    @app.cli.command("packs")
    def packs() -> None:
        """List Astria's public packs and this account's own (id, slug, title), to pick the
        photoshoots for the catalogue (webapp/catalogue/photoshoots.toml or PHOTOSHOOTS_FILE);
        then what is on offer now, as the app reads each listed pack from Astria."""
        from webapp.astria import AstriaError

        services = runtime().services
        astria = services.training.astria
        try:
            listed = [("public", p) for p in astria.gallery_packs()]
            listed += [("own", p) for p in astria.own_packs()]
        except AstriaError as exc:
            raise click.ClickException(f"Astria did not list its packs: {exc.message}") from None
        for where, pack in listed:
            click.echo(f"{pack.id:>8}  {where:<6}  {pack.slug:<32}  {pack.title}")
        on_offer = services.photoshoots.offers()
        click.echo(f"On offer now: {len(on_offer)} of {len(services.photoshoots.catalogue)}.")
        for offer in on_offer:  # Astria's cost per run, as its `costs` says it (unit unstated)
            made = ", ".join(f"{c} {k.images} pictures (cost {k.cost})"
                             for c, k in offer.classes.items())  # fmt: skip
            click.echo(f"{offer.photoshoot.pack:>8}  {offer.photoshoot.title('en')} at "
                       f"{offer.photoshoot.price} credits: {made}")  # fmt: skip

    @app.cli.command("backup")
    @click.argument("path", type=click.Path(dir_okay=False))
    def backup(path: str) -> None:
        """Copy the SQLite store to PATH while the app runs (SQLite's online backup, mode 0600).
        Restore: stop every process, put the copy in place of the database file and delete its
        -wal and -shm files beside it, then start again."""
        from webapp.records import StoreError
        from webapp.store.sqlite import SQLiteStore

        rt = runtime()
        if not isinstance(rt.store, SQLiteStore):
            raise click.ClickException(
                "The store is Supabase: its backups are Supabase's own (Database → Backups)."
            )
        try:
            rt.store.backup(path)
        except StoreError as exc:
            raise click.ClickException(f"No backup written to {path}: {exc}") from None
        click.echo(f"Backed up to {path} ({os.path.getsize(path) // 1024} KB).")

    @app.cli.command("worker")
    @click.option("--burst", is_flag=True, help="Stop once the queues are empty.")
    @click.option(
        "--queues",
        type=click.Choice(["all", "paid", "checks"]),
        default="all",
        show_default=True,
        help="paid: uploads, prompts, albums; checks: photo checks; all: both, paid first.",
    )
    def worker(burst: bool, queues: str) -> None:
        """Run the background jobs queued in Redis (REDIS_URL): uploads to Astria, prompts,
        albums, photo checks. Run one or more beside the web processes; each takes one job at
        a time, and a job interrupted by a crash is carried on by the next sweep."""
        rt = runtime()
        if not rt.settings.redis_url:
            raise click.ClickException(
                "REDIS_URL is not set: jobs run inside the web processes, no worker is needed."
            )
        from redis.exceptions import ConnectionError, TimeoutError

        from webapp.queue import run_worker

        rt.start()  # the sweeps run here too: work a crash left is queued again
        until = "until the queues are empty" if burst else "(Ctrl+C stops it after the current one)"
        click.echo(f"Worker started (queues: {queues}): running jobs {until}.")
        try:
            run_worker(rt.settings.redis_url, burst=burst, queues=queues)
        except (ConnectionError, TimeoutError) as exc:
            raise click.ClickException(f"Redis does not answer ({type(exc).__name__}).") from None
