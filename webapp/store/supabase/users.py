"""Users, their credits and the ledger; the webhook's processed updates."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

from webapp.records import Begun, Conversation, DeletedUser, LedgerEntry, StateWrite, User
from webapp.store import rows
from webapp.store.supabase.client import PostgREST


class Users(PostgREST):
    """The store's user and credit methods."""

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

    def delete_user(self, telegram_id: int) -> DeletedUser:
        """Delete every row of the user in one transaction; the Astria ids they named
        (forget_user())."""
        deleted = self._rpc("forget_user", p_telegram_id=telegram_id)
        return DeletedUser(
            models=deleted["models"],
            tunes=tuple(deleted["tunes"]),
            prompts=tuple(tuple(triple) for triple in deleted["prompts"]),
        )

    def stats(self, since: datetime) -> dict:
        """Counts, and credits spent (net of refunds) since `since` (bot_stats())."""
        return self._rpc("bot_stats", p_since=since.isoformat())

    def begin_update(
        self,
        update_id: int,
        telegram_id: int,
        *,
        username: str | None,
        first_name: str | None,
        last_name: str | None,
        language_code: str | None,
        free_credits: int,
        signup_key: str,
        state_key: str,
        holder: str,
        lease: float,
    ) -> Begun:
        """Claim, ensure the sender and read their state in one function call (begin_update())."""
        result = self._rpc(
            "begin_update",
            p_update_id=update_id,
            p_telegram_id=telegram_id,
            p_username=username,
            p_first_name=first_name,
            p_last_name=last_name,
            p_language_code=language_code,
            p_free_credits=free_credits,
            p_signup_key=signup_key,
            p_state_key=state_key,
            p_holder=holder,
            p_lease_seconds=lease,
        )
        if not result.get("claimed"):
            return _not_claimed(result)
        found = result.get("conversation")
        conversation = (
            Conversation(found["state"], found["data"] or {}) if found else Conversation(None, {})
        )
        return Begun(
            True,
            rows.user(result["user"]),
            bool(result["created"]),
            conversation,
            taken_over=bool(result.get("taken_over")),
        )

    def claim_update(self, update_id: int, holder: str, lease: float) -> Begun:
        """Claim an update for a lease (claim_update())."""
        result = self._rpc(
            "claim_update", p_update_id=update_id, p_holder=holder, p_lease_seconds=lease
        )
        if result.get("claimed"):
            return Begun(True, taken_over=bool(result.get("taken_over")))
        return _not_claimed(result)

    def finish_update(
        self,
        update_id: int,
        holder: str,
        writes: Sequence[StateWrite] = (),
        answer: dict | None = None,
    ) -> bool:
        """Mark the update done with its answer and write its chat states in one call
        (finish_update())."""
        return bool(
            self._rpc(
                "finish_update",
                p_update_id=update_id,
                p_holder=holder,
                p_writes=[{"key": w.key, "state": w.state, "data": w.data} for w in writes],
                p_answer=answer,
            )
        )

    def updates_done(self, done: Sequence[tuple[int, dict | None]], holder: str) -> None:
        """Mark updates that wrote nothing done, with their answers (updates_done())."""
        self._rpc(
            "updates_done",
            p_done=[{"id": update_id, "answer": answer} for update_id, answer in done],
            p_holder=holder,
        )

    def renew_updates(self, update_ids: Sequence[int], holder: str) -> None:
        """Renew the claims on updates still being handled (renew_updates())."""
        self._rpc("renew_updates", p_update_ids=list(update_ids), p_holder=holder)


def _not_claimed(result: dict) -> Begun:
    return Begun(
        False,
        busy=bool(result.get("busy")),
        held_at=result.get("held_at"),
        held_by=result.get("held_by"),
        answer=result.get("answer"),
    )
