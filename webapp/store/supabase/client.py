"""The connection to Supabase's PostgREST, and its errors as the store's."""

from __future__ import annotations

import json
import logging
from datetime import UTC, datetime

import httpx
from postgrest.exceptions import APIError

from supabase import Client, ClientOptions, create_client
from webapp.records import InvalidInput, NotEnoughCredits, StoreError

log = logging.getLogger("store")

NOT_ENOUGH_CREDITS = "P0402"  # the SQLSTATE change_credits() raises
DATA_EXCEPTION = "22"  # SQLSTATE class 22: a value out of range (22003) or malformed (22P02)
TIMEOUT = 10.0


def now() -> str:
    """The current time as PostgREST takes it."""
    return datetime.now(UTC).isoformat()


class PostgREST:
    """One HTTP client per store: connections are reused."""

    def __init__(self, url: str, service_role_key: str) -> None:
        self._http = httpx.Client(timeout=TIMEOUT)
        try:
            self.client: Client = create_client(
                url,
                service_role_key,
                options=ClientOptions(
                    httpx_client=self._http,
                    auto_refresh_token=False,
                    persist_session=False,
                    # supabase-py retries reads for seconds when PostgREST cannot be reached;
                    # a webhook answers 503 at once instead and Telegram delivers it again
                    postgrest_client_retry=False,
                ),
            )
        except Exception as exc:  # supabase-py says "Invalid API key" / "Invalid URL"
            raise StoreError(f"cannot set up the Supabase client: {exc}") from None

    def close(self) -> None:
        """Close the HTTP connections."""
        self._http.close()

    def _run(self, query):
        """Execute a PostgREST query; its errors become StoreError (or NotEnoughCredits, or
        InvalidInput for a value Postgres refuses: the caller's input, not a failure of ours)."""
        try:
            return query.execute().data
        except APIError as exc:
            if exc.code == NOT_ENOUGH_CREDITS:
                raise NotEnoughCredits(**json.loads(exc.details or "{}")) from None
            if str(exc.code or "").startswith(DATA_EXCEPTION):
                log.warning("Supabase refused a value: %s %s", exc.code, exc.message)
                raise InvalidInput("A value is out of range or malformed.") from None
            raise StoreError(f"Supabase refused: {exc.code} {exc.message}", exc.code) from None
        except httpx.HTTPError as exc:
            name = type(exc).__name__
            raise StoreError(f"Supabase is unreachable: {name}", name) from None

    def _rpc(self, name: str, **params):
        return self._run(self.client.rpc(name, params))

    def _table(self, name: str):
        return self.client.table(name)

    def ping(self) -> None:
        """Raise StoreError when Supabase cannot be reached."""
        self._run(self._table("telegram_users").select("id").limit(1))
