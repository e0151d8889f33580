"""The Mini App's JSON API under /api/bot: the same services as the chat, the user's own data only.

Every call carries `Authorization: tma <initData>`, checked against the bot token (HMAC-SHA256,
constant-time compare, a maximum age). In dev mode (no bot token) the dev host page (/app/dev)
signs a dev user's initData with the dev key, checked the same way.
"""

from __future__ import annotations

from datetime import UTC, datetime

from flask import Blueprint, g, jsonify, request

from webapp.errors import json_error
from webapp.limits import READS, WRITES, limit
from webapp.records import (
    BadRequest,
    Generation,
    InvalidInput,
    Model,
    ModelStatus,
    NotEnoughCredits,
    NotFound,
    User,
    bounded_id,
)
from webapp.runtime import runtime
from webapp.security import InitDataError, WebAppUser, validate_init_data
from webapp.services import photos as photo_checks
from webapp.services.generation import PROMPT_MAX
from webapp.services.training import CLASSES, NAME_MAX
from webapp.texts import Texts

bp = Blueprint("api", __name__, url_prefix="/api/bot")

MAX_UPLOAD = photo_checks.PHOTOS_PER_MODEL * photo_checks.MAX_BYTES + 1024 * 1024
PAGE = 30


def user_key() -> str:
    """Rate limits count per verified Telegram user (else per address), not per IP: many
    users may share one."""
    web_user = verified_user()
    return f"user:{web_user.id}" if web_user else f"ip:{request.remote_addr}"


limit(READS, key=user_key)(bp)


def verified_user() -> WebAppUser | None:
    """The Telegram user the request's initData speaks for, checked once per request."""
    if "web_user" not in g:
        g.web_user, g.auth_error = None, None
        try:
            g.web_user = _check_auth()
        except InitDataError as exc:
            g.auth_error = str(exc)
    return g.web_user


@bp.before_request
def authenticate():
    """401 unless the initData is Telegram's, fresh, and names a user."""
    if verified_user() is None:
        return json_error(401, "unauthorized", g.auth_error)
    return None


def _check_auth() -> WebAppUser:
    rt = runtime()
    scheme, _, raw = request.headers.get("Authorization", "").partition(" ")
    if scheme.lower() != "tma" or not raw:
        raise InitDataError("Send Authorization: tma <initData>.")
    settings = rt.settings
    token = settings.dev_bot_token if settings.dev_mode else settings.telegram_bot_token
    try:
        return validate_init_data(raw, token, settings.init_data_max_age)
    except InitDataError as exc:
        raise InitDataError(f"initData refused: {exc}.") from None


def _user() -> User:
    """The caller as a registered user (created with the free credits on first contact)."""
    w: WebAppUser = g.web_user
    return runtime().services.accounts.register(
        w.id,
        username=w.username,
        first_name=w.first_name,
        last_name=w.last_name,
        language_code=w.language_code,
    )


def _when(value: datetime | None) -> str | None:
    return value.astimezone(UTC).isoformat() if value else None


def model_json(model: Model, t: Texts) -> dict:
    """A model as the Mini App shows it (a failure also in the user's words)."""
    minutes = model.minutes_left() if model.status == ModelStatus.TRAINING else None
    failure = t.failure(model.error) if model.status == ModelStatus.FAILED else None
    return {
        "id": model.id,
        "name": model.name,
        "class_name": model.class_name,
        "status": str(model.status),
        "eta": _when(model.eta),
        "minutes_left": minutes,
        "error": model.error,
        "error_text": failure and failure[:1].upper() + failure[1:],
        "created_at": _when(model.created_at),
        "trained_at": _when(model.trained_at),
    }


def generation_json(generation: Generation) -> dict:
    """A generation as the gallery shows it."""
    return {
        "id": generation.id,
        "model_id": generation.model_id,
        "prompt": generation.prompt,
        "status": str(generation.status),
        "num_images": generation.num_images,
        "images": list(generation.images),
        "error": generation.error,
        "created_at": _when(generation.created_at),
    }


def _own_model(user: User, model_id: int) -> Model:
    return runtime().services.generations.own_model(user.telegram_id, model_id)


@bp.get("/me")
def me():
    """Who the caller is, their credits and the prices."""
    user = _user()
    settings = runtime().settings
    return jsonify(
        user={
            "id": user.telegram_id,
            "first_name": user.first_name,
            "language_code": user.language_code,
        },
        credits=user.credits,
        prices={
            "train": settings.train_cost,
            "generate": settings.generate_cost,
            "images_per_generation": settings.images_per_prompt,
        },
        limits={  # what the server enforces; the Mini App shows and checks the same
            "photos": photo_checks.PHOTOS_PER_MODEL,
            "min_side": photo_checks.MIN_SIDE,
            "upload_side": photo_checks.UPLOAD_SIDE,
            "name_max": NAME_MAX,
            "prompt_max": PROMPT_MAX,
            "classes": list(CLASSES),
        },
        dev_mode=settings.dev_mode,
    )


@bp.delete("/me")
def delete_me():
    """Delete the caller's models (on Astria too), images, credits and history."""
    user = _user()
    models = runtime().services.accounts.delete_everything(user.telegram_id)
    return jsonify(deleted=True, models=models)


@bp.get("/models")
def models():
    """The caller's models, newest first."""
    user = _user()
    t = Texts(user.language_code)
    mine = runtime().services.training.models_of(user.telegram_id)
    return jsonify(models=[model_json(m, t) for m in mine])


@bp.get("/models/<id64:model_id>")
def model(model_id: int):
    """One of the caller's models; 404 for anyone else's."""
    user = _user()
    return jsonify(model=model_json(_own_model(user, model_id), Texts(user.language_code)))


@bp.get("/models/<id64:model_id>/prompts")
def prompts(model_id: int):
    """A model's generations, newest first, 30 a page (`?before=<id>` for the next)."""
    user = _user()
    before = request.args.get("before")
    if before is not None and (before := bounded_id(before)) is None:
        raise BadRequest("before must be a generation id.")
    size = min(max(request.args.get("limit", PAGE, type=int), 1), 100)
    found = runtime().services.generations.gallery(
        user.telegram_id, model_id, size=size, before=before
    )
    return jsonify(
        generations=[generation_json(x) for x in found],
        next_before=found[-1].id if len(found) == size else None,
    )


@bp.post("/generate")
@limit(WRITES, key=user_key)
def generate():
    """Charge and start a generation: JSON {model_id, prompt}."""
    body = request.get_json(silent=True)
    if not isinstance(body, dict):
        raise BadRequest('Send JSON: {"model_id": …, "prompt": "…"}.')
    model_id = body.get("model_id")
    if type(model_id) is not int:
        raise InvalidInput("model_id must be a number.")
    if bounded_id(model_id) is None:
        raise NotFound(what="model")
    if not isinstance(body.get("prompt"), str):
        raise InvalidInput("prompt must be text.")
    user = _user()
    generation, _, balance = runtime().services.generations.start(
        user.telegram_id, model_id=model_id, prompt=body["prompt"]
    )
    return jsonify(generation=generation_json(generation), credits=balance), 201


PHOTO_ERRORS = {  # a photo's reason → (status, code, message with the photo's number)
    "too_big": (413, "too_large", "Photo {n} is larger than 20 MB or 12 megapixels."),
    "not_image": (415, "unsupported_media_type", "Photo {n} is not a JPEG, PNG or WebP image."),
    "unreadable": (422, "invalid_input", "Photo {n} cannot be read: the file is damaged."),
    "too_small": (
        422,
        "invalid_input",
        "Photo {n} is {width}×{height} px; each side must be at least {min_side} px.",
    ),  # fmt: skip
    "duplicate_photos": (
        422,
        "invalid_input",
        "Photos {photos[0]} and {photos[1]} are the same picture.",
    ),  # fmt: skip
}


@bp.post("/train-model")
@limit(WRITES, key=user_key)
def train_model():
    """Charge and start a training: multipart `name`, `class_name`, 4 × `images`.

    The cheap checks come before any photo is decoded: the count, then the credits (a user who
    cannot pay costs no CPU), then each photo's header."""
    request.max_content_length = MAX_UPLOAD
    files = request.files.getlist("images")
    name, class_name = request.form.get("name", ""), request.form.get("class_name", "")
    if len(files) != photo_checks.PHOTOS_PER_MODEL:
        count = photo_checks.PHOTOS_PER_MODEL
        raise BadRequest(f"Send exactly {count} photos as `images`.", reason="photo_count")
    user = _user()
    price = runtime().settings.train_cost
    if user.credits < price:
        raise NotEnoughCredits(need=price, have=user.credits)
    try:
        photos = photo_checks.check_uploads(
            [upload.read(photo_checks.MAX_BYTES + 1) for upload in files]
        )
    except InvalidInput as exc:
        params = exc.params
        status, code, message = PHOTO_ERRORS[params["reason"]]
        return json_error(
            status, code, message.format(n=params.get("photo"), **params), reason=params["reason"]
        )
    model, balance = runtime().services.training.start(
        user.telegram_id, name=name, class_name=class_name, photos=photos
    )
    return jsonify(model=model_json(model, Texts(user.language_code)), credits=balance), 201
