"""The Mini App's JSON API under /api/bot: the same services as the chat, the user's own data only.

Every call carries `Authorization: tma <initData>`, checked against the bot token (HMAC-SHA256,
constant-time compare, a maximum age). In dev mode (no bot token) the dev host page (/app/dev)
signs a dev user's initData with the dev key, checked the same way.
"""

from __future__ import annotations

from datetime import UTC, datetime

from flask import Blueprint, g, jsonify, request

from webapp.errors import json_error
from webapp.limits import limit
from webapp.records import (
    MAX_ROW_ID,
    BadRequest,
    Generation,
    GenerationStatus,
    InvalidInput,
    Model,
    ModelStatus,
    NotEnoughCredits,
    NotFound,
    User,
    bounded_id,
)
from webapp.runtime import runtime
from webapp.security import InitDataError, WebAppUser, dev_user_allowed, validate_init_data
from webapp.services import photos as photo_checks
from webapp.services.generation import PROMPT_MAX
from webapp.services.photos import Refusal
from webapp.services.training import CLASSES, NAME_MAX, model_kind
from webapp.texts import Texts

bp = Blueprint("api", __name__, url_prefix="/api/bot")

READS = "120/minute"  # per user: the Mini App polling every few seconds stays far below this
WRITES = "10/minute"  # per user: trainings and generations
MAX_UPLOAD = photo_checks.PHOTOS_PER_MODEL * photo_checks.MAX_BYTES + 1024 * 1024
PAGE = 30
JSON_MAX = 64 * 1024  # a generation or an invoice is a few hundred bytes


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
    if settings.dev_mode and not dev_user_allowed(settings, request.remote_addr):
        raise InitDataError("The dev user is served on this machine only.")
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


def _json_object() -> dict | None:
    """The body as a JSON object, or None (not JSON, not an object, nested past Python's
    limit); JSON bodies here are small."""
    request.max_content_length = JSON_MAX
    try:
        body = request.get_json(silent=True)
    except RecursionError:
        return None
    return body if isinstance(body, dict) else None


def _when(value: datetime | None) -> str | None:
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
        "eta": _when(model.eta),
        "minutes_left": minutes,
        "error": model.error,
        "error_text": failure,
        "created_at": _when(model.created_at),
        "trained_at": _when(model.trained_at),
        "model_type": model_kind(runtime().settings, model.model_type),
        "cost": runtime().settings.train_cost if model.cost is None else model.cost,
    }


def generation_json(generation: Generation, t: Texts) -> dict:
    """A generation as the gallery shows it (a failure also in the user's words)."""
    failed = generation.status == GenerationStatus.FAILED
    style = runtime().services.generations.styles.find(generation.style)
    return {
        "id": generation.id,
        "model_id": generation.model_id,
        "prompt": generation.prompt,
        "style": generation.style,
        "style_name": style.name(t.lang) if style else None,
        "hd": generation.hd,
        "status": str(generation.status),
        "num_images": generation.num_images,
        "images": list(generation.images),
        "error": generation.error,
        "error_text": t.failure(generation.error, sentence=True) if failed else None,
        "created_at": _when(generation.created_at),
        "cost": runtime().settings.generate_cost if generation.cost is None else generation.cost,
    }


def _own_model(user: User, model_id: int) -> Model:
    return runtime().services.generations.own_model(user.telegram_id, model_id)


@bp.get("/me")
def me():
    """Who the caller is, their credits and the prices."""
    user = _user()
    rt = runtime()
    prices = rt.services.accounts.prices
    return jsonify(
        user={
            "id": user.telegram_id,
            "first_name": user.first_name,
            "language_code": user.language_code,
        },
        credits=user.credits,
        prices={
            "train": prices.train,
            "generate": prices.generate,
            "images_per_generation": prices.images_per_generation,
            "hd": rt.settings.hd_cost,
        },
        model_types=[  # what a new model can be, the default first, each with its price
            {"type": kind, "price": rt.services.training.price(kind)}
            for kind in rt.services.training.model_types()
        ],
        limits={  # what the server enforces; the Mini App shows and checks the same
            "photos": photo_checks.PHOTOS_PER_MODEL,
            "min_side": photo_checks.MIN_SIDE,
            "upload_side": photo_checks.UPLOAD_SIDE,
            "name_max": NAME_MAX,
            "prompt_max": PROMPT_MAX,
            "classes": list(CLASSES),
        },
        packs=[  # credits sold for Stars (empty: nothing is sold), with what each buys now
            {"credits": p.credits, "stars": p.stars, "trainings": w[0], "generations": w[1]}
            for p in rt.services.payments.packs
            for w in [rt.services.payments.worth(p)]
        ],
        dev_mode=rt.settings.dev_mode,
    )


@bp.delete("/me")
def delete_me():
    """Delete the caller's models (on Astria too), images, credits and history."""
    user = _user()
    services = runtime().services
    services.payments.stop_plan(user.telegram_id)  # a paid plan would be charged again
    models = services.accounts.delete_everything(user.telegram_id)
    return jsonify(deleted=True, models=models)


@bp.get("/models")
def models():
    """The caller's models, newest first."""
    user = _user()
    t = Texts(user.language_code)
    mine = runtime().services.training.models_of(user.telegram_id)
    return jsonify(models=[model_json(m, t) for m in mine])


@bp.get("/models/<row_id:model_id>")
def model(model_id: int):
    """One of the caller's models; 404 for anyone else's."""
    user = _user()
    return jsonify(model=model_json(_own_model(user, model_id), Texts(user.language_code)))


@bp.get("/models/<row_id:model_id>/prompts")
def prompts(model_id: int):
    """A model's generations, newest first, 30 a page (`?before=<id>` for the next)."""
    user = _user()
    before = request.args.get("before")
    if before is not None and (before := bounded_id(before, MAX_ROW_ID)) is None:
        raise BadRequest("before must be a generation id.")
    size = min(max(request.args.get("limit", PAGE, type=int), 1), 100)
    found = runtime().services.generations.gallery(
        user.telegram_id, model_id, size=size, before=before
    )
    return jsonify(
        generations=[generation_json(x, Texts(user.language_code)) for x in found],
        next_before=found[-1].id if len(found) == size else None,
    )


@bp.get("/styles")
def styles():
    """The style catalogue in the caller's language: id, name, description, price."""
    lang = Texts(g.web_user.language_code).lang
    catalogue = runtime().services.generations.styles.all
    return jsonify(
        styles=[
            {"id": s.id, "name": s.name(lang), "description": s.description(lang), "price": s.price}
            for s in catalogue
        ]
    )


@bp.post("/generate")
@limit(WRITES, key=user_key)
def generate():
    """Charge and start a generation: JSON {model_id, prompt?, style?, hd?} — a prompt, a style
    id from /styles, or both; hd (boolean) adds Astria's super-resolution and face inpainting."""
    body = _json_object()
    if body is None:
        raise BadRequest('Send JSON: {"model_id": …, "prompt": "…", "style": "…", "hd": false}.')
    model_id = body.get("model_id")
    if type(model_id) is not int:
        raise InvalidInput("model_id must be a number.")
    if bounded_id(model_id, MAX_ROW_ID) is None:
        raise NotFound(what="model")
    prompt, style, hd = body.get("prompt"), body.get("style"), body.get("hd", False)
    if style is None and not isinstance(prompt, str):
        raise InvalidInput("prompt must be text (or send a style).")
    if prompt is not None and not isinstance(prompt, str):
        raise InvalidInput("prompt must be text.")
    if style is not None and not isinstance(style, str):
        raise InvalidInput("style must be a style id from /api/bot/styles.", reason="unknown_style")
    if type(hd) is not bool:
        raise InvalidInput("hd must be true or false.")
    user = _user()
    generation, _, balance = runtime().services.generations.start(
        user.telegram_id, model_id=model_id, prompt=prompt, style=style, hd=hd
    )
    return jsonify(
        generation=generation_json(generation, Texts(user.language_code)), credits=balance
    ), 201


@bp.post("/invoice")
@limit(WRITES, key=user_key)
def invoice():
    """A Stars invoice link for a pack: JSON {"pack": <its credits>} → {"link": …}. The Mini App
    opens it with Telegram.WebApp.openInvoice; the credits come only with Telegram's
    successful_payment to the webhook, never from the client."""
    body = _json_object()
    if body is None or "pack" not in body:
        raise BadRequest('Send JSON: {"pack": <credits of the pack>}.')
    user = _user()
    link = runtime().services.payments.invoice_link(
        user.telegram_id, body["pack"], user.language_code
    )
    return jsonify(link=link), 201


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


@bp.post("/train-model")
@limit(WRITES, key=user_key)
def train_model():
    """Charge and start a training: multipart `name`, `class_name`, `model_type` (lora, the
    default, or faceid), 4 × `images`.

    The cheap checks come before any photo is decoded: the kind, the count, then the credits
    (a user who cannot pay costs no CPU), then each photo's header; then the service checks the
    name and class, asks Astria about the photos (422 with reason photo_problems naming each
    photo and what is wrong), and only then charges."""
    request.max_content_length = MAX_UPLOAD
    files = request.files.getlist("images")
    training = runtime().services.training
    model_type = training.kind(request.form.get("model_type"))
    try:
        photo_checks.check_count(len(files))
        user = _user()
        price = training.price(model_type)
        if user.credits < price:
            raise NotEnoughCredits(need=price, have=user.credits)
        photos = photo_checks.check_uploads(
            [upload.read(photo_checks.MAX_BYTES + 1) for upload in files]
        )
    except InvalidInput as exc:
        return photo_error(exc)
    model, balance = training.start(
        user.telegram_id,
        name=request.form.get("name", ""),
        class_name=request.form.get("class_name", ""),
        photos=photos,
        model_type=model_type,
    )
    return jsonify(model=model_json(model, Texts(user.language_code)), credits=balance), 201
