"""Settings: every knob of the product, read from the environment once, in the app factory."""

from __future__ import annotations

import hashlib
import hmac
import math
import os
import re
import secrets
import time
from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from pathlib import Path

from webapp.disk import flush
from webapp.records import Pack

SANDBOX_PREFIX = "/astria-sandbox"
# Where Astria's generated images live (public S3 and Astria's CDN).
ASTRIA_IMAGE_HOSTS = ("sdbooth2-production.s3.amazonaws.com", "mp.astria.ai")
WEBHOOK_SECRET = re.compile(r"[A-Za-z0-9_-]{1,256}")
# Every Redis client (rate limits, flood control, the alert throttle): a Redis that does not
# answer costs a request at most this long before the app counts in its own memory instead.
REDIS_TIMEOUTS = {"socket_connect_timeout": 2, "socket_timeout": 2}
CREDIT_PACKS = "10:100,50:450,200:1500"  # credits:stars
MAX_STARS = 10_000  # Telegram's highest price for one invoice


STALE_AFTER = 60  # seconds: a file is written aside in a moment; an older one was left by a crash
KEY = re.compile(r"[A-Za-z0-9_-]{43}")  # secrets.token_urlsafe(32), the instance key


class SettingsError(ValueError):
    """A setting is missing or malformed; the message says which and why."""


def _int(env: Mapping[str, str], name: str, default: int, minimum: int = 0) -> int:
    """Read a whole number, refusing garbage with a message that names the variable."""
    raw = env.get(name, "").strip()
    if not raw:
        return default
    try:
        value = int(raw)
    except ValueError:
        raise SettingsError(f"{name} must be a whole number, got {raw!r}") from None
    if value < minimum:
        raise SettingsError(f"{name} must be at least {minimum}, got {value}")
    return value


def _pack(name: str, part: str) -> Pack:
    """One `credits:stars` pair of CREDIT_PACKS or MONTHLY_PLAN."""
    credits, _, stars = part.partition(":")
    if not (credits.isdigit() and stars.isdigit() and 0 < int(credits) <= 100_000):
        raise SettingsError(f"{name} must look like 10:100 (credits:stars), got {part!r}")
    if not 1 <= int(stars) <= MAX_STARS:
        raise SettingsError(f"{name}: a price must be 1-{MAX_STARS} Stars ({part!r})")
    return Pack(int(credits), int(stars))


def _packs(env: Mapping[str, str]) -> tuple[Pack, ...]:
    """CREDIT_PACKS: `credits:stars` pairs, comma-separated, cheapest first; empty: nothing sold."""
    raw = env.get("CREDIT_PACKS", CREDIT_PACKS).replace(" ", "")
    packs = [_pack("CREDIT_PACKS", part) for part in filter(None, raw.split(","))]
    if len({p.credits for p in packs}) != len(packs):
        raise SettingsError("CREDIT_PACKS: two packs with the same number of credits")
    return tuple(sorted(packs, key=lambda p: p.credits))


def _flag(env: Mapping[str, str], name: str, default: bool) -> bool:
    """Read a switch: 1 (on) or 0 (off)."""
    raw = env.get(name, "").strip()
    if not raw:
        return default
    if raw not in ("0", "1"):
        raise SettingsError(f"{name} must be 1 (on) or 0 (off), got {raw!r}")
    return raw == "1"


def _float(env: Mapping[str, str], name: str, default: float, positive: bool = False) -> float:
    """Read a non-negative decimal number (greater than zero when `positive`)."""
    raw = env.get(name, "").strip()
    if not raw:
        return default
    try:
        value = float(raw)
    except ValueError:
        raise SettingsError(f"{name} must be a number, got {raw!r}") from None
    if not math.isfinite(value):
        raise SettingsError(f"{name} must be a finite number, got {raw!r}")
    if value < 0 or (positive and value == 0):
        raise SettingsError(f"{name} must be {'above zero' if positive else 'at least 0'}")
    return value


@dataclass(frozen=True)
class Settings:
    """The whole configuration. The environment variables' names are a contract with deployers:
    keep them."""

    telegram_bot_token: str | None = None
    telegram_webhook_secret: str | None = None
    telegram_api_url: str = "https://api.telegram.org"
    telegram_test_env: bool = False  # TELEGRAM_TEST_ENV=1: a bot of Telegram's test environment
    astria_api_key: str | None = None
    astria_api_url: str | None = None  # None: the built-in sandbox when there is no key
    astria_sandbox: bool = False  # ASTRIA_SANDBOX=1: the sandbox although a bot token is set
    sandbox_faults: bool = False  # ASTRIA_SANDBOX_FAULTS=1: the test suite may inject failures
    astria_image_hosts: tuple[str, ...] = ASTRIA_IMAGE_HOSTS  # hosts, or scheme://host:port
    public_url: str = "http://127.0.0.1:8000"
    database_url: str | None = None  # None: a SQLite file in the instance folder
    supabase_url: str | None = None
    supabase_service_role_key: str | None = None
    redis_url: str | None = None
    admin_chat_ids: tuple[int, ...] = ()
    free_credits: int = 3
    train_cost: int = 1
    generate_cost: int = 1
    inspect_seconds: float = 8.0  # Astria's photo check before paying (0: off)
    hd_cost: int = 1  # the extra for HD (Astria's super_resolution + inpaint_faces)
    faceid_cost: int = 1  # an instant FaceID model (TRAIN_COST is a trained LoRA's)
    images_per_prompt: int = 4
    # Astria training choices (Flux.1 dev LoRA by default, as Astria documents for people).
    astria_base_tune_id: int = 1504944
    astria_model_type: str = "lora"
    astria_branch: str | None = None  # "fast" makes real Astria free and mocked
    astria_token: str = "ohwx"
    astria_timeout: float = 35.0  # Astria answers within 30 s or gives a 504
    astria_retries: int = 3
    astria_backoff: float = 2.0  # seconds, doubled per retry
    # The sandbox's pretend durations.
    sandbox_train_seconds: float = 20.0
    sandbox_prompt_seconds: float = 5.0
    secret_key: str = field(default="", repr=False)
    instance_path: str = ""
    job_workers: int = 4
    init_data_max_age: int = 86400  # seconds a Mini App's initData stays valid
    reconcile_every_minutes: int = 10  # 0: no periodic reconcile in the app
    reconcile_margin_minutes: int = 15  # how long past its ETA work may be before we ask Astria
    # how long a claim on an upload, prompt or album lasts unless its job renews it (every third)
    upload_lease_seconds: int = 60
    # how long a webhook update's claim lasts unless its process renews it (every third, at most
    # every 2 s): when that process dies, Telegram's redelivery of the update is handled after
    # this (its request waits for it)
    update_lease_seconds: float = 10.0
    sweep_seconds: float = 60.0  # how often each process picks up work a crash left half-done
    astria_retry_minutes: int = 15  # how long work waits out an Astria outage before a refund
    # Telegram's sending limits (messages a second): per chat after a short burst, and in all.
    telegram_chat_rate: float = 1.0
    telegram_chat_burst: int = 3
    telegram_global_rate: float = 25.0
    flood_messages: int = 12  # a chat sending more in 10 s is ignored for a while
    telegram_webhook_replies: bool = True  # an update's first reply rides in the webhook answer
    # Selling credits for Telegram Stars; no packs: nothing is sold (Settings() made in code
    # sells nothing; from_env's default is CREDIT_PACKS above).
    credit_packs: tuple[Pack, ...] = ()
    monthly_plan: Pack | None = None  # credits every 30 days for Stars, as a Stars subscription
    refund_days: int = 14  # purchases are refundable this long (told in /paysupport and /terms)
    support_contact: str | None = None  # e.g. @our_support: shown by /paysupport

    def __post_init__(self) -> None:
        """Refuse combinations that cannot work, before anything is built on them."""
        if self.telegram_bot_token and not self.telegram_webhook_secret:
            raise SettingsError(
                "TELEGRAM_WEBHOOK_SECRET is required when TELEGRAM_BOT_TOKEN is set "
                "(1-256 characters of A-Z a-z 0-9 _ -)"
            )
        if self.telegram_webhook_secret and not WEBHOOK_SECRET.fullmatch(
            self.telegram_webhook_secret
        ):
            raise SettingsError(
                "TELEGRAM_WEBHOOK_SECRET must be 1-256 characters of A-Z a-z 0-9 _ - "
                "(Telegram refuses anything else)"
            )
        if self.telegram_bot_token and not self.astria_api_key and not self.astria_sandbox:
            raise SettingsError(
                "TELEGRAM_BOT_TOKEN is set but ASTRIA_API_KEY is not: set the key, or "
                "ASTRIA_SANDBOX=1 to use the built-in Astria sandbox (dev and staging only)"
            )
        if self.astria_model_type not in {"lora", "faceid", "pti", "checkpoint"}:
            raise SettingsError("ASTRIA_MODEL_TYPE must be one of lora, faceid, pti, checkpoint")
        if self.telegram_chat_rate <= 0 or self.telegram_global_rate <= 0:
            raise SettingsError("TELEGRAM_CHAT_RATE and TELEGRAM_GLOBAL_RATE must be above 0")
        if not 1 <= self.images_per_prompt <= 8:
            raise SettingsError("IMAGES_PER_PROMPT must be between 1 and 8 (Astria's limit)")

    @classmethod
    def from_env(cls, env: Mapping[str, str] | None = None, **overrides) -> Settings:
        """Build settings from environment variables (os.environ by default)."""
        env = os.environ if env is None else env

        def text(name: str) -> str | None:
            return (env.get(name) or "").strip() or None

        admins = tuple(
            int(part)
            for part in (env.get("ADMIN_CHAT_IDS") or "").replace(" ", "").split(",")
            if part
        )
        settings = cls(
            telegram_bot_token=text("TELEGRAM_BOT_TOKEN"),
            telegram_webhook_secret=text("TELEGRAM_WEBHOOK_SECRET"),
            telegram_api_url=(text("TELEGRAM_API_URL") or cls.telegram_api_url).rstrip("/"),
            telegram_test_env=text("TELEGRAM_TEST_ENV") == "1",
            astria_api_key=text("ASTRIA_API_KEY"),
            astria_api_url=(text("ASTRIA_API_URL") or "").rstrip("/") or None,
            astria_sandbox=text("ASTRIA_SANDBOX") == "1",
            sandbox_faults=text("ASTRIA_SANDBOX_FAULTS") == "1",
            astria_image_hosts=tuple(
                part.strip().rstrip("/")
                for part in (text("ASTRIA_IMAGE_HOSTS") or ",".join(ASTRIA_IMAGE_HOSTS)).split(",")
                if part.strip()
            ),
            public_url=(text("PUBLIC_URL") or cls.public_url).rstrip("/"),
            database_url=text("DATABASE_URL"),
            supabase_url=text("SUPABASE_URL"),
            supabase_service_role_key=text("SUPABASE_SERVICE_ROLE_KEY"),
            redis_url=text("REDIS_URL"),
            admin_chat_ids=admins,
            free_credits=_int(env, "FREE_CREDITS", 3),
            train_cost=_int(env, "TRAIN_COST", 1),
            generate_cost=_int(env, "GENERATE_COST", 1),
            hd_cost=_int(env, "HD_COST", 1),
            inspect_seconds=_float(env, "INSPECT_SECONDS", 8.0),
            faceid_cost=_int(env, "FACEID_COST", 1),
            images_per_prompt=_int(env, "IMAGES_PER_PROMPT", 4, minimum=1),
            astria_base_tune_id=_int(env, "ASTRIA_BASE_TUNE_ID", 1504944, minimum=1),
            astria_model_type=text("ASTRIA_MODEL_TYPE") or "lora",
            astria_branch=text("ASTRIA_BRANCH"),
            astria_token=text("ASTRIA_TOKEN") or "ohwx",
            astria_timeout=_float(env, "ASTRIA_TIMEOUT", 35.0),
            astria_retries=_int(env, "ASTRIA_RETRIES", 3),
            astria_backoff=_float(env, "ASTRIA_BACKOFF", 2.0),
            sandbox_train_seconds=_float(env, "SANDBOX_TRAIN_SECONDS", 20.0),
            sandbox_prompt_seconds=_float(env, "SANDBOX_PROMPT_SECONDS", 5.0),
            secret_key=text("SECRET_KEY") or "",
            instance_path=text("INSTANCE_PATH") or "",
            job_workers=_int(env, "JOB_WORKERS", 4, minimum=1),
            init_data_max_age=_int(env, "INIT_DATA_MAX_AGE", 86400, minimum=1),
            reconcile_every_minutes=_int(env, "RECONCILE_EVERY_MINUTES", 10),
            reconcile_margin_minutes=_int(env, "RECONCILE_MARGIN_MINUTES", 15),
            upload_lease_seconds=_int(env, "UPLOAD_LEASE_SECONDS", 60, minimum=1),
            update_lease_seconds=_float(env, "UPDATE_LEASE_SECONDS", 10.0, positive=True),
            sweep_seconds=_float(env, "SWEEP_SECONDS", 60.0, positive=True),
            astria_retry_minutes=_int(env, "ASTRIA_RETRY_MINUTES", 15),
            telegram_chat_rate=_float(env, "TELEGRAM_CHAT_RATE", 1.0),
            telegram_chat_burst=_int(env, "TELEGRAM_CHAT_BURST", 3, minimum=1),
            telegram_global_rate=_float(env, "TELEGRAM_GLOBAL_RATE", 25.0),
            flood_messages=_int(env, "FLOOD_MESSAGES", 12, minimum=1),
            telegram_webhook_replies=_flag(env, "TELEGRAM_WEBHOOK_REPLIES", True),
            credit_packs=_packs(env),
            monthly_plan=_pack("MONTHLY_PLAN", plan) if (plan := text("MONTHLY_PLAN")) else None,
            refund_days=_int(env, "REFUND_DAYS", 14),
            support_contact=text("SUPPORT_CONTACT"),
        )
        return replace(settings, **overrides) if overrides else settings

    @property
    def dev_mode(self) -> bool:
        """No bot token: no Telegram calls, the Mini App opens in a plain browser."""
        return not self.telegram_bot_token

    @property
    def dev_bot_token(self) -> str:
        """Dev mode's stand-in for the bot token: it signs the dev user's initData, so the Mini
        App API checks it exactly as it checks Telegram's."""
        digest = hmac.new(self.secret_key.encode(), b"dev-bot-token", hashlib.sha256).hexdigest()
        return f"0:{digest}"

    @property
    def sandbox_key(self) -> str:
        """The sandbox's bearer key: only the app's own Astria client knows it."""
        digest = hmac.new(self.secret_key.encode(), b"astria-sandbox", hashlib.sha256).hexdigest()
        return f"sandbox_{digest}"

    @property
    def sandbox(self) -> bool:
        """No Astria key: the app serves and uses its own Astria stand-in."""
        return not self.astria_api_key

    @property
    def astria_base(self) -> str:
        """Where the Astria client sends requests."""
        if self.astria_api_url:
            return self.astria_api_url
        return self.public_url + SANDBOX_PREFIX if self.sandbox else "https://api.astria.ai"

    @property
    def app_url(self) -> str | None:
        """The Mini App's URL for Telegram buttons, which must be https (None otherwise)."""
        return f"{self.public_url}/app" if self.public_url.startswith("https://") else None

    def secrets(self) -> list[str]:
        """Values that must never show in a log line."""
        values = [
            self.telegram_bot_token,
            self.telegram_webhook_secret,
            self.astria_api_key,
            self.supabase_service_role_key,
            self.secret_key,
            self.sandbox_key if self.secret_key else None,
        ]
        return [v for v in values if v and len(v) >= 6]

    def with_instance(self, instance_path: str) -> Settings:
        """Fill in what depends on the instance folder: the database file and the signing key."""
        path = self.instance_path or instance_path
        Path(path).mkdir(mode=0o700, parents=True, exist_ok=True)
        if Path(path).stat().st_uid == os.getuid():  # only the app reads its databases and key
            Path(path).chmod(0o700)
        database_url = self.database_url or f"sqlite:///{Path(path) / 'bot.sqlite3'}"
        secret_key = self.secret_key or _instance_secret(Path(path) / "secret_key")
        return replace(self, instance_path=path, database_url=database_url, secret_key=secret_key)


def _instance_secret(path: Path) -> str:
    """A signing key kept beside the database, made once, so callback URLs survive restarts."""
    try:
        _clear_stale(path)
        if not path.exists():
            _write_once(path, secrets.token_urlsafe(32))
        key = path.read_text().strip()
        mode = path.stat()
    except (OSError, UnicodeDecodeError) as exc:
        raise SettingsError(f"cannot read or make the key {path}: {exc}") from None
    if mode.st_uid != os.getuid() or mode.st_mode & 0o077:  # planted, or open to others
        raise SettingsError(
            f"{path} must belong to this user and be readable by it only (chmod 600), or set "
            "SECRET_KEY"
        )
    if not KEY.fullmatch(key):  # as _write_once wrote it: an edit or a broken disk otherwise
        raise SettingsError(
            f"{path} is damaged (not the key this app made): restore it from a backup, or "
            "delete it to make a new key (callbacks of work already sent to Astria are then "
            "refused), or set SECRET_KEY"
        )
    return key


def _write_once(path: Path, text: str) -> None:
    """Give `path` this content unless it exists, so that nobody ever reads it half-written,
    even after kill -9 or a power cut: written aside readable by its owner only, flushed to
    disk, then linked into place (of several processes starting at once, the first link wins
    and all read that one) and the folder flushed."""
    tmp = path.with_name(f".{path.name}.{os.getpid()}.{secrets.token_hex(4)}")
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    try:
        with os.fdopen(fd, "w") as out:
            out.write(text)
            out.flush()
            os.fsync(out.fileno())
        try:
            os.link(tmp, path)
        except FileExistsError:
            pass
        flush(path.parent)
    finally:
        tmp.unlink(missing_ok=True)


def _clear_stale(path: Path) -> None:
    """Remove what a process killed while writing `path` left aside (see _write_once)."""
    now = time.time()
    aside = re.compile(rf"\.{re.escape(path.name)}\.\d+\.[0-9a-f]{{8}}")  # as _write_once names it
    for left in path.parent.iterdir():
        try:
            if aside.fullmatch(left.name) and now - left.stat().st_mtime > STALE_AFTER:
                left.unlink()
        except FileNotFoundError:  # another process removed it first
            pass
