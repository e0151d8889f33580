"""Likes: a user likes one of their pictures (👍 in the chat, a heart in the Mini App's viewer),
once, and may take it back. The like is kept in our store and passed on to Astria in the
background (POST /prompts/:id/likes: a failure is logged, never shown); and the styles and the
photoshoots are listed most-liked first among users of the same language, so what works rises."""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Sequence
from typing import TypeVar

from webapp.astria import AstriaClient, AstriaError
from webapp.jobs import Background
from webapp.records import Generation, GenerationStatus, NotFound
from webapp.store import Store

log = logging.getLogger("likes")

COUNTS_SECONDS = 300  # how long the like counts per language are kept before being read again
T = TypeVar("T")


class Likes:
    """Likes of pictures, and the catalogues' order by them."""

    def __init__(self, store: Store, astria: AstriaClient, jobs: Background) -> None:
        self.store = store
        self.astria = astria
        self.jobs = jobs
        self._counts: dict[str, tuple[float, dict[str, int]]] = {}  # lang → (read at, counts)
        self._lock = threading.Lock()

    def topic(self, generation: Generation) -> str | None:
        """What a picture was made with, as likes are counted: its style, or its photoshoot."""
        if generation.shoot_id is not None:
            shoot = self.store.get_shoot(generation.shoot_id)
            return f"pack:{shoot.pack_id}" if shoot else None
        return generation.style

    def like(
        self, telegram_id: int, generation_id: int, image: int, liked: bool, lang: str
    ) -> Generation:
        """Like one of the user's pictures (the `image`-th of the generation), or take the like
        back; the generation. NotFound for anyone else's picture, or one that is not there."""
        generation = self.store.get_generation(generation_id)
        if (
            generation is None
            or generation.telegram_user_id != telegram_id
            or generation.status != GenerationStatus.DONE
            or not 0 <= image < len(generation.images)
        ):
            raise NotFound(what="image")
        changed = self.store.set_like(telegram_id, generation.id, image, liked,
                                      topic=self.topic(generation), lang=lang)  # fmt: skip
        if changed:
            with self._lock:
                self._counts.pop(lang, None)  # read again when next asked (other processes: soon)
        if changed and liked and generation.prompt_id and generation.prompt_id.isdigit():
            self.jobs.submit_optional(
                f"like prompt {generation.prompt_id}", self.tell_astria, int(generation.prompt_id)
            )
        log.info("like user=%s generation=%s image=%s liked=%s changed=%s",
                 telegram_id, generation.id, image, liked, changed)  # fmt: skip
        return generation

    def toggle(
        self, telegram_id: int, generation_id: int, image: int, lang: str
    ) -> tuple[Generation, bool]:
        """Like the picture, or take the like back if it was liked (the chat's 👍);
        (the generation, liked now). NotFound as `like`."""
        had = (generation_id, image) in self.store.liked_images(telegram_id, [generation_id])
        return self.like(telegram_id, generation_id, image, not had, lang), not had

    def tell_astria(self, prompt_id: int) -> None:
        """A job: pass a like on to Astria; a failure is only logged."""
        try:
            self.astria.like_prompt(prompt_id)
        except AstriaError as exc:
            log.warning("like of prompt %s not passed to Astria (%s)", prompt_id,
                        type(exc).__name__)  # fmt: skip

    def liked(self, telegram_id: int, generations: Sequence[Generation]) -> set[tuple[int, int]]:
        """The user's likes among these generations: (generation id, image) pairs."""
        return self.store.liked_images(telegram_id, [g.id for g in generations])

    def counts(self, lang: str) -> dict[str, int]:
        """Likes per topic among users of `lang`, read again every few minutes."""
        now = time.monotonic()
        with self._lock:
            kept = self._counts.get(lang)
        if kept is not None and now - kept[0] < COUNTS_SECONDS:
            return kept[1]
        try:
            counts = self.store.like_counts(lang)
        except Exception as exc:  # the order is a nicety: as it was, or the catalogue's
            log.warning("like counts not read (%s)", type(exc).__name__)
            return kept[1] if kept else {}
        with self._lock:
            self._counts[lang] = (now, counts)
        return counts

    def most_liked(self, items: Sequence[T], topic, lang: str) -> list[T]:
        """`items` most-liked first among users of `lang` (`topic(item)` names what its likes
        are counted under); ties keep the catalogue's order."""
        counts = self.counts(lang)
        return sorted(items, key=lambda item: -counts.get(topic(item), 0))
