"""Training: charge once, create the model, upload its photos to Astria in the background."""

from __future__ import annotations

import logging
import unicodedata
import uuid
from collections.abc import Sequence
from datetime import UTC, datetime, timedelta

from webapp.astria import Photo
from webapp.records import Failure, InvalidInput, Model, NotEnoughCredits, User
from webapp.services import photos as photo_checks
from webapp.services.inspection import (
    GENERIC,
    Inspector,
    Verdict,
    characteristics,
    mismatched,
)
from webapp.services.ports import FileSource
from webapp.services.work import AstriaWork, forget_on_astria
from webapp.settings import Settings
from webapp.stash import PhotoStash

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
        self, *args, files: FileSource, inspector: Inspector, stash: PhotoStash, **kwargs
    ) -> None:
        super().__init__(*args, **kwargs)
        self.files = files
        self.inspector = inspector
        self.stash = stash  # the Mini App's photos until Astria has them

    # the photo check before paying -------------------------------------------------------

    def check_photos(self, class_name: str, photos: Sequence[Photo]) -> dict:
        """Photos given as bytes, inspected together before the charge: InvalidInput (reason
        photo_problems, naming each photo and what is wrong) when some will train badly; else
        the characteristics to train with."""
        verdicts = self.inspector.inspect(class_name, photos)
        refuse(verdicts)
        return characteristics(verdicts)

    def inspect_later(self, user: User, file_id: str, number: int) -> None:
        """Queue the check of a photo sent in the chat (it downloads: not on the webhook)."""
        if self.inspector.enabled:
            self.jobs.submit_optional(
                f"inspect photo {number} of user {user.telegram_id}",
                self.inspect_chat_photo,
                user.telegram_id,
                file_id,
                number,
                _since(user),
            )

    def inspect_chat_photo(
        self, telegram_id: int, file_id: str, number: int, since: str | None = None
    ) -> None:
        """A job: a photo sent in the chat, inspected as it arrives (the class is not known
        yet: asked as a person). The verdict waits in the store for the charge; the user hears
        at once of a problem. `since` is when the sender's account was made: if it is not the
        same account any more (/delete, then back), what the check saw is dropped."""
        try:
            photo = photo_checks.for_upload(self.files.download(file_id))
        except Exception as exc:  # Telegram is slow or the photo went: not checked, not blocked
            log.warning("photo %s of user=%s not inspected: %s", number, telegram_id,
                        type(exc).__name__)  # fmt: skip
            return
        (found,) = self.inspector.inspect(GENERIC, [photo])

        def same_account(user: User | None) -> bool:
            return user is not None and (since is None or _since(user) == since)

        if found is None or not same_account(self.store.get_user(telegram_id)):
            return  # not checked, or the user deleted their data meanwhile
        key = _verdict_key(telegram_id, file_id)
        data = {"problems": list(found.problems), "seen_as": found.seen_as, "traits": found.traits}
        self.store.set_conversation(key, "inspected", data)
        user = self.store.get_user(telegram_id)
        if not same_account(user):  # /delete came between the look and the write: it goes too
            self.store.clear_conversation(key)
            return
        if found.problems:
            self.notifier.photo_problems(user, number, found.problems)

    def forget_stale_verdicts(self) -> int:
        """Verdicts no charge read (the flow was left, or the check ended after the charge)
        are forgotten a day after they were written: what a photo showed is not kept."""
        gone = self.store.forget_conversations(VERDICT_PREFIX, datetime.now(UTC) - VERDICT_TTL)
        if gone:
            log.info("forgot %s photo verdicts no training read", gone)
        return gone

    def chat_verdicts(
        self, telegram_id: int, class_name: str, file_ids: Sequence[str]
    ) -> tuple[list[tuple[int, tuple[str, ...]]], dict]:
        """At the charge: the chat's photos' verdicts (those ready by now): the photos to
        replace, with why (also a class other than the chosen one), and the characteristics.
        They are kept until `forget_verdicts` (a charge that fails keeps them for the next)."""
        verdicts = []
        for file_id in file_ids:
            key = _verdict_key(telegram_id, file_id)
            stored = self.store.get_conversation(key)
            if stored.state == "inspected":
                data = stored.data
                verdicts.append(Verdict(tuple(data["problems"]), data["seen_as"], data["traits"]))
            else:
                verdicts.append(None)
        other = set(mismatched(class_name, verdicts))
        bad = [
            (n, (*v.problems, *(("other_class",) if n in other else ())))
            for n, v in enumerate(verdicts)
            if v is not None and (v.problems or n in other)
        ]
        return bad, characteristics(verdicts)

    def forget_verdicts(self, telegram_id: int, file_ids: Sequence[str]) -> None:
        """The verdicts of photos that were charged for, or replaced: read, and let go."""
        for file_id in file_ids:
            self.store.clear_conversation(_verdict_key(telegram_id, file_id))

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
    ) -> tuple[Model, int]:
        """Charge the model type's price and queue the upload; (model, new balance).

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
            characteristics = self.check_photos(class_name, photos)
        title = str(uuid.uuid4())  # Astria's idempotency key, and the stash's
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
        photos = [] if model.photo_file_ids else self.stash.get(model.title)
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


VERDICT_PREFIX = "inspect:"
VERDICT_TTL = timedelta(days=1)  # a verdict no charge read is forgotten after this


def _since(user: User) -> str | None:
    """When an account was made, as a job carries it (None when the store does not say)."""
    return user.created_at.isoformat() if user.created_at else None


def _verdict_key(telegram_id: int, file_id: str) -> str:
    """Where a chat photo's verdict waits (ends with the user's id: /delete takes it too)."""
    return f"{VERDICT_PREFIX}{file_id}:{telegram_id}"


def refuse(verdicts: Sequence[Verdict | None]) -> None:
    """InvalidInput naming each photo with a problem, if any has one."""
    bad = [
        {"photo": n + 1, "problems": list(v.problems)}
        for n, v in enumerate(verdicts)
        if v is not None and v.problems
    ]
    if bad:
        raise InvalidInput("Some photos will not train well.", reason="photo_problems", photos=bad)
