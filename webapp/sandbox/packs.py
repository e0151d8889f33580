"""The sandbox's packs (Astria's photoshoots): three public packs with a cover and a sample
picture per template prompt, rendered like its generated images, so the product shows real
photoshoots offline. Shaped as Astria's `GET /gallery/packs` and `GET /p/:id` answer."""

from __future__ import annotations

import json
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


def _looks(template: str, firsts: tuple[str, ...], seconds: tuple[str, ...]) -> tuple[str, ...]:
    """A pack's looks: `template` filled with each pair of a first and a second word."""
    return tuple(template.format(a, b) for a in firsts for b in seconds)


# (260 is Astria's public "Corporate Headshots"; the sandbox's looks are its own)
PACKS = (
    SandboxPack(
        260,
        "corporate-headshots",
        "Corporate Headshots",
        _looks(
            "corporate headshot, {}, {}",
            ("glass office", "city street", "studio grey backdrop", "library"),
            ("navy suit", "white shirt", "knit sweater", "dark blazer"),
        ),
    ),
    SandboxPack(
        1187,
        "dating-profile",
        "Dating Profile",
        _looks(
            "candid photo, {}, golden hour, {}",
            ("rooftop terrace", "seaside promenade", "coffee shop", "park alley"),
            ("laughing", "relaxed smile", "looking away", "close-up"),
        ),
    ),
    SandboxPack(
        1520,
        "viking-saga",
        "Viking Saga",
        _looks(
            "epic portrait, {}, {}",
            ("fjord at dawn", "longship deck", "snowy forest"),
            ("cold mist", "torchlight", "storm clouds", "low sun"),
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


FLUX = 1504944  # the base model a pack's prompts run on for a LoRA or FaceID tune, as on Astria


def _where(tune) -> tuple[int]:
    """The tune a pack's prompt for `tune` is made on: Flux's base for a LoRA or FaceID (as
    a prompt of ours is: webapp.services.generation.prompt_tune), the tune itself otherwise."""
    return (FLUX,) if tune["model_type"] in ("lora", "faceid") else (tune["id"],)


def _tag(tune) -> str:
    kind = "faceid" if tune["model_type"] == "faceid" else "lora"
    return f"<{kind}:{tune['id']}:1>"


def run(sandbox, pack: SandboxPack, fields: dict) -> tuple[dict, int]:
    """POST /p/:id/tunes on existing tunes (`tune_ids[]`, no training): one prompt per template
    of each tune's class (or of `prompt_ids[]` only), each calling back `prompt_attributes
    [callback]` once when done; (body, status) as Astria answers, a status envelope. Its
    `title` is the idempotency key: the same title again makes nothing new."""
    title = fields.get("title")
    if not isinstance(title, str) or not title.strip():
        return {"error": "title is required"}, 422
    tune_ids = fields.get("tune_ids")
    tune_ids = tune_ids if isinstance(tune_ids, list) else [tune_ids] if tune_ids else []
    if not tune_ids:  # (Astria would train first on `images[]`: the sandbox does not, yet)
        return {"error": "tune_ids are required (the sandbox does not train for a pack)"}, 422
    attributes = fields.get("prompt_attributes")  # JSON: a table; multipart: its one field
    callback = attributes.get("callback") if isinstance(attributes, dict) else attributes
    if refused := sandbox.callback_refused(callback):
        return refused, 422
    chosen = {str(i) for i in fields.get("prompt_ids") or ()}
    db = sandbox.state.db()
    done = db.execute("SELECT prompt_ids FROM pack_runs WHERE title = ?", (title,)).fetchone()
    if done is not None:
        return {"status": 201, "prompt_ids": json.loads(done["prompt_ids"])}, 201
    work = []
    for raw in tune_ids:
        tune = sandbox.get_tune(int(raw)) if str(raw).isdigit() else None
        if tune is None:
            return {"error": f"tune {raw} not found"}, 404
        if tune["name"] not in pack.classes:
            return {"error": f"the pack does not support {tune['name']!r}"}, 422
        work += [(tune, t, text) for t, text in pack.templates(tune["name"])
                 if not chosen or str(t) in chosen]  # fmt: skip
    ids = [
        sandbox.insert_prompt(*_where(tune), f"{_tag(tune)} {text}", 1, callback,
                              tune["ready_at"], {"pack_id": pack.id, "template": template})
        for tune, template, text in work
    ]  # fmt: skip
    with db:
        db.execute(
            "INSERT OR IGNORE INTO pack_runs (title, pack_id, prompt_ids) VALUES (?, ?, ?)",
            (title, pack.id, json.dumps(ids)),
        )
    if sandbox.state.take_fault("no_ids", "pack"):
        return {"status": 201, "message": "Prompts created"}, 201
    return {"status": 201, "prompt_ids": ids}, 201
