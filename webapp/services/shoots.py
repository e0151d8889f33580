"""Photoshoot orders: charge once, run the Astria pack on the user's model in the background, keep
and deliver each prompt as it calls back, and settle the order (all prompts back, or its
deadline) with a refund for the pictures that never came.

The order's life: `start` charges the price and queues `submit` (once per request key: a second
tap of the same confirm button is the same order). `submit` posts the pack run with the order's
own title (Astria's idempotency key: a retried request never makes a second run). Each prompt's
callback is kept once per Astria prompt id as a Generation of the order and delivered as every
album is; the chat's progress message is edited. When every prompt is back the order is settled;
the sweep settles one past PHOTOSHOOT_DEADLINE_MINUTES after asking Astria about the prompts
that never called back. The refund is the share of the price for the pictures not delivered,
rounded up (in the user's favour); nothing delivered is the whole price."""

from __future__ import annotations

import logging
import math
from collections.abc import Callable
from datetime import UTC, datetime, timedelta

from webapp.astria import AstriaError, Prompt
from webapp.images import ImagePolicy
from webapp.jobs import ShuttingDown
from webapp.records import (
    Failure,
    Generation,
    InvalidInput,
    Model,
    ModelNotReady,
    ModelStatus,
    NotFound,
    Shoot,
)
from webapp.security import callback_token
from webapp.services.callbacks import Forbidden, authorise, read_prompt
from webapp.services.generation import prompt_tune
from webapp.services.photoshoots import Offer, Photoshoots
from webapp.services.work import AstriaWork, Hold

log = logging.getLogger("photoshoots")


def refund_for(shoot: Shoot, delivered: int) -> int:
    """The credits given back for an order that delivered `delivered` pictures: the price's
    share of the pictures missing, rounded up; all of it when nothing came."""
    if delivered <= 0:
        return shoot.price
    missing = max(0, shoot.num_images - delivered)
    return min(shoot.price, math.ceil(shoot.price * missing / shoot.num_images))


class Shoots(AstriaWork):
    """Starts photoshoot orders and carries them to the end."""

    def __init__(
        self,
        *args,
        photoshoots: Photoshoots,
        images: ImagePolicy,
        deliver: Callable[[int], None],
        **kwargs,
    ) -> None:
        super().__init__(*args, **kwargs)
        self.photoshoots = photoshoots
        self.images = images
        self.deliver = deliver  # a job sending one done generation's album (Callbacks.deliver)

    # ordering -----------------------------------------------------------------------------------

    def offer(self, pack_id: object) -> Offer:
        """The photoshoot on offer with that pack id, or NotFound."""
        for offer in self.photoshoots.offers():
            if offer.photoshoot.pack == pack_id and type(pack_id) is int:
                return offer
        raise NotFound(what="photoshoot")

    def models_for(self, telegram_id: int, offer: Offer) -> list[Model]:
        """The user's models the photoshoot can run on (their class is offered): the ready
        ones first, then those still training (the run waits for them)."""
        fit = [m for m in self.store.list_models(telegram_id) if m.class_name in offer.classes]
        ready = [m for m in fit if m.status == ModelStatus.READY]
        return ready + [m for m in fit if m.status == ModelStatus.TRAINING]

    def start(
        self,
        telegram_id: int,
        *,
        photoshoot: object,
        model_id: object,
        lang: str,
        key: str | None = None,
        message_id: int | None = None,
    ) -> tuple[Shoot, int, bool]:
        """Charge the photoshoot's price and queue its run on the model; (order, balance, True).
        Once per `key`: asked again, (the order made then, balance, False). Raises a
        DomainError, having charged nothing, when it cannot: an unknown photoshoot, a model not
        the user's, not ready or of a class the photoshoot lacks."""
        offer = self.offer(photoshoot)
        model = self.store.get_model(model_id) if type(model_id) is int else None
        if model is None or model.telegram_user_id != telegram_id:
            raise NotFound(what="model")
        if model.status not in (ModelStatus.READY, ModelStatus.TRAINING):
            raise ModelNotReady(status=model.status)  # (a training one: the run waits for it)
        made = offer.classes.get(model.class_name)
        if made is None:
            raise InvalidInput(
                "This photoshoot is not made for that model.", reason="photoshoot_class"
            )
        shoot, balance, created = self.store.create_shoot(
            telegram_id,
            model_id=model.id,
            pack_id=offer.photoshoot.pack,
            title=offer.photoshoot.title(lang),
            class_name=model.class_name,
            price=offer.photoshoot.price,
            num_images=made.images,
            prompts=len(made.templates) or made.images,  # (a template makes one picture)
            request_key=key,
            message_id=message_id,
        )
        if not created:
            return shoot, balance, False
        log.info("credits user=%s delta=-%s reason=photoshoot ref=%s balance=%s",
                 telegram_id, shoot.price, shoot.id, balance)  # fmt: skip
        self.jobs.submit(f"submit shoot {shoot.id}", self.submit, shoot.id)
        return shoot, balance, True

    def mine(self, telegram_id: int, limit: int = 10) -> list[tuple[Shoot, list[Generation]]]:
        """The user's orders, newest first, each with its prompts that came back."""
        orders = self.store.list_shoots(telegram_id, limit=limit)
        return [(shoot, self.store.shoot_prompts(shoot.id)) for shoot in orders]

    # to Astria ----------------------------------------------------------------------------------

    def astria_title(self, shoot: Shoot) -> str:
        """The run's title on Astria: its idempotency key, unguessable like a model's, and
        with the order's time in it, so an order of a database started afresh (ids from 1
        again, the same key and Astria account) is never taken for an old run."""
        made = int(shoot.created_at.timestamp() * 1000)
        token = callback_token(self.settings.secret_key, f"title:{made}", shoot.id)
        return f"shoot-{shoot.id}-{made}-{token[:24]}"

    def submit(self, shoot_id: int) -> None:
        """Post the pack run; on refusal, fail and refund. A job: safe to run twice (the
        claim, and the run's title: Astria makes one run per title). An order on a model still
        training waits: the sweep (every SWEEP_SECONDS) sends it once the model is ready, and
        refunds it if the model failed."""
        shoot = self.store.get_shoot(shoot_id)
        model = shoot and self.store.get_model(shoot.model_id)
        if model is None or shoot.status != "processing":  # deleted with its user, or over
            return
        if model.status == ModelStatus.TRAINING:
            return
        if model.status != ModelStatus.READY:
            self.fail(shoot_id, Failure.MODEL_FAILED)
            return
        if not self.store.claim_shoot_submit(shoot_id, self.settings.upload_lease_seconds):
            return
        shoot = self.store.get_shoot(shoot_id)
        store = self.store
        with self.claimed(shoot, store.claim_shoot_submit, store.postpone_shoot_submit,
                          self.fail) as hold:  # fmt: skip
            self._submit(shoot, model, hold)

    def began(self, shoot: Shoot) -> datetime:
        """When the order could first be sent: when it was made, or, for one that waited for
        its model, when the model was trained (its deadlines count from then)."""
        model = self.store.get_model(shoot.model_id)
        trained = model.trained_at if model is not None else None
        return max(shoot.created_at, trained) if trained else shoot.created_at

    def deadline(self, record) -> datetime:
        """Until when an order may still be sent: ASTRIA_RETRY_MINUTES after it could be."""
        return self.began(record) + timedelta(minutes=self.settings.astria_retry_minutes)

    def _submit(self, shoot: Shoot, model: Model, hold: Hold) -> None:
        before = self._tune_prompts(model)  # to tell the run's prompts if Astria does not
        prompt_ids = self.send(
            lambda: self.astria.run_pack(
                shoot.pack_id,
                title=self.astria_title(shoot),
                tune_ids=[model.tune_id],
                callback=self.callback_url("shoot", shoot.id),
            ),
            "POST /p/:id/tunes",
            lambda failure: self.fail(shoot.id, failure),
            f"photoshoot shoot={shoot.id}",
            later=lambda: self.postpone(shoot, shoot.title, hold),
            hold=hold,
        )
        if prompt_ids is None:
            return
        if not prompt_ids and before is not None:  # "Prompts created", without their ids
            after = self._tune_prompts(model)
            prompt_ids = tuple(sorted(set(after or ()) - set(before)))
        self.store.mark_shoot_submitted(shoot.id, [str(i) for i in prompt_ids])
        log.info("photoshoot submitted shoot=%s prompts=%s", shoot.id, len(prompt_ids))
        if not self.store.shoot_prompts(shoot.id):  # the confirm message becomes the progress
            user = self.store.get_user(shoot.telegram_user_id)
            self.notifier.shoot_progress(user, shoot, 0)

    def _tune_prompts(self, model: Model) -> list[int] | None:
        """The ids of the newest prompts on the tune the model's prompts run on (its own, or
        Flux's base for a LoRA or FaceID: GET /tunes/:id/prompts), or None when Astria cannot
        say now."""
        tune = prompt_tune(self.settings, model.model_type, model.tune_id)
        try:
            return self.astria.tune_prompts(tune)
        except AstriaError as exc:
            log.info("prompts of tune %s not listed (%s)", tune, type(exc).__name__)
            return None

    @staticmethod
    def expected(shoot: Shoot) -> int:
        """How many prompts the order waits for: those Astria named, else the pack's count."""
        return len(shoot.prompt_ids) if shoot.prompt_ids else shoot.prompts

    @staticmethod
    def pictures(shoot: Shoot, back) -> int:
        """The pictures an order delivered (`back`: its prompts that came back), at most what
        it was sold as."""
        return min(shoot.num_images, sum(len(g.images) for g in back))

    def fail(self, shoot_id: int, error: str) -> None:
        """Nothing was made: fail the order, refund all of it once and tell the user."""
        shoot = self.store.get_shoot(shoot_id)
        if shoot is None:
            return
        failed = self.refunded(self.store.fail_shoot(shoot_id, error, shoot.price), shoot.price,
                               "photoshoot_refund")  # fmt: skip
        if failed is not None:
            shoot, refunded = failed
            user = self.store.get_user(shoot.telegram_user_id)
            self.notifier.shoot_done(user, shoot, 0, refunded)

    def resume(self) -> None:
        """Queue every order Astria has not accepted (after a crash)."""
        for shoot in self.store.shoots_awaiting_submit():
            self.jobs.submit(f"submit shoot {shoot.id}", self.submit, shoot.id)

    # from Astria --------------------------------------------------------------------------------

    def callback(self, shoot_id: int, token: str | None, read_body: Callable[[], object]) -> str:
        """Handle `{"prompt": {...}}` for one of the order's prompts; returns what happened.
        `read_body` is called only once the token is right."""
        authorise(self.settings.secret_key, "shoot", shoot_id, token)
        shoot = self.store.get_shoot(shoot_id)
        if shoot is None:
            raise Forbidden()
        prompt = read_prompt(read_body)
        if shoot.prompt_ids and str(prompt.id) not in shoot.prompt_ids:
            log.warning("callback for shoot=%s names prompt %s, not one of its own",
                        shoot_id, prompt.id)  # fmt: skip
            raise Forbidden()
        return self.apply(shoot, prompt)

    def apply(self, shoot: Shoot, prompt: Prompt) -> str:
        """Keep one prompt of the order as Astria says it ended (once), deliver its pictures,
        show the progress, and settle the order once every prompt is back."""
        if prompt.failed:
            kept = self.store.add_shoot_prompt(shoot, str(prompt.id), (), prompt.error or "failed")
        elif not prompt.done:
            return "not finished"
        else:
            if self.jobs.stopping:  # the album could not go out: the deadline sweep asks again
                raise ShuttingDown("a photoshoot callback while the process stops")
            images = self.images.accept(prompt.images, f"shoot={shoot.id}")
            if images:
                kept = self.store.add_shoot_prompt(shoot, str(prompt.id), images, None)
            else:
                kept = self.store.add_shoot_prompt(shoot, str(prompt.id), (), "no usable images")
        if kept is None:
            return "repeat"
        if kept.images:
            self.jobs.submit(f"deliver generation {kept.id}", self.deliver, kept.id)
        back = self.store.shoot_prompts(shoot.id)
        if len(back) >= self.expected(shoot):
            self.settle(shoot.id)
        elif shoot.status == "processing":
            user = self.store.get_user(shoot.telegram_user_id)
            self.notifier.shoot_progress(user, shoot, self.pictures(shoot, back))
        return "done" if kept.images else "failed"

    def settle(self, shoot_id: int) -> None:
        """End the order: refund the pictures that never came, and say so (once)."""
        back = self.store.shoot_prompts(shoot_id)
        shoot = self.store.get_shoot(shoot_id)
        if shoot is None or shoot.status != "processing":
            return
        delivered = self.pictures(shoot, back)
        refund = refund_for(shoot, delivered)
        outcome = self.store.settle_shoot(shoot_id, refund)
        settled = self.refunded(outcome, refund, "photoshoot_refund")
        if settled is None:
            return  # settled by another callback meanwhile
        shoot, refunded = settled
        log.info("photoshoot done shoot=%s images=%s of %s refunded=%s",
                 shoot.id, delivered, shoot.num_images, refunded)  # fmt: skip
        user = self.store.get_user(shoot.telegram_user_id)
        self.notifier.shoot_done(user, shoot, delivered, refunded)

    def sweep(self) -> int:
        """Settle the orders past PHOTOSHOOT_DEADLINE_MINUTES, having asked Astria about each
        prompt that never called back (Astria never retries a callback); how many settled."""
        limit = timedelta(minutes=self.settings.photoshoot_deadline_minutes)
        settled = 0
        for shoot in self.store.shoots_in_progress(datetime.now(UTC) - limit):
            if shoot.prompt_ids is None or self.began(shoot) > datetime.now(UTC) - limit:
                continue  # not accepted yet (its submit decides), or its model trained late
            back = {g.prompt_id for g in self.store.shoot_prompts(shoot.id)}
            for prompt_id in shoot.prompt_ids:
                if prompt_id in back or not prompt_id.isdigit():
                    continue
                try:  # each asked on its own: one Astria cannot answer about is one refunded
                    self.apply(shoot, self.astria.prompt(int(prompt_id)))
                except AstriaError as exc:
                    log.warning("shoot=%s prompt %s not read (%s); refunded if missing",
                                shoot.id, prompt_id, type(exc).__name__)  # fmt: skip
            self.settle(shoot.id)
            settled += 1
        return settled
