"""What Astria answers, as typed values: its tunes, prompts and refusals (parsed here and
nowhere else), and the photos we send it."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from webapp.records import bounded_id


class AstriaError(Exception):
    """Any failure talking to Astria; `status` is the HTTP status when there was one."""

    def __init__(self, message: str, status: int | None = None) -> None:
        super().__init__(message)
        self.status = status
        self.message = message


class AstriaRejected(AstriaError):
    """Astria refused the request (a 4xx other than 429): it was not carried out."""


class AstriaUnavailable(AstriaError):
    """Astria kept failing (429/5xx/unreachable) after the retries: it was not carried out."""


class AstriaOutcomeUnknown(AstriaError):
    """A 504 or a read timeout: Astria may or may not have carried the request out."""


@dataclass(frozen=True)
class Tune:
    """The parts of Astria's tune object the product uses."""

    id: int
    title: str | None
    name: str | None
    eta: datetime | None
    trained_at: datetime | None
    failed: bool
    error: str | None


@dataclass(frozen=True)
class Prompt:
    """The parts of Astria's prompt object the product uses."""

    id: int
    tune_id: int | None
    text: str | None
    images: tuple[str, ...]
    trained_at: datetime | None
    failed: bool
    error: str | None

    @property
    def done(self) -> bool:
        """Astria has no status field: a prompt is done once its images are there."""
        return bool(self.images)


@dataclass(frozen=True)
class Photo:
    """One training photo, as bytes: never a Telegram URL (it carries the bot token)."""

    filename: str
    content: bytes
    mime_type: str = "image/jpeg"


def _when(value) -> datetime | None:
    if not value or not isinstance(value, str):
        return None
    try:
        return datetime.fromisoformat(value)
    except ValueError:
        return None


def astria_id(value) -> int | None:
    """An id in Astria's JSON: an integer in 1..2^63-1, as the store keeps it; a bool, a float,
    a string or anything larger is None."""
    return bounded_id(value) if type(value) is int else None


def _failure(obj: dict) -> tuple[bool, str | None]:
    """Astria documents no failure field; treat `status: failed` or an `error` as failure."""
    error = obj.get("error")
    failed = str(obj.get("status", "")).lower() == "failed" or bool(error)
    return failed, (str(error)[:300] if error else None)


def parse_tune(obj: dict) -> Tune:
    """Astria's tune object (a response, or the `tune` of a callback) → Tune."""
    if not isinstance(obj, dict) or astria_id(obj.get("id")) is None:
        raise ValueError("not a tune object")
    failed, error = _failure(obj)
    return Tune(
        id=obj["id"],
        title=obj.get("title") if isinstance(obj.get("title"), str) else None,
        name=obj.get("name") if isinstance(obj.get("name"), str) else None,
        eta=_when(obj.get("eta")),
        trained_at=_when(obj.get("trained_at")),
        failed=failed,
        error=error,
    )


def parse_prompt(obj: dict) -> Prompt:
    """Astria's prompt object (a response, or the `prompt` of a callback) → Prompt."""
    if not isinstance(obj, dict) or astria_id(obj.get("id")) is None:
        raise ValueError("not a prompt object")
    images = obj.get("images")
    if images is not None and not isinstance(images, list):
        raise ValueError("images is not a list")
    failed, error = _failure(obj)
    return Prompt(
        id=obj["id"],
        tune_id=astria_id(obj.get("tune_id")),
        text=obj.get("text") if isinstance(obj.get("text"), str) else None,
        images=tuple(i for i in images or () if isinstance(i, str)),
        trained_at=_when(obj.get("trained_at")),
        failed=failed,
        error=error,
    )
