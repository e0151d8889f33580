"""The connection to Supabase's PostgREST, and its errors as the store's."""

from __future__ import annotations

import json
from datetime import UTC, datetime

import httpx
from postgrest.exceptions import APIError

from supabase import Client, ClientOptions, create_client
from webapp.records import NotEnoughCredits, StoreError

NOT_ENOUGH_CREDITS = "P0402"  # the SQLSTATE change_credits() raises
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
                ),
            )
        except Exception as exc:  # supabase-py says "Invalid API key" / "Invalid URL"
            raise StoreError(f"cannot set up the Supabase client: {exc}") from None

    def close(self) -> None:
        """Close the HTTP connections."""
        self._http.close()

    def _run(self, query):
        """Execute a PostgREST query; its errors become StoreError (or NotEnoughCredits)."""
        try:
            return query.execute().data
        except APIError as exc:
            if exc.code == NOT_ENOUGH_CREDITS:
                raise NotEnoughCredits(**json.loads(exc.details or "{}")) from None
            raise StoreError(f"Supabase refused: {exc.code} {exc.message}") from None
        except httpx.HTTPError as exc:
            raise StoreError(f"Supabase is unreachable: {type(exc).__name__}") from None

    def _rpc(self, name: str, **params):
        return self._run(self.client.rpc(name, params))

    def _table(self, name: str):
        return self.client.table(name)

    def ping(self) -> None:
        """Raise StoreError when Supabase cannot be reached."""
        self._run(self._table("telegram_users").select("id").limit(1))
