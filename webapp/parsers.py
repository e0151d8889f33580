"""How each setting's text becomes its value: one parser a kind, whose error names the variable
(webapp.settings declares which one each setting uses)."""

from __future__ import annotations

import math
import re
from collections.abc import Callable
from urllib.parse import urlsplit

from webapp.records import Pack, SettingsError

MAX_STARS = 10_000  # Telegram's highest price for one invoice

Parser = Callable[[str, str], object]  # (variable, its text) -> the value, or SettingsError


def text(_name: str, raw: str) -> str:
    return raw


HOST = re.compile(r"[A-Za-z0-9.-]+|\[[0-9A-Fa-f:.]+\]")  # a name, an IPv4 or [IPv6] address


def url(name: str, raw: str) -> str:
    """An absolute http(s) address (a host, perhaps a port and a path; no query, fragment or
    user), its scheme in lower case and its trailing / dropped."""
    parts = _parts(raw)
    if (
        parts is None
        or parts.scheme not in ("http", "https")
        or not HOST.fullmatch(parts.netloc.rpartition(":")[0] if parts.port else parts.netloc)
        or not parts.hostname.strip(".-")
        or parts.query
        or parts.fragment
        or "@" in parts.netloc
    ):
        raise SettingsError(
            f"{name} must be an http(s) address such as https://bot.example.com, got {raw!r}"
        )
    return (parts.scheme + raw[len(parts.scheme) :]).rstrip("/")


def redis_address(name: str, raw: str) -> str:
    """A Redis URL (not echoed in the error: it may hold a password)."""
    parts = _parts(raw)
    if parts is None or parts.scheme not in ("redis", "rediss"):
        raise SettingsError(f"{name} must be a redis:// or rediss:// URL (a host, a valid port)")
    return raw


def _parts(raw: str):
    """The parts of a URL, None when it is malformed (a bad port, an unclosed [IPv6)."""
    try:
        parts = urlsplit(raw)
        parts.port  # noqa: B018 (it raises on a port that is not one)
    except ValueError:
        return None
    return parts


def sqlite_address(name: str, raw: str) -> str:
    """sqlite:///path/to/file.sqlite3 (a file: not :memory:, nor a URI's query)."""
    path = raw.removeprefix("sqlite:///")
    if (
        not raw.startswith("sqlite:///")
        or not path
        or path.startswith(("file:", ":"))
        or "?" in path
    ):
        raise SettingsError(f"{name} must look like sqlite:///path/to/file.sqlite3, got {raw!r}")
    return raw


def signing_key(name: str, raw: str) -> str:
    """A key that signs what others must not forge: long enough not to be guessed."""
    if len(raw) < 16:
        raise SettingsError(
            f"{name} must be at least 16 characters (it signs Astria's callback URLs); "
            "unset, one is made and kept in the instance folder"
        )
    return raw


def flag(name: str, raw: str) -> bool:
    """A switch: 1 (on) or 0 (off)."""
    if raw not in ("0", "1"):
        raise SettingsError(f"{name} must be 1 (on) or 0 (off), got {raw!r}")
    return raw == "1"


def whole(minimum: int = 0) -> Parser:
    """A whole number, at least `minimum`."""

    def parse(name: str, raw: str) -> int:
        try:
            value = int(raw)
        except ValueError:
            raise SettingsError(f"{name} must be a whole number, got {raw!r}") from None
        if value < minimum:
            raise SettingsError(f"{name} must be at least {minimum}, got {value}")
        return value

    return parse


def number(positive: bool = False) -> Parser:
    """A finite decimal number, at least 0 (above 0 when `positive`)."""

    def parse(name: str, raw: str) -> float:
        try:
            value = float(raw)
        except ValueError:
            raise SettingsError(f"{name} must be a number, got {raw!r}") from None
        if not math.isfinite(value):
            raise SettingsError(f"{name} must be a finite number, got {raw!r}")
        if value < 0 or (positive and value == 0):
            raise SettingsError(f"{name} must be {'above zero' if positive else 'at least 0'}")
        return value

    return parse


def one_of(*choices: str) -> Parser:
    def parse(name: str, raw: str) -> str:
        if raw not in choices:
            raise SettingsError(f"{name} must be one of {', '.join(choices)}, got {raw!r}")
        return raw

    return parse


def hosts(_name: str, raw: str) -> tuple[str, ...]:
    """Comma-separated hosts (or scheme://host:port)."""
    return tuple(part.strip().rstrip("/") for part in raw.split(",") if part.strip())


def chat_ids(name: str, raw: str) -> tuple[int, ...]:
    """Comma-separated Telegram chat ids."""
    parts = [part for part in raw.replace(" ", "").split(",") if part]
    if not all(re.fullmatch(r"-?\d{1,19}", p) and abs(int(p)) < 2**63 for p in parts):
        raise SettingsError(
            f"{name} must be chat ids separated by commas (12345,67890), got {raw!r}"
        )
    return tuple(int(part) for part in parts)


def pack(name: str, part: str) -> Pack:
    """One `credits:stars` pair (MONTHLY_PLAN, or one of CREDIT_PACKS)."""
    credits, _, stars = part.replace(" ", "").partition(":")
    if not (credits.isdigit() and stars.isdigit() and 0 < int(credits) <= 100_000):
        raise SettingsError(f"{name} must look like 10:100 (credits:stars), got {part!r}")
    if not 1 <= int(stars) <= MAX_STARS:
        raise SettingsError(f"{name}: a price must be 1-{MAX_STARS} Stars ({part!r})")
    return Pack(int(credits), int(stars))


def packs(name: str, raw: str) -> tuple[Pack, ...]:
    """`credits:stars` pairs, comma-separated, kept cheapest first; empty: nothing sold."""
    found = [pack(name, part) for part in filter(None, raw.replace(" ", "").split(","))]
    if len({p.credits for p in found}) != len(found):
        raise SettingsError(f"{name}: two packs with the same number of credits")
    return tuple(sorted(found, key=lambda p: p.credits))
