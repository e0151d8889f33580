"""`flask --app wsgi …` commands for operators."""

from __future__ import annotations

import click
from flask import Flask

from webapp.runtime import runtime


def init_app(app: Flask) -> None:
    """Register the commands."""

    @app.cli.command("set-webhook")
    def set_webhook() -> None:
        """Go live: point Telegram at PUBLIC_URL/api/bot/webhook (with the secret token) and set
        the bot's command list in English and Russian."""
        rt = runtime()
        if rt.bot is None:
            raise click.ClickException("TELEGRAM_BOT_TOKEN is not set: nothing to go live with.")
        if not rt.settings.public_url.startswith("https://"):
            raise click.ClickException(
                f"PUBLIC_URL must be https for Telegram webhooks, got {rt.settings.public_url}"
            )
        import bot as chat

        url = chat.go_live(rt.bot, rt.settings)
        click.echo(f"Webhook set to {url}; commands set for en and ru.")
