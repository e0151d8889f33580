"""The Mini App's JSON API under /api/bot: the same services as the chat, the user's own data
only. Who calls is checked before every view (webapp.routes.auth); the JSON it answers is made in
webapp.routes.serialize."""

from __future__ import annotations

from flask import Blueprint, g, jsonify, request

from webapp.limits import limit
from webapp.records import (
    MAX_ROW_ID,
    BadRequest,
    InvalidInput,
    Model,
    NotEnoughCredits,
    NotFound,
    User,
    bounded_id,
)
from webapp.routes.auth import authenticate, caller, json_object, user_key
from webapp.routes.serialize import (
    generation_json,
    model_json,
    photo_error,
    photoshoot_json,
    shoot_json,
)
from webapp.runtime import runtime
from webapp.services import photos as photo_checks
from webapp.services.generation import PROMPT_MAX
from webapp.services.photoshoots import pack_topic
from webapp.services.training import CLASSES, NAME_MAX
from webapp.texts import Texts

bp = Blueprint("api", __name__, url_prefix="/api/bot")

READS = "120/minute"  # per user: the Mini App polling every few seconds stays far below this
WRITES = "10/minute"  # per user: trainings and generations
MAX_UPLOAD = photo_checks.PHOTOS_PER_MODEL * photo_checks.MAX_BYTES + 1024 * 1024
PAGE = 30

limit(READS, key=user_key)(bp)
bp.before_request(authenticate)  # 401 unless the initData is Telegram's, fresh, and names a user


def _own_model(user: User, model_id: int) -> Model:
    return runtime().services.generations.own_model(user.telegram_id, model_id)


@bp.get("/me")
def me():
    """Who the caller is, their credits and the prices."""
    user = caller()
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
    user = caller()
    services = runtime().services
    services.payments.stop_plan(user.telegram_id)  # a paid plan would be charged again
    models = services.accounts.delete_everything(user.telegram_id)
    return jsonify(deleted=True, models=models)


@bp.get("/models")
def models():
    """The caller's models, newest first."""
    user = caller()
    t = Texts(user.language_code)
    mine = runtime().services.training.models_of(user.telegram_id)
    return jsonify(models=[model_json(m, t) for m in mine])


@bp.get("/models/<row_id:model_id>")
def model(model_id: int):
    """One of the caller's models; 404 for anyone else's."""
    user = caller()
    return jsonify(model=model_json(_own_model(user, model_id), Texts(user.language_code)))


@bp.get("/models/<row_id:model_id>/prompts")
def prompts(model_id: int):
    """A model's generations, newest first, 30 a page (`?before=<id>` for the next)."""
    user = caller()
    before = request.args.get("before")
    if before is not None and (before := bounded_id(before, MAX_ROW_ID)) is None:
        raise BadRequest("before must be a generation id.")
    size = min(max(request.args.get("limit", PAGE, type=int), 1), 100)
    found = runtime().services.generations.gallery(
        user.telegram_id, model_id, size=size, before=before
    )
    liked = runtime().services.likes.liked(user.telegram_id, found)
    return jsonify(
        generations=[generation_json(x, Texts(user.language_code), liked) for x in found],
        next_before=found[-1].id if len(found) == size else None,
    )


@bp.get("/styles")
def styles():
    """The style catalogue in the caller's language: id, name, description, price."""
    lang = Texts(g.web_user.language_code).lang
    services = runtime().services
    catalogue = services.likes.most_liked(services.generations.styles.all, lambda s: s.id, lang)
    return jsonify(
        styles=[
            {"id": s.id, "name": s.name(lang), "description": s.description(lang), "price": s.price}
            for s in catalogue
        ]
    )


@bp.get("/photoshoots")
def photoshoots():
    """The photoshoots on offer, in the caller's language: id (Astria's pack), title,
    description, cover, price in credits, and per class the pictures it makes and samples."""
    lang = Texts(g.web_user.language_code).lang
    rt = runtime()
    shown = lambda url: rt.images.origin_of(url) is not None  # noqa: E731 (Astria's, or ours)
    offers = rt.services.likes.most_liked(rt.services.photoshoots.offers(), pack_topic, lang)
    return jsonify(photoshoots=[photoshoot_json(offer, lang, shown) for offer in offers])


@bp.post("/photoshoots")
@limit(WRITES, key=user_key)
def order_photoshoot():
    """Charge and start a photoshoot: JSON {"photoshoot": <id from GET /photoshoots>,
    "model_id": <a ready model of a class it is made for>, "key": <optional, the tap's own id:
    sent again, it charges nothing and answers the same order>}."""
    body = json_object()
    if body is None:
        raise BadRequest('Send JSON: {"photoshoot": …, "model_id": …}.')
    pack, model_id, key = body.get("photoshoot"), body.get("model_id"), body.get("key")
    if type(pack) is not int or type(model_id) is not int:
        raise InvalidInput("photoshoot and model_id must be numbers.")
    if key is not None and (not isinstance(key, str) or not 1 <= len(key) <= 64):
        raise InvalidInput("key must be text of 1-64 characters.")
    user = caller()
    t = Texts(user.language_code)
    shoot, balance, created = runtime().services.shoots.start(
        user.telegram_id,
        photoshoot=pack,
        model_id=bounded_id(model_id, MAX_ROW_ID),
        lang=t.lang,
        key=None if key is None else f"app:{key}",
    )
    return jsonify(photoshoot_order=shoot_json(shoot, ()), credits=balance), 201 if created else 200


@bp.get("/photoshoots/orders")
def photoshoot_orders():
    """The caller's last 10 photoshoot orders, newest first, with how far each has come."""
    orders = runtime().services.shoots.mine(caller().telegram_id, limit=10)
    return jsonify(orders=[shoot_json(order, back) for order, back in orders])


@bp.post("/likes")
@limit(READS, key=user_key)
def like():
    """Like one of the caller's pictures, or take the like back: JSON {"generation_id",
    "image": its place in the album (0…), "liked": true|false} → {"liked"}. 404 for a picture
    that is not the caller's."""
    body = json_object()
    if body is None:
        raise BadRequest('Send JSON: {"generation_id": …, "image": 0, "liked": true}.')
    generation_id, image, liked = body.get("generation_id"), body.get("image"), body.get("liked")
    if type(generation_id) is not int or type(image) is not int or type(liked) is not bool:
        raise InvalidInput("generation_id and image must be numbers, liked true or false.")
    if bounded_id(generation_id, MAX_ROW_ID) is None or not 0 <= image < 100:
        raise NotFound(what="image")
    user = caller()
    lang = Texts(user.language_code).lang
    runtime().services.likes.like(user.telegram_id, generation_id, image, liked, lang)
    return jsonify(liked=liked)


@bp.post("/generate")
@limit(WRITES, key=user_key)
def generate():
    """Charge and start a generation: JSON {model_id, prompt?, style?, hd?} — a prompt, a style
    id from /styles, or both; hd (boolean) adds Astria's super-resolution and face inpainting."""
    body = json_object()
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
    user = caller()
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
    body = json_object()
    if body is None or "pack" not in body:
        raise BadRequest('Send JSON: {"pack": <credits of the pack>}.')
    user = caller()
    link = runtime().services.payments.invoice_link(
        user.telegram_id, body["pack"], user.language_code
    )
    return jsonify(link=link), 201


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
        user = caller()
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
