"""What models and generations share on Supabase: the lease to carry them to Astria and the
conditional moves out of their working status (a refund goes with a failure, in one Postgres
function)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from webapp.store.supabase.client import PostgREST, now


@dataclass(frozen=True)
class Kind:
    """How one kind of work is stored."""

    table: str  # telegram_models | telegram_prompts
    working: str  # training | processing
    astria_id: str  # model_id (the tune) | prompt_id
    name: str  # model | generation: in the Postgres functions' arguments (p_model_id), fail_<name>
    claim: str  # the Postgres function that takes the lease: claim_model_upload | …_submit
    record: object  # rows.model | rows.generation
    lease: str  # the column of the lease: upload_claimed_at | submit_claimed_at


class Work(PostgREST):
    """Transitions every kind of work goes through."""

    def _claim(self, kind: Kind, object_id: int, lease_seconds: int) -> bool:
        """Take the lease to send the work to Astria.

        A function, not a PATCH: PostgREST re-applies the filters to the rows it returns, so an
        update that fills the lease column would report that it changed nothing."""
        arguments = {f"p_{kind.name}_id": object_id, "p_lease_seconds": lease_seconds}
        return bool(self._rpc(kind.claim, **arguments))

    def _postpone(self, kind: Kind, object_id: int, free_at: datetime, lease_seconds: int) -> None:
        """Hold the lease so that it runs out at `free_at` (a PATCH: the filters do not name
        the lease column, so PostgREST's re-check of the rows changes nothing)."""
        held = (free_at - timedelta(seconds=lease_seconds)).isoformat()
        query = self._table(kind.table).update({kind.lease: held})
        self._run(query.eq("id", object_id).eq("status", kind.working).is_(kind.astria_id, "null"))

    def _awaiting(self, kind: Kind) -> list:
        """Work Astria has not acknowledged yet, oldest first."""
        found = self._run(
            self._table(kind.table)
            .select("*")
            .eq("status", kind.working)
            .is_(kind.astria_id, "null")
            .order("id")
        )
        return [kind.record(r) for r in found]

    def _mark_submitted(self, kind: Kind, object_id: int, **patch) -> bool:
        """Record Astria's id (and what comes with it) on working work."""
        query = self._table(kind.table).update({**patch, "updated_at": now()})
        return bool(self._run(query.eq("id", object_id).eq("status", kind.working)))

    def _finish(self, kind: Kind, object_id: int, astria_id, **patch):
        """working → ready/done (and Astria's id, if given); the updated record, or None."""
        status = "ready" if kind.working == "training" else "done"
        patch = {**patch, "status": status, "error": None, "updated_at": now()}
        if astria_id is not None:
            patch[kind.astria_id] = astria_id
        query = self._table(kind.table).update(patch)
        found = self._run(query.eq("id", object_id).eq("status", kind.working))
        return kind.record(found[0]) if found else None

    def _fail(self, kind: Kind, object_id: int, error: str, refund: int):
        """working → failed with the charge refunded once (fail_model()/fail_generation())."""
        result = self._rpc(
            f"fail_{kind.name}", **{f"p_{kind.name}_id": object_id}, p_error=error, p_refund=refund
        )
        if result is None:
            return None
        return kind.record(result[kind.name]), result["balance"]


def utc_text(value: datetime) -> str:
    """A time as a PostgREST filter compares it."""
    return value.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")
