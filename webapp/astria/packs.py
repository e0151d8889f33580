"""Astria's packs (photoshoots: a set of template prompts run on a person's tune), as typed
values: the lists (`GET /gallery/packs`, `GET /packs`) and one pack (`GET /p/:id`). Every field
but `id`, `slug` and `title` is optional in what Astria answers: a pack whose answer is
malformed is skipped, never an error for the whole list."""

from __future__ import annotations

import logging
from dataclasses import dataclass

from webapp.astria.answers import astria_id

log = logging.getLogger("astria")

MAX_SAMPLES = 10  # sample pictures kept per class (one per template prompt, the first ones)


@dataclass(frozen=True)
class PackListing:
    """A pack as Astria lists it."""

    id: int
    slug: str
    title: str


@dataclass(frozen=True)
class PackClass:
    """What a pack makes for one class of subject (man, woman, …): its images and its cost to
    us (Astria's `costs`; the unit is Astria's)."""

    images: int
    cost: float | None
    samples: tuple[str, ...]  # sample pictures, one per template prompt
    templates: tuple[int, ...]  # the template prompts' ids (`prompt_ids[]` runs only some)


@dataclass(frozen=True)
class Pack:
    """One pack: its cover and, per class it supports, what it makes. A class missing from
    Astria's `costs` is not supported."""

    id: int
    slug: str
    title: str
    cover: str | None
    classes: dict[str, PackClass]

    def supports(self, class_name: str) -> bool:
        return class_name in self.classes


def _text(value) -> str | None:
    return value.strip() if isinstance(value, str) and value.strip() else None


def _url(value) -> str | None:
    return value if isinstance(value, str) and value.startswith(("https://", "http://")) else None


def parse_listing(obj) -> PackListing:
    """One entry of Astria's pack lists → PackListing (ValueError when it is not one)."""
    if not isinstance(obj, dict) or astria_id(obj.get("id")) is None:
        raise ValueError("not a pack")
    slug, title = _text(obj.get("slug")), _text(obj.get("title"))
    if slug is None or title is None:
        raise ValueError("a pack without a slug or a title")
    return PackListing(obj["id"], slug, title)


def parse_listings(body) -> list[PackListing]:
    """Astria's pack list → the packs in it that can be read (the others logged, skipped)."""
    if not isinstance(body, list):
        raise ValueError("the pack list is not a list")
    found = []
    for entry in body:
        try:
            found.append(parse_listing(entry))
        except ValueError as exc:
            log.warning("an Astria pack skipped: %s", exc)
    return found


def parse_pack(obj) -> Pack:
    """Astria's `GET /p/:id` → Pack (ValueError when it cannot be read)."""
    listing = parse_listing(obj)
    costs = obj.get("costs") if isinstance(obj.get("costs"), dict) else {}
    prompts = obj.get("prompts_per_class")
    prompts = prompts if isinstance(prompts, dict) else {}
    classes = {}
    for name, cost in costs.items():
        name = _text(name)
        if name is None or not isinstance(cost, dict):
            continue
        images = cost.get("num_images")
        if type(images) is not int or images < 1:
            continue  # a class it makes nothing for is not offered
        price = cost.get("cost")
        templates = [p for p in prompts.get(name) or () if isinstance(p, dict)]
        samples = [
            url
            for p in templates
            if isinstance(p.get("images"), list) and p["images"]
            for url in [_url(p["images"][0])]
            if url
        ]
        classes[name] = PackClass(
            images=images,
            cost=float(price) if isinstance(price, int | float) and price >= 0 else None,
            samples=tuple(samples[:MAX_SAMPLES]),
            templates=tuple(i for p in templates if (i := astria_id(p.get("id"))) is not None),
        )
    return Pack(listing.id, listing.slug, listing.title, _url(obj.get("cover_url")), classes)


def parse_run(body) -> tuple[int, ...]:
    """Astria's answer to `POST /p/:id/tunes` on existing tunes: the new prompts' ids. It may be
    a status envelope with `prompt_ids`, one with only a message (the ids are then found by
    listing the tune's prompts), or a tune object (when it trains first): () for the last two."""
    if not isinstance(body, dict):
        raise ValueError("not an object")
    ids = body.get("prompt_ids")
    if isinstance(ids, list):
        return tuple(i for i in map(astria_id, ids) if i is not None)
    if "status" in body or astria_id(body.get("id")) is not None:
        return ()
    raise ValueError("neither a status nor a tune")
