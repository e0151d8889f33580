"""The Mini App API's JSON: models, generations, and why a photo was refused."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from datetime import UTC, datetime

from webapp.errors import json_error
from webapp.records import (
    Generation,
    GenerationStatus,
    InvalidInput,
    Model,
    ModelStatus,
    Shoot,
)
from webapp.runtime import runtime
from webapp.services import photos as photo_checks
from webapp.services.photos import Refusal
from webapp.services.photoshoots import Offer
from webapp.services.shoots import Shoots
from webapp.services.training import model_kind
from webapp.texts import Texts


def when(value: datetime | None) -> str | None:
    return value.astimezone(UTC).isoformat() if value else None


def model_json(model: Model, t: Texts) -> dict:
    """A model as the Mini App shows it (a failure also in the user's words)."""
    minutes = model.minutes_left() if model.status == ModelStatus.TRAINING else None
    failure = t.failure(model.error, sentence=True) if model.status == ModelStatus.FAILED else None
    return {
        "id": model.id,
        "name": model.name,
        "class_name": model.class_name,
        "status": str(model.status),
        "eta": when(model.eta),
        "minutes_left": minutes,
        "error": model.error,
        "error_text": failure,
        "created_at": when(model.created_at),
        "trained_at": when(model.trained_at),
        "model_type": model_kind(runtime().settings, model.model_type),
        "cost": runtime().settings.train_cost if model.cost is None else model.cost,
    }


def generation_json(generation: Generation, t: Texts, liked: set = frozenset()) -> dict:
    """A generation as the gallery shows it (a failure also in the user's words); `liked`: the
    user's likes, (generation id, image) pairs."""
    failed = generation.status == GenerationStatus.FAILED
    style = runtime().services.generations.styles.find(generation.style)
    return {
        "id": generation.id,
        "model_id": generation.model_id,
        "prompt": generation.prompt,
        "style": generation.style,
        "photoshoot_order": generation.shoot_id,  # a photoshoot's picture; `prompt`: its title
        "liked": [n for n in range(len(generation.images)) if (generation.id, n) in liked],
        "style_name": style.name(t.lang) if style else None,
        "hd": generation.hd,
        "status": str(generation.status),
        "num_images": generation.num_images,
        "images": list(generation.images),
        "error": generation.error,
        "error_text": t.failure(generation.error, sentence=True) if failed else None,
        "created_at": when(generation.created_at),
        "cost": runtime().settings.generate_cost if generation.cost is None else generation.cost,
    }


_MB, _MP = photo_checks.MAX_BYTES // 2**20, photo_checks.MAX_PIXELS / 1e6
PHOTO_ERRORS = {  # why a photo is refused → (status, code, message for API clients)
    Refusal.PHOTO_COUNT: (400, "bad_request", "Send exactly {photos} photos as `images`."),
    Refusal.TOO_BIG: (413, "too_large", f"Photo {{photo}} is over {_MB} MB or {_MP:g} megapixels."),
    Refusal.NOT_IMAGE: (415, "unsupported_media_type", "Photo {photo} is not a JPEG, PNG or WebP."),
    Refusal.UNREADABLE: (
        422,
        "invalid_input",
        "Photo {photo} cannot be read: the file is damaged.",
    ),
    Refusal.TOO_SMALL: (
        422,
        "invalid_input",
        "Photo {photo} is {width}×{height} px; each side must be at least {min_side} px.",
    ),
    Refusal.DUPLICATE: (
        422,
        "invalid_input",
        "Photos {pair[0]} and {pair[1]} are the same picture.",
    ),
}


def photo_error(exc: InvalidInput):
    """A refused photo as the API says it: the reason, and what it names (`params`: which photo,
    its size…) for the Mini App to say it in the user's words."""
    params = dict(exc.params)
    reason = params.pop("reason", None)
    if reason not in PHOTO_ERRORS:
        raise exc
    status, code, message = PHOTO_ERRORS[reason]
    return json_error(status, code, message.format(**params), reason=reason, params=params)


def photoshoot_json(offer: Offer, lang: str, shown: Callable[[str], bool]) -> dict:
    """A photoshoot on offer, as the Mini App lists it: its words in `lang`, its price, and per
    class the pictures it makes and its sample pictures (only those `shown` allows)."""
    photoshoot = offer.photoshoot
    return {
        "id": photoshoot.pack,
        "title": photoshoot.title(lang),
        "description": photoshoot.description(lang),
        "cover": offer.cover if offer.cover and shown(offer.cover) else None,
        "price": photoshoot.price,
        "images": {name: made.images for name, made in offer.classes.items()},
        "samples": {
            name: [url for url in made.samples if shown(url)]
            for name, made in offer.classes.items()
        },
    }


def shoot_json(shoot: Shoot, back: Sequence[Generation]) -> dict:
    """A photoshoot order and how far it has come (`back`: its prompts that came back)."""
    return {
        "id": shoot.id,
        "photoshoot": shoot.pack_id,
        "title": shoot.title,
        "model_id": shoot.model_id,
        "price": shoot.price,
        "images": shoot.num_images,
        "ready": Shoots.pictures(shoot, back),
        "status": str(shoot.status),
        "refunded": shoot.refunded,
        "created_at": when(shoot.created_at),
    }
