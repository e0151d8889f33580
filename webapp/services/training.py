"""Training: charge once, create the model, upload its photos to Astria in the background."""

from __future__ import annotations

import hashlib
import hmac
import logging
import unicodedata
import uuid
from collections.abc import Sequence
from datetime import UTC, datetime, timedelta

from webapp.astria import Photo
from webapp.records import Failure, InvalidInput, Model, NotEnoughCredits
from webapp.services import photos as photo_checks
from webapp.services.checks import PhotoChecks
from webapp.services.ports import FileSource
from webapp.services.work import RETRY_PAUSE, AstriaWork, Hold, forget_on_astria
from webapp.settings import Settings
from webapp.stash import PhotoStash, StashUnavailable

log = logging.getLogger("training")

NAME_MAX = 40
CLASSES = ("man", "woman", "person", "boy", "girl", "dog", "cat")
MODEL_TYPES = ("lora", "faceid")  # what a user picks between (ASTRIA_MODEL_TYPE: the default)


def model_kind(settings: Settings, model_type: str | None) -> str:
    """A model's type; a model made before models had one is of the deployment's type."""
    return model_type or settings.astria_model_type


def clean_text(text: str | None) -> str:
    """Strip control characters and surrounding space (names and prompts)."""
    text = text or ""
    return "".join(c for c in text if unicodedata.category(c)[0] != "C" or c == " ").strip()


def clean_name(name: str | None) -> str:
    """A model name of 1–40 characters, or InvalidInput."""
    cleaned = " ".join(clean_text(name).split())
    if not cleaned:
        raise InvalidInput(reason="name_empty")
    if len(cleaned) > NAME_MAX:
        raise InvalidInput(reason="name_too_long", limit=NAME_MAX)
    return cleaned


class Training(AstriaWork):
    """Starts trainings and carries them to Astria."""

    def __init__(
        self, *args, files: FileSource, checks: PhotoChecks, stash: PhotoStash, **kwargs
    ) -> None:
        super().__init__(*args, **kwargs)
        self.files = files
        self.checks = checks  # the photo check before paying
        self.stash = stash  # the Mini App's photos until Astria has them

    def start(
        self,
        telegram_id: int,
        *,
        name: str,
        class_name: str,
        photo_file_ids: Sequence[str] = (),
        photos: Sequence[Photo] = (),
        model_type: str | None = None,
        characteristics: dict | None = None,
        key: str | None = None,
    ) -> tuple[Model, int]:
        """Charge the model type's price and queue the upload; (model, new balance). Once per
        `key` (the chat's update that asked for it): asked again, it charges nothing and gives
        the model made the first time (its title is made from the key).

        The photos are Telegram file ids (the chat: durable, downloaded when uploading; checked
        one by one as they arrived, their `characteristics` gathered then) or bytes (the Mini
        App: checked here, before the charge, then staged in the stash under the model's title
        until Astria has them: Redis with REDIS_URL, else this process's memory). Raises
        NotEnoughCredits or InvalidInput (photo_problems: which photos and why), having charged
        nothing."""
        name = clean_name(name)
        if class_name not in CLASSES:
            raise InvalidInput("class_name is not one of the classes.", reason="class_unknown")
        if photo_file_ids and photos:
            raise ValueError("photos come as Telegram file ids or as bytes, not both")
        photo_checks.check_count(len(photo_file_ids) + len(photos))
        model_type = self.kind(model_type)
        cost = self.price(model_type)
        if photos and characteristics is None:
            characteristics = self.checks.check(class_name, photos)
        title = self.title(telegram_id, key)  # Astria's idempotency key, and the stash's
        if photos:
            self.stash.put(title, photos)  # before the charge: a stash that fails costs nothing
        try:
            model, balance = self.store.create_model(
                telegram_id,
                name=name,
                class_name=class_name,
                title=title,
                photo_file_ids=photo_file_ids,
                cost=cost,
                model_type=model_type,
                characteristics=characteristics,
            )
        except NotEnoughCredits:
            log.info("train refused user=%s reason=not_enough_credits", telegram_id)
            self.stash.drop(title)
            raise
        log.info(
            "credits user=%s delta=-%s reason=train ref=%s balance=%s",
            telegram_id,
            cost,
            model.id,
            balance,
        )
        log.info("train started user=%s model=%s class=%s", telegram_id, model.id, class_name)
        self.jobs.submit(f"upload model {model.id}", self.upload, model.id)
        return model, balance

    def title(self, telegram_id: int, key: str | None) -> str:
        """A new model's title: random, or made from the request's key (the same key, the same
        title; unguessable and unlike another deployment's, with SECRET_KEY in it)."""
        if key is None:
            return str(uuid.uuid4())
        message = f"model:{telegram_id}:{key}".encode()
        digest = hmac.new(self.settings.secret_key.encode(), message, hashlib.sha256).digest()
        return str(uuid.UUID(bytes=digest[:16], version=4))

    def kind(self, model_type: str | None) -> str:
        """The kind of model asked for (the default when none), or InvalidInput."""
        kinds = self.model_types()
        if not model_type:
            return kinds[0]
        if model_type not in kinds:
            raise InvalidInput(
                f"model_type must be one of: {', '.join(kinds)}.", reason="model_type_unknown"
            )
        return model_type

    def model_types(self) -> tuple[str, ...]:
        """The kinds of model a user may pick, the default first: on a Flux base, a trained
        LoRA (best likeness, ~20-30 min) and an instant FaceID (ready in about a minute); on a
        deployment of pti or checkpoint, that kind alone."""
        default = self.settings.astria_model_type
        if default not in MODEL_TYPES:  # pti or checkpoint: a base of its own, not Flux
            return (default,)
        return (default, *(t for t in MODEL_TYPES if t != default))

    def price(self, model_type: str) -> int:
        """What a model of that type costs: FACEID_COST for FaceID, TRAIN_COST otherwise."""
        return self.settings.faceid_cost if model_type == "faceid" else self.settings.train_cost

    def models_of(self, telegram_id: int) -> list[Model]:
        """The user's models, newest first."""
        return self.store.list_models(telegram_id)

    def upload(self, model_id: int) -> None:
        """Fetch the photos and create the Astria tune; on refusal, fail and refund. A job:
        safe to run twice (the claim, and Astria's idempotency on the title)."""
        if not self.store.claim_model_upload(model_id, self.settings.upload_lease_seconds):
            return  # another worker has it, or it is done
        model = self.store.get_model(model_id)
        if model is None:
            return
        store = self.store
        with self.claimed(
            model, store.claim_model_upload, store.postpone_model_upload, self.fail
        ) as put_off:
            self._upload(model, put_off)

    def _upload(self, model: Model, hold: Hold) -> None:
        """The upload, under its claim (`hold(free_at)` puts it off until then)."""
        model_id = model.id
        try:
            photos = [] if model.photo_file_ids else self.stash.get(model.title)
        except StashUnavailable as exc:  # kept for the next try, once the lease runs out
            log.warning("train model=%s staged photos unreadable now (%s)", model_id, exc)
            hold(datetime.now(UTC) + timedelta(seconds=RETRY_PAUSE))
            return
        if not photos and not model.photo_file_ids:
            # Uploaded in the Mini App and staged in a process's memory that died, or in Redis
            # for longer than an hour: gone.
            log.warning("train model=%s photos were lost with a restart", model_id)
            self.fail(model_id, Failure.PHOTOS_LOST)
            return
        try:
            photos = photos or [self.files.download(file_id) for file_id in model.photo_file_ids]
            photos = [photo_checks.for_upload(photo) for photo in photos]
        except Exception as exc:  # the photos are gone or Telegram is down: nothing sent
            log.warning("train model=%s photo download failed: %s", model_id, type(exc).__name__)
            self.fail(model_id, Failure.PHOTOS_UNAVAILABLE)
            return
        prints = [photo_checks.fingerprint(photo.content) for photo in photos]
        if photo_checks.same_picture(prints):
            # Both edges refuse the same picture twice before charging; this is the backstop for
            # a chat photo whose preview Telegram did not give then: refund, explain.
            self.fail(model_id, Failure.DUPLICATE_PHOTOS)
            return

        tune = self.send(
            lambda: self.astria.create_tune(
                title=model.title,
                class_name=model.class_name,
                photos=photos,
                callback=self.callback_url("tune", model.id),
                base_tune_id=self.settings.astria_base_tune_id,
                model_type=model_kind(self.settings, model.model_type),
                token=self.settings.astria_token,
                branch=self.settings.astria_branch,
                characteristics=model.characteristics,
            ),
            "POST /tunes",
            lambda failure: self.fail(model_id, failure),
            f"train model={model_id}",
            later=lambda: self.postpone(model, model.name, hold),
            hold=hold,
        )
        if tune is None:
            return
        self.store.mark_model_submitted(model_id, tune.id, tune.eta)
        self.stash.drop(model.title)  # Astria has them
        model = self.store.get_model(model_id)
        if model is None:  # the user deleted their data while the photos were on their way
            log.info("train model=%s was deleted meanwhile; deleting tune %s", model_id, tune.id)
            forget_on_astria(self.astria.delete_tune, tune.id)
            return
        log.info("train submitted model=%s tune=%s eta=%s", model_id, tune.id, tune.eta)
        if tune.failed:  # a FaceID whose photos Astria could not use says so at once
            self.fail(model_id, Failure.astria(tune.error or "training failed"))
        elif tune.trained_at is not None:  # FaceID: ready at once, and Astria may never call back
            self.ready(model, tune.id, tune.trained_at)
        elif model.status == "training":
            self.notifier.training_started(self.store.get_user(model.telegram_user_id), model)

    def ready(self, model: Model, tune_id: int, trained_at: datetime) -> bool:
        """training → ready once, and tell the user; False when it was not training (a
        repeated callback, or a FaceID already made ready when Astria answered)."""
        self.stash.drop(model.title)  # Astria has the photos (its callback can beat our upload's)
        ready = self.store.finish_model(model.id, tune_id, trained_at)
        if ready is None:
            return False
        log.info("model ready user=%s model=%s tune=%s", ready.telegram_user_id, ready.id, tune_id)
        self.notifier.model_ready(self.store.get_user(ready.telegram_user_id), ready)
        return True

    def fail(self, model_id: int, error: str) -> None:
        """Mark a training model failed, refund what it cost once and tell the user."""
        model = self.store.get_model(model_id)
        if model is None:
            return  # deleted with its user
        price = self.settings.train_cost if model.cost is None else model.cost
        self.stash.drop(model.title)
        failed = self.refunded(self.store.fail_model(model_id, error, price), price, "train_refund")
        if failed is not None:
            model, refunded = failed
            self.notifier.model_failed(self.store.get_user(model.telegram_user_id), model, refunded)

    def resume(self) -> None:
        """Queue the upload of every model that Astria has not acknowledged (after a crash)."""
        for model in self.store.models_awaiting_upload():
            self.jobs.submit(f"upload model {model.id}", self.upload, model.id)
