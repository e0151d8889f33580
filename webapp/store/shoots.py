"""The store's photoshoot and like methods (the Store protocol takes them in): an order charged
once, the lease to send it to Astria, its prompts as they come back, and settling it with a
refund; a user's likes of pictures, and how many each style and photoshoot got."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from datetime import datetime
from typing import Protocol

from webapp.records import Generation, Shoot


class ShootStore(Protocol):
    """Photoshoot orders; SQLite and Supabase implement the same methods."""

    def create_shoot(
        self,
        telegram_id: int,
        *,
        model_id: int,
        pack_id: int,
        title: str,
        class_name: str,
        price: int,
        num_images: int,
        prompts: int,
        request_key: str | None = None,
        message_id: int | None = None,
    ) -> tuple[Shoot, int, bool]:
        """Charge `price` and insert a processing order in one transaction; (order, balance,
        True). A repeat of its `request_key` charges nothing: (the order made before, balance,
        False).
        Raises NotEnoughCredits having changed nothing."""

    def get_shoot(self, shoot_id: int) -> Shoot | None:
        """One order, or None."""

    def list_shoots(self, telegram_id: int, *, limit: int = 20) -> list[Shoot]:
        """The user's orders, newest first."""

    def claim_shoot_submit(self, shoot_id: int, lease_seconds: int) -> bool:
        """Take the lease to send a processing order Astria has not accepted."""

    def postpone_shoot_submit(self, shoot_id: int, free_at: datetime, lease_seconds: int) -> None:
        """Let the submit be claimed again only from `free_at`."""

    def shoots_awaiting_submit(self) -> list[Shoot]:
        """Processing orders Astria has not accepted, oldest first."""

    def mark_shoot_submitted(self, shoot_id: int, prompt_ids: Sequence[str]) -> bool:
        """Astria accepted the run: the prompt ids it named (maybe none); kept once, whatever
        the order's status (its prompts may all have called back before)."""

    def add_shoot_prompt(
        self, shoot: Shoot, prompt_id: str, images: Sequence[str], error: str | None
    ) -> Generation | None:
        """Keep one of the order's prompts as it came back: done with its images, or failed
        with `error`; None when that prompt was kept before (a repeated callback)."""

    def shoot_prompts(self, shoot_id: int) -> list[Generation]:
        """The order's prompts that came back, in the order they came."""

    def settle_shoot(self, shoot_id: int, refund: int) -> tuple[Shoot, int | None] | None:
        """processing → done, `refund` credits back once; (order, new balance or None), or
        None when it was settled before."""

    def fail_shoot(self, shoot_id: int, error: str, refund: int) -> tuple[Shoot, int | None] | None:
        """processing → failed (nothing was made), `refund` back once; as settle_shoot."""

    def shoots_in_progress(self, before: datetime) -> list[Shoot]:
        """Processing orders created before `before`, oldest first."""

    # likes
    def set_like(
        self,
        telegram_id: int,
        generation_id: int,
        image: int,
        liked: bool,
        *,
        topic: str | None,
        lang: str,
    ) -> bool:
        """Like one picture (once) or take the like back; True when that changed anything."""

    def liked_images(self, telegram_id: int, generation_ids: Iterable[int]) -> set[tuple[int, int]]:
        """The user's likes among those generations: (generation id, image) pairs."""

    def like_counts(self, lang: str) -> dict[str, int]:
        """How many likes each topic (a style id, "pack:<id>") got from users of `lang`."""
