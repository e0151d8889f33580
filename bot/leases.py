"""What makes an effect of a chat update happen once, however often the update is handled:
the update's id, as a key (webapp.services.leases says how updates are claimed and finished)."""

from __future__ import annotations

from contextvars import ContextVar

from bot.failures import current_update

# Set by request_key(): the update being handled created something keyed by it (so it is marked
# done before its messages leave; see bot.updates.Updates.handle).
keyed: ContextVar[bool] = ContextVar("keyed", default=False)


def request_key() -> str | None:
    """What makes an effect of the update being handled happen once, however often it is
    handled (a model's title, a generation's or an order's request key): its update id. Asking
    for it marks the update as one that creates something."""
    update = current_update.get()
    if update is None:
        return None
    keyed.set(True)
    return f"u{update.update_id}"
