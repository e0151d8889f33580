"""The sandbox's packs (Astria's photoshoots): three public packs with a cover and a sample
picture per template prompt, rendered like its generated images, so the product shows real
photoshoots offline. Shaped as Astria's `GET /gallery/packs` and `GET /p/:id` answer."""

from __future__ import annotations

from dataclasses import dataclass

SUBJECTS = {"man": "a man", "woman": "a woman"}


@dataclass(frozen=True)
class SandboxPack:
    id: int
    slug: str
    title: str
    looks: tuple[str, ...]  # one template prompt per look, for each class
    classes: tuple[str, ...] = ("man", "woman")

    def templates(self, class_name: str) -> list[tuple[int, str]]:
        """(template prompt id, its text) for a class: ids as Astria's, unique per pack."""
        offset = self.classes.index(class_name) * 1000
        subject = SUBJECTS.get(class_name, class_name)
        return [
            (self.id * 10_000 + offset + n, f"{look}, ohwx {subject}")
            for n, look in enumerate(self.looks)
        ]


# (260 is Astria's public "Corporate Headshots"; the sandbox's looks are its own)
PACKS = (
    SandboxPack(
        260,
        "corporate-headshots",
        "Corporate Headshots",
        tuple(
            f"corporate headshot, {place}, {wear}"
            for place in ("glass office", "city street", "studio grey backdrop", "library")
            for wear in ("navy suit", "white shirt", "knit sweater", "dark blazer")
        ),
    ),
    SandboxPack(
        1187,
        "dating-profile",
        "Dating Profile",
        tuple(
            f"candid photo, {place}, golden hour, {mood}"
            for place in ("rooftop terrace", "seaside promenade", "coffee shop", "park alley")
            for mood in ("laughing", "relaxed smile", "looking away", "close-up")
        ),
    ),
    SandboxPack(
        1520,
        "viking-saga",
        "Viking Saga",
        tuple(
            f"epic portrait, {scene}, {light}"
            for scene in ("fjord at dawn", "longship deck", "snowy forest")
            for light in ("cold mist", "torchlight", "storm clouds", "low sun")
        ),
        classes=("man", "woman", "boy"),
    ),
)


def find(pack_id: int) -> SandboxPack | None:
    return next((p for p in PACKS if p.id == pack_id), None)


def listing_json(pack: SandboxPack) -> dict:
    """A pack as `GET /gallery/packs` lists it (Astria's costs there are in milli-cents)."""
    return {
        "id": pack.id,
        "slug": pack.slug,
        "title": pack.title,
        "public_at": "2026-01-01T00:00:00.000Z",
        "cost_mc_hash": {c: 100_000 * len(pack.looks) for c in pack.classes},
    }


def pack_json(pack: SandboxPack, images: str) -> dict:
    """A pack as `GET /p/:id` answers, its pictures under `images` (the sandbox's image URL)."""
    base = f"{images}/packs/{pack.id}"
    return {
        **listing_json(pack),
        "cover_url": f"{base}/cover.jpg",
        "costs": {
            c: {"cost": 10 * len(pack.looks), "num_images": len(pack.looks)} for c in pack.classes
        },  # fmt: skip
        "prompts_per_class": {
            c: [
                {"id": template, "images": [f"{base}/{c}/{n}.jpg"]}
                for n, (template, _) in enumerate(pack.templates(c))
            ]
            for c in pack.classes
        },
    }


def picture_text(pack: SandboxPack, name: str, n: int | None) -> str | None:
    """What a pack's picture shows: its cover (`name` "cover") or a class's n-th sample."""
    if name == "cover" and n is None:
        return pack.title
    if name in pack.classes and n is not None and 0 <= n < len(pack.looks):
        return pack.templates(name)[n][1]
    return None
