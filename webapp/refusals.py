"""The domain's refusals: what a service refuses and why (the edges turn each into a reply or an
API error: webapp.errors), the store's failure, and a setting that cannot work."""

from __future__ import annotations


class DomainError(Exception):
    """A failure the user can understand; `code` picks the message, `params` fill it in."""

    code = "error"
    http_status = 400

    def __init__(self, message: str = "", **params) -> None:
        details = ", ".join(f"{k}: {v}" for k, v in params.items())
        default = self.code.replace("_", " ").capitalize() + (f" ({details})" if details else "")
        super().__init__(message or default)
        self.params = params


class BadRequest(DomainError):
    """A request whose shape is wrong (not JSON, missing parts)."""

    code = "bad_request"
    http_status = 400


class NotEnoughCredits(DomainError):
    """The balance does not cover the price; nothing was charged."""

    code = "not_enough_credits"
    http_status = 409


class InvalidInput(DomainError):
    """A name, prompt, photo or choice we cannot accept."""

    code = "invalid_input"
    http_status = 422


class NotFound(DomainError):
    """No such object for this user."""

    code = "not_found"
    http_status = 404


class ModelNotReady(DomainError):
    """The model is still training or has failed."""

    code = "model_not_ready"
    http_status = 409


class SellingOff(DomainError):
    """Nothing is for sale here (CREDIT_PACKS is empty, or there is no Telegram to pay in)."""

    code = "selling_off"
    http_status = 409


class PaymentUnavailable(DomainError):
    """Telegram could not make an invoice just now; nothing was charged, try again."""

    code = "payment_unavailable"
    http_status = 503


class StoreError(Exception):
    """The storage failed; never shown to a user as is. `code` tells failures of one kind apart
    (Postgres' SQLSTATE, or the network error), so one never mutes another's alert."""

    def __init__(self, message: str = "", code: str | None = None) -> None:
        super().__init__(message)
        self.code = code


class SettingsError(ValueError):
    """A setting is missing or malformed; the message says which and why."""
