"""Settings: every knob of the product, read from the environment once, in the app factory.

Each setting is declared once below: its field, its environment variable (a contract with
deployers: keep the names), its one default and its one parser, whose error names the variable.
`Settings.from_env` reads them all; `Settings(...)` in code starts from the same defaults."""

from __future__ import annotations

import hashlib
import hmac
import os
import re
from collections.abc import Mapping
from dataclasses import dataclass, field, fields, replace
from pathlib import Path

from webapp.instance import instance_secret
from webapp.parsers import (
    Parser,
    chat_ids,
    flag,
    hosts,
    number,
    one_of,
    pack,
    packs,
    redis_address,
    signing_key,
    sqlite_address,
    text,
    url,
    whole,
)
from webapp.records import Pack, SettingsError

__all__ = ["SANDBOX_PREFIX", "Settings", "SettingsError"]

SANDBOX_PREFIX = "/astria-sandbox"
WEBHOOK_SECRET = re.compile(r"[A-Za-z0-9_-]{1,256}")
DEFAULT_MODEL_TYPES = ("lora", "faceid", "pti", "checkpoint")  # what ASTRIA_MODEL_TYPE may be


def env(name: str, default: object, parse: Parser = text, *, secret: bool = False):
    """A setting read from the environment variable `name`; unset or blank: `default`."""
    meta = {"env": name, "parse": parse}
    return field(default=default, repr=not secret, metadata=meta)


@dataclass(frozen=True)
class Settings:
    """The whole configuration (docs/configuration.md says what each one does)."""

    telegram_bot_token: str | None = env("TELEGRAM_BOT_TOKEN", None, secret=True)
    telegram_webhook_secret: str | None = env("TELEGRAM_WEBHOOK_SECRET", None, secret=True)
    telegram_api_url: str = env("TELEGRAM_API_URL", "https://api.telegram.org", url)
    telegram_test_env: bool = env("TELEGRAM_TEST_ENV", False, flag)
    astria_api_key: str | None = env("ASTRIA_API_KEY", None, secret=True)
    astria_api_url: str | None = env("ASTRIA_API_URL", None, url)  # None: sandbox without key
    astria_sandbox: bool = env("ASTRIA_SANDBOX", False, flag)  # the sandbox despite a token
    sandbox_faults: bool = env("ASTRIA_SANDBOX_FAULTS", False, flag)  # tests inject failures
    astria_image_hosts: tuple[str, ...] = env(
        "ASTRIA_IMAGE_HOSTS", ("sdbooth2-production.s3.amazonaws.com", "mp.astria.ai"), hosts
    )  # where Astria's generated images live (public S3 and Astria's CDN)
    public_url: str = env("PUBLIC_URL", "http://127.0.0.1:8000", url)
    database_url: str | None = env(
        "DATABASE_URL", None, sqlite_address
    )  # None: SQLite in the instance folder
    supabase_url: str | None = env("SUPABASE_URL", None, url)
    supabase_service_role_key: str | None = env("SUPABASE_SERVICE_ROLE_KEY", None, secret=True)
    redis_url: str | None = env(
        "REDIS_URL", None, redis_address, secret=True
    )  # may hold a password
    admin_chat_ids: tuple[int, ...] = env("ADMIN_CHAT_IDS", (), chat_ids)
    free_credits: int = env("FREE_CREDITS", 3, whole())
    train_cost: int = env("TRAIN_COST", 1, whole())
    generate_cost: int = env("GENERATE_COST", 1, whole())
    inspect_seconds: float = env("INSPECT_SECONDS", 8.0, number())  # photo check (0: off)
    hd_cost: int = env("HD_COST", 1, whole())
    faceid_cost: int = env("FACEID_COST", 1, whole())
    images_per_prompt: int = env("IMAGES_PER_PROMPT", 4, whole(1))
    astria_base_tune_id: int = env("ASTRIA_BASE_TUNE_ID", 1504944, whole(1))  # Flux.1 dev
    astria_model_type: str = env("ASTRIA_MODEL_TYPE", "lora", one_of(*DEFAULT_MODEL_TYPES))
    astria_branch: str | None = env("ASTRIA_BRANCH", None)  # "fast": free and mocked
    astria_token: str = env("ASTRIA_TOKEN", "ohwx")
    astria_timeout: float = env("ASTRIA_TIMEOUT", 35.0, number())  # Astria: 30 s, or a 504
    astria_retries: int = env("ASTRIA_RETRIES", 3, whole())
    astria_backoff: float = env("ASTRIA_BACKOFF", 2.0, number())  # seconds, doubled per retry
    sandbox_train_seconds: float = env("SANDBOX_TRAIN_SECONDS", 20.0, number())
    sandbox_prompt_seconds: float = env("SANDBOX_PROMPT_SECONDS", 5.0, number())
    # "": made in the instance folder
    secret_key: str = env("SECRET_KEY", "", signing_key, secret=True)
    photoshoots_file: str = env("PHOTOSHOOTS_FILE", "")  # "": webapp/catalogue/photoshoots.toml
    # a photoshoot's prompts not back by then are asked for, then refunded
    photoshoot_deadline_minutes: float = env(
        "PHOTOSHOOT_DEADLINE_MINUTES", 120.0, number(positive=True)
    )
    instance_path: str = env("INSTANCE_PATH", "")
    job_workers: int = env("JOB_WORKERS", 4, whole(1))
    init_data_max_age: int = env("INIT_DATA_MAX_AGE", 86400, whole(1))
    reconcile_every_minutes: int = env("RECONCILE_EVERY_MINUTES", 10, whole())  # 0: never
    reconcile_margin_minutes: int = env("RECONCILE_MARGIN_MINUTES", 15, whole())
    upload_lease_seconds: int = env("UPLOAD_LEASE_SECONDS", 60, whole(1))
    update_lease_seconds: float = env("UPDATE_LEASE_SECONDS", 10.0, number(positive=True))
    sweep_seconds: float = env("SWEEP_SECONDS", 60.0, number(positive=True))
    astria_retry_minutes: int = env("ASTRIA_RETRY_MINUTES", 15, whole())
    telegram_chat_rate: float = env("TELEGRAM_CHAT_RATE", 1.0, number(positive=True))
    telegram_chat_burst: int = env("TELEGRAM_CHAT_BURST", 3, whole(1))
    telegram_global_rate: float = env("TELEGRAM_GLOBAL_RATE", 25.0, number(positive=True))
    flood_messages: int = env("FLOOD_MESSAGES", 12, whole(1))
    telegram_webhook_replies: bool = env("TELEGRAM_WEBHOOK_REPLIES", True, flag)
    credit_packs: tuple[Pack, ...] = env(
        "CREDIT_PACKS", (Pack(10, 100), Pack(50, 450), Pack(200, 1500)), packs
    )  # set it empty to sell nothing
    monthly_plan: Pack | None = env("MONTHLY_PLAN", None, pack)  # a Stars subscription
    refund_days: int = env("REFUND_DAYS", 14, whole())  # told in /paysupport and /terms
    support_contact: str | None = env("SUPPORT_CONTACT", None)  # e.g. @our_support

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
        if bool(self.supabase_url) != bool(self.supabase_service_role_key):
            pair = ("SUPABASE_URL", "SUPABASE_SERVICE_ROLE_KEY")
            given, missing = pair if self.supabase_url else pair[::-1]
            raise SettingsError(
                f"{given} is set but {missing} is not: set both to use Supabase, or neither "
                "for the embedded SQLite store"
            )
        if self.astria_model_type not in DEFAULT_MODEL_TYPES:
            allowed = ", ".join(DEFAULT_MODEL_TYPES)
            raise SettingsError(f"ASTRIA_MODEL_TYPE must be one of {allowed}")
        if self.telegram_chat_rate <= 0 or self.telegram_global_rate <= 0:
            raise SettingsError("TELEGRAM_CHAT_RATE and TELEGRAM_GLOBAL_RATE must be above 0")
        if not 1 <= self.images_per_prompt <= 8:
            raise SettingsError("IMAGES_PER_PROMPT must be between 1 and 8 (Astria's limit)")

    @classmethod
    def from_env(cls, environ: Mapping[str, str] | None = None, **overrides) -> Settings:
        """Build settings from environment variables (os.environ by default)."""
        environ = os.environ if environ is None else environ
        values = {}
        for spec in fields(cls):
            raw = (environ.get(spec.metadata["env"]) or "").strip()
            if raw:
                values[spec.name] = spec.metadata["parse"](spec.metadata["env"], raw)
            elif spec.name == "credit_packs" and spec.metadata["env"] in environ:
                values[spec.name] = ()  # CREDIT_PACKS set empty: nothing is sold
        return cls(**{**values, **overrides})

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
            self.redis_url if self.redis_url and "@" in self.redis_url else None,  # a password
        ]
        return [v for v in values if v and len(v) >= 6]

    def with_instance(self, instance_path: str) -> Settings:
        """Fill in what depends on the instance folder: the database file and the signing key."""
        path = self.instance_path or instance_path
        Path(path).mkdir(mode=0o700, parents=True, exist_ok=True)
        if Path(path).stat().st_uid == os.getuid():  # only the app reads its databases and key
            Path(path).chmod(0o700)
        database_url = self.database_url or f"sqlite:///{Path(path) / 'bot.sqlite3'}"
        secret_key = self.secret_key or instance_secret(Path(path) / "secret_key")
        return replace(self, instance_path=path, database_url=database_url, secret_key=secret_key)
