"""The Supabase store: PostgREST through supabase-py, with every credit change in a Postgres
function (supabase/migrations) called with `rpc` — no read-modify-write of credits in Python.

Round trips: one per method. A webhook update costs three (claim the update id, ensure the
user, read the chat state) plus what its handler does (a flow step writes the state: one more).
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from datetime import UTC, datetime

import httpx
from postgrest.exceptions import APIError

from supabase import Client, ClientOptions, create_client
from webapp.records import (
    Conversation,
    Generation,
    LedgerEntry,
    Model,
    NotEnoughCredits,
    StoreError,
    User,
)
from webapp.store import rows

NOT_ENOUGH_CREDITS = "P0402"  # the SQLSTATE change_credits() raises
TIMEOUT = 10.0


def _now() -> str:
    return datetime.now(UTC).isoformat()


class SupabaseStore:
    """The Store on Supabase (PostgreSQL behind PostgREST), with the service-role key."""

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

    # plumbing ---------------------------------------------------------------------------------

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

    # users and credits ------------------------------------------------------------------------

    def ensure_user(
        self,
        telegram_id: int,
        *,
        username: str | None,
        first_name: str | None,
        last_name: str | None,
        language_code: str | None,
        free_credits: int,
        signup_key: str,
    ) -> tuple[User, bool]:
        """Create the user on first contact (free credits once per signup key), else refresh."""
        result = self._rpc(
            "ensure_user",
            p_telegram_id=telegram_id,
            p_username=username,
            p_first_name=first_name,
            p_last_name=last_name,
            p_language_code=language_code,
            p_free_credits=free_credits,
            p_signup_key=signup_key,
        )
        return rows.user(result["user"]), bool(result["created"])

    def get_user(self, telegram_id: int) -> User | None:
        """The user, or None."""
        found = self._run(self._table("telegram_users").select("*").eq("telegram_id", telegram_id))
        return rows.user(found[0]) if found else None

    def grant(self, telegram_id: int, amount: int, reason: str, ref: str) -> int | None:
        """Add credits once per (reason, ref)."""
        return self._rpc(
            "grant_credits", p_telegram_id=telegram_id, p_amount=amount, p_reason=reason, p_ref=ref
        )

    def ledger(self, telegram_id: int) -> list[LedgerEntry]:
        """Every credit change of the user, oldest first."""
        found = self._run(
            self._table("credit_ledger").select("*").eq("telegram_user_id", telegram_id).order("id")
        )
        return [rows.ledger_entry(r) for r in found]

    def set_user_status(self, telegram_id: int, status: str) -> None:
        """Mark a user active or blocked."""
        self._run(
            self._table("telegram_users").update({"status": status}).eq("telegram_id", telegram_id)
        )

    def delete_user(self, telegram_id: int) -> int:
        """Delete every row of the user in one transaction (delete_user_data())."""
        return self._rpc("delete_user_data", p_telegram_id=telegram_id) or 0

    def stats(self, since: datetime) -> dict:
        """Counts, and credits spent (net of refunds) since `since` (bot_stats())."""
        return self._rpc("bot_stats", p_since=since.isoformat())

    # webhook deliveries -----------------------------------------------------------------------

    def claim_update(self, update_id: int) -> bool:
        """True the first time an update id is seen (an insert that ignores duplicates)."""
        inserted = self._run(
            self._table("processed_updates").upsert(
                {"update_id": update_id}, on_conflict="update_id", ignore_duplicates=True
            )
        )
        return bool(inserted)

    # conversation state -----------------------------------------------------------------------

    def get_conversation(self, key: str) -> Conversation:
        """The chat flow state under a key."""
        found = self._run(self._table("conversation_states").select("state,data").eq("key", key))
        if not found:
            return Conversation(None, {})
        return Conversation(found[0]["state"], found[0]["data"] or {})

    def set_conversation(self, key: str, state: str | None, data: dict) -> None:
        """Write the chat flow state under a key."""
        self._run(
            self._table("conversation_states").upsert(
                {"key": key, "state": state, "data": data, "updated_at": _now()}, on_conflict="key"
            )
        )

    def clear_conversation(self, key: str) -> None:
        """Forget the chat flow state under a key."""
        self._run(self._table("conversation_states").delete().eq("key", key))

    # models -----------------------------------------------------------------------------------

    def create_model(
        self,
        telegram_id: int,
        *,
        name: str,
        class_name: str,
        title: str,
        photo_file_ids: Sequence[str],
        cost: int,
    ) -> tuple[Model, int]:
        """Charge and insert a training model in one transaction (create_model())."""
        result = self._rpc(
            "create_model",
            p_telegram_id=telegram_id,
            p_name=name,
            p_class_name=class_name,
            p_title=title,
            p_photo_file_ids=list(photo_file_ids),
            p_cost=cost,
        )
        return rows.model(result["model"]), result["balance"]

    def get_model(self, model_id: int) -> Model | None:
        """One model, or None."""
        found = self._run(self._table("telegram_models").select("*").eq("id", model_id))
        return rows.model(found[0]) if found else None

    def list_models(self, telegram_id: int) -> list[Model]:
        """The user's models, newest first."""
        found = self._run(
            self._table("telegram_models")
            .select("*")
            .eq("telegram_user_id", telegram_id)
            .order("id", desc=True)
        )
        return [rows.model(r) for r in found]

    def claim_model_upload(self, model_id: int, lease_seconds: int) -> bool:
        """Take the upload lease on a training model Astria has not acknowledged."""
        # A function, not a PATCH: PostgREST re-applies the filters to the rows it returns, so
        # an update that fills the lease column would report that it changed nothing.
        return bool(
            self._rpc("claim_model_upload", p_model_id=model_id, p_lease_seconds=lease_seconds)
        )

    def models_awaiting_upload(self) -> list[Model]:
        """Training models without an Astria tune id."""
        found = self._run(
            self._table("telegram_models")
            .select("*")
            .eq("status", "training")
            .is_("model_id", "null")
            .order("id")
        )
        return [rows.model(r) for r in found]

    def models_in_progress(self, before: datetime) -> list[Model]:
        """Training models whose ETA (or creation) is before `before` (few: filtered here)."""
        found = self._run(self._table("telegram_models").select("*").eq("status", "training"))
        models = [rows.model(r) for r in found]
        return sorted((m for m in models if (m.eta or m.created_at) < before), key=lambda m: m.id)

    def mark_model_submitted(self, model_id: int, tune_id: int, eta: datetime | None) -> bool:
        """Record Astria's tune id and ETA."""
        patch = {"model_id": tune_id, "eta": eta.isoformat() if eta else None, "updated_at": _now()}
        return bool(
            self._run(
                self._table("telegram_models")
                .update(patch)
                .eq("id", model_id)
                .eq("status", "training")
            )
        )

    def finish_model(
        self, model_id: int, tune_id: int | None, trained_at: datetime | None
    ) -> Model | None:
        """training → ready."""
        patch = {
            "status": "ready",
            "trained_at": (trained_at or datetime.now(UTC)).isoformat(),
            "error": None,
            "updated_at": _now(),
        }
        if tune_id is not None:
            patch["model_id"] = tune_id
        found = self._run(
            self._table("telegram_models").update(patch).eq("id", model_id).eq("status", "training")
        )
        return rows.model(found[0]) if found else None

    def fail_model(self, model_id: int, error: str, refund: int) -> tuple[Model, int | None] | None:
        """training → failed, with the training charge refunded once (fail_model())."""
        result = self._rpc("fail_model", p_model_id=model_id, p_error=error, p_refund=refund)
        if result is None:
            return None
        return rows.model(result["model"]), result["balance"]

    # generations ------------------------------------------------------------------------------

    def create_generation(
        self, telegram_id: int, *, model_id: int, prompt: str, num_images: int, cost: int
    ) -> tuple[Generation, int]:
        """Charge and insert a processing generation in one transaction (create_generation())."""
        result = self._rpc(
            "create_generation",
            p_telegram_id=telegram_id,
            p_model_id=model_id,
            p_prompt=prompt,
            p_num_images=num_images,
            p_cost=cost,
        )
        return rows.generation(result["generation"]), result["balance"]

    def get_generation(self, generation_id: int) -> Generation | None:
        """One generation, or None."""
        found = self._run(self._table("telegram_prompts").select("*").eq("id", generation_id))
        return rows.generation(found[0]) if found else None

    def list_generations(
        self,
        telegram_id: int,
        *,
        model_id: int | None = None,
        limit: int = 20,
        before_id: int | None = None,
    ) -> list[Generation]:
        """The user's generations, newest first."""
        query = self._table("telegram_prompts").select("*").eq("telegram_user_id", telegram_id)
        if model_id is not None:
            query = query.eq("model_id", model_id)
        if before_id is not None:
            query = query.lt("id", before_id)
        found = self._run(query.order("id", desc=True).limit(limit))
        return [rows.generation(r) for r in found]

    def claim_generation_submit(self, generation_id: int, lease_seconds: int) -> bool:
        """Take the submit lease on a processing generation Astria has not acknowledged."""
        return bool(
            self._rpc(
                "claim_generation_submit",
                p_generation_id=generation_id,
                p_lease_seconds=lease_seconds,
            )
        )

    def generations_awaiting_submit(self) -> list[Generation]:
        """Processing generations without an Astria prompt id."""
        found = self._run(
            self._table("telegram_prompts")
            .select("*")
            .eq("status", "processing")
            .is_("prompt_id", "null")
            .order("id")
        )
        return [rows.generation(r) for r in found]

    def generations_in_progress(self, before: datetime) -> list[Generation]:
        """Processing generations created before `before`."""
        found = self._run(
            self._table("telegram_prompts")
            .select("*")
            .eq("status", "processing")
            .lt("created_at", before.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ"))
            .order("id")
        )
        return [rows.generation(r) for r in found]

    def mark_generation_submitted(self, generation_id: int, prompt_id: str) -> bool:
        """Record Astria's prompt id."""
        return bool(
            self._run(
                self._table("telegram_prompts")
                .update({"prompt_id": prompt_id, "updated_at": _now()})
                .eq("id", generation_id)
                .eq("status", "processing")
            )
        )

    def finish_generation(
        self, generation_id: int, images: Sequence[str], prompt_id: str | None
    ) -> Generation | None:
        """processing → done."""
        patch = {"status": "done", "images": list(images), "error": None, "updated_at": _now()}
        if prompt_id is not None:
            patch["prompt_id"] = prompt_id
        found = self._run(
            self._table("telegram_prompts")
            .update(patch)
            .eq("id", generation_id)
            .eq("status", "processing")
        )
        return rows.generation(found[0]) if found else None

    def fail_generation(
        self, generation_id: int, error: str, refund: int
    ) -> tuple[Generation, int | None] | None:
        """processing → failed, with the charge refunded once (fail_generation())."""
        result = self._rpc(
            "fail_generation", p_generation_id=generation_id, p_error=error, p_refund=refund
        )
        if result is None:
            return None
        return rows.generation(result["generation"]), result["balance"]
