"""A check of training photos before anything is paid: Astria's /images/inspect says whether a
photo is blurry, shows several people, sunglasses or a hat, or another kind of subject than the
one chosen; what it sees most (age, hair, eyes…) goes with the tune as `characteristics`.

The check helps, it never blocks: a photo Astria cannot inspect in time passes (logged)."""

from __future__ import annotations

import logging
from collections import Counter
from collections.abc import Sequence
from concurrent.futures import ThreadPoolExecutor, wait
from dataclasses import dataclass, field

from webapp.astria import AstriaClient, Photo

log = logging.getLogger("inspection")

# Astria's flag → the problem we name (texts: problem_<name> in the chat, problems.<name> in
# the Mini App)
FLAGS = {
    "blurry": "blurry",
    "includes_multiple_people": "several_people",
    "wearing_sunglasses": "sunglasses",
    "wearing_hat": "hat",
}
OTHER_CLASS = "other_class"
PROBLEMS = (*FLAGS.values(), OTHER_CLASS)
RECOGNISED = {"man", "woman", "boy", "girl", "baby", "cat", "dog"}  # what inspect tells apart
TRAITS = ("age", "ethnicity", "eye_color", "hair_color", "hair_length", "hair_style",
          "facial_hair", "glasses", "is_bald")  # fmt: skip
GENERIC = "person"  # asked for when the class is not known yet (the chat asks it last)


@dataclass(frozen=True)
class Verdict:
    """What the inspection found in one photo."""

    problems: tuple[str, ...] = ()
    seen_as: str | None = None  # the class Astria recognised
    traits: dict = field(default_factory=dict)


def _yes(value) -> bool:
    """Astria's booleans come as true/false or as "true"/"false"."""
    return value is True or (isinstance(value, str) and value.strip().lower() == "true")


def verdict(class_name: str, answer: dict) -> Verdict:
    """Astria's answer for a photo of `class_name` → the problems it shows."""
    problems = [ours for flag, ours in FLAGS.items() if _yes(answer.get(flag))]
    seen = answer.get("name") if isinstance(answer.get("name"), str) else None
    if class_name in RECOGNISED and seen in RECOGNISED and seen != class_name:
        problems.append(OTHER_CLASS)
    traits = {
        k: v.strip()[:60]
        for k in TRAITS
        if isinstance(v := answer.get(k), str) and v.strip() and v.strip().upper() != "NONE"
    }
    return Verdict(tuple(problems), seen, traits)


def mismatched(class_name: str, verdicts: Sequence[Verdict | None]) -> list[int]:
    """The photos (0-based) Astria saw as another kind of subject than `class_name` (for the
    chat, whose photos were inspected before the class was chosen)."""
    if class_name not in RECOGNISED:
        return []
    return [
        n
        for n, v in enumerate(verdicts)
        if v is not None and v.seen_as in RECOGNISED and v.seen_as != class_name
    ]


def characteristics(verdicts: Sequence[Verdict | None]) -> dict:
    """The value Astria saw most for each trait, over the photos."""
    found = {}
    for trait in TRAITS:
        counts = Counter(v.traits[trait] for v in verdicts if v and trait in v.traits)
        if counts:
            found[trait] = counts.most_common(1)[0][0]
    return found


class Inspector:
    """Inspects photos concurrently, within a deadline."""

    def __init__(self, astria: AstriaClient, deadline: float, enabled: bool = True) -> None:
        self.astria = astria
        self.deadline = deadline
        self.enabled = enabled
        self._pool = ThreadPoolExecutor(4, thread_name_prefix="inspect")

    def inspect(self, class_name: str, photos: Sequence[Photo]) -> list[Verdict | None]:
        """A verdict per photo (None: not inspected: off, failed or too slow)."""
        if not self.enabled:
            return [None] * len(photos)
        futures = [
            self._pool.submit(self.astria.inspect_image, class_name, p, self.deadline)
            for p in photos
        ]
        wait(futures, timeout=self.deadline + 1)  # one deadline for all: they run side by side
        verdicts: list[Verdict | None] = []
        for n, future in enumerate(futures):
            try:
                verdicts.append(verdict(class_name, future.result(timeout=0)))
            except Exception as exc:  # a check never blocks training: log and go on without it
                future.cancel()
                log.warning("photo %s not inspected: %s", n + 1, type(exc).__name__)
                verdicts.append(None)
        found = [v.problems for v in verdicts if v and v.problems]
        log.info("inspected %s photos: %s with problems", len(photos), len(found))
        return verdicts

    def close(self) -> None:
        """Stop the threads (at shutdown)."""
        self._pool.shutdown(wait=False, cancel_futures=True)
