"""Generation: charge once, send the prompt to Astria in the background, refund on refusal.

A generation is a free prompt, a catalogue style, or both (the style's template, then the
user's words), in HD or not; its price is the style's (GENERATE_COST without one) plus
HD_COST, and exactly that is refunded if it fails."""

from __future__ import annotations

import logging
import re
from datetime import UTC, datetime, timedelta

from webapp.records import (
    Failure,
    Generation,
    InvalidInput,
    Model,
    ModelNotReady,
    ModelStatus,
    NotFound,
)
from webapp.services.styles import HD, Style, Styles
from webapp.services.training import clean_text, model_kind
from webapp.services.work import NEVER_AGAIN, STALE_AFTER, AstriaWork, Hold, forget_on_astria
from webapp.settings import Settings

log = logging.getLogger("generation")

PROMPT_MAX = 600


MODEL_TAG = re.compile(r"<\s*(lora|faceid)\s*:[^>]*>", re.IGNORECASE)


def clean_prompt(prompt: str | None, may_be_empty: bool = False) -> str:
    """A prompt of 1–600 characters (or none, when `may_be_empty`: a style is chosen) without
    control or invisible characters or model tags (a user's words must never name another
    model), or InvalidInput. Invisible characters go first, so none can hide a tag."""
    cleaned = clean_text(MODEL_TAG.sub(" ", clean_text(prompt))) if isinstance(prompt, str) else ""
    if not cleaned and not may_be_empty:
        raise InvalidInput(reason="prompt_empty")
    if len(cleaned) > PROMPT_MAX:
        raise InvalidInput(reason="prompt_too_long", limit=PROMPT_MAX)
    return cleaned


def prompt_tune(settings: Settings, model_type: str | None, tune_id: int | None) -> int | None:
    """The tune the prompts of a model (of `model_type`, whose tune is `tune_id`) are posted
    to: the base model for a LoRA or FaceID (Flux), the model's own tune otherwise."""
    if model_kind(settings, model_type) in ("lora", "faceid"):
        return settings.astria_base_tune_id
    return tune_id


def astria_request(
    settings: Settings, model: Model, prompt: str, style: Style | None = None, hd: bool = False
) -> tuple[int, str, dict]:
    """Which tune the prompt is posted to, its text and its options, the way Astria documents
    per model type — the one place a prompt is built.

    A Flux LoRA is used through the base model with its tag and token:
    `<lora:TUNE_ID:1> ohwx man, …`; a FaceID with its tag and the class alone:
    `<faceid:TUNE_ID:1> man, …`. A style puts the subject into its template; the user's words
    follow it. HD adds super_resolution and inpaint_faces to the style's options."""
    kind = model_kind(settings, model.model_type)
    if kind == "faceid":
        tag, subject = f"<faceid:{model.tune_id}:1> ", model.class_name
    elif kind == "lora":
        tag, subject = f"<lora:{model.tune_id}:1> ", f"{settings.astria_token} {model.class_name}"
    else:
        tag, subject = "", f"{settings.astria_token} {model.class_name}"
    body = style.text(subject) if style else subject
    text = f"{tag}{body}, {prompt}" if prompt else f"{tag}{body}"
    options = {**(style.options if style else {}), **(HD if hd else {})}
    return prompt_tune(settings, model.model_type, model.tune_id), text, options


class Generations(AstriaWork):
    """Starts generations and carries them to Astria."""

    def __init__(self, *args, styles: Styles, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.styles = styles  # the catalogue (a deploy may bring another)

    def price(self, style: Style | None, hd: bool) -> int:
        """What a generation costs: the style's price (GENERATE_COST without one), plus HD."""
        base = style.price if style else self.settings.generate_cost
        return base + (self.settings.hd_cost if hd else 0)

    def own_model(self, telegram_id: int, model_id: int) -> Model:
        """The user's own model, or NotFound (another user's model does not exist for them)."""
        model = self.store.get_model(model_id)
        if model is None or model.telegram_user_id != telegram_id:
            raise NotFound(what="model")
        return model

    def gallery(
        self, telegram_id: int, model_id: int, *, size: int, before: int | None = None
    ) -> list[Generation]:
        """A page of the user's model's generations, newest first (`before`: the last id of
        the page before); NotFound for anyone else's model."""
        model = self.own_model(telegram_id, model_id)
        return self.store.list_generations(
            telegram_id, model_id=model.id, limit=size, before_id=before
        )

    def start(
        self,
        telegram_id: int,
        *,
        model_id: int,
        prompt: str | None = None,
        style: str | None = None,
        hd: bool = False,
        key: str | None = None,
    ) -> tuple[Generation, Model, int]:
        """Charge the price and queue the prompt; (generation, its model, new balance). A style
        id (from the catalogue) may stand instead of the prompt, or before it. Once per `key`
        (the chat's update that asked for it): asked again, it charges nothing and gives the
        generation made the first time.

        Raises a DomainError, having charged nothing, when it cannot."""
        chosen = self.styles.get(style) if style is not None else None
        prompt = clean_prompt(prompt, may_be_empty=chosen is not None)  # a style alone is fine
        model = self.own_model(telegram_id, model_id)
        if model.status != ModelStatus.READY:
            raise ModelNotReady(status=model.status)
        cost = self.price(chosen, hd)
        generation, balance = self.store.create_generation(
            telegram_id,
            model_id=model.id,
            prompt=prompt,
            num_images=self.settings.images_per_prompt,
            cost=cost,
            style=chosen.id if chosen else None,
            hd=hd,
            request_key=key,
        )
        log.info(
            "credits user=%s delta=-%s reason=generate ref=%s balance=%s",
            telegram_id,
            cost,
            generation.id,
            balance,
        )
        log.info(
            "generate started user=%s model=%s generation=%s", telegram_id, model.id, generation.id
        )
        self.jobs.submit(f"submit generation {generation.id}", self.submit, generation.id)
        return generation, model, balance

    def again(
        self,
        telegram_id: int,
        generation_id: int,
        *,
        hd: bool | None = None,
        key: str | None = None,
    ) -> tuple[Generation, Model, int]:
        """ "More": the same prompt and style on the same model, charged as usual (HD as before
        unless `hd` says otherwise). NotFound for anyone else's generation."""
        before = self.store.get_generation(generation_id)
        if before is None or before.telegram_user_id != telegram_id or before.shoot_id:
            raise NotFound(what="generation")  # (a photoshoot's picture is not made again alone)
        if before.style and self.styles.find(before.style) is None:  # taken out since
            raise InvalidInput(
                "That style is no longer offered.", reason="unknown_style", model_id=before.model_id
            )
        return self.start(
            telegram_id,
            model_id=before.model_id,
            prompt=before.prompt,
            style=before.style,
            hd=before.hd if hd is None else hd,
            key=key,
        )

    def submit(self, generation_id: int) -> None:
        """Create the Astria prompt; on refusal, fail and refund. A job: safe to run twice
        (the claim; the signed callback settles a prompt whose answer was lost)."""
        if not self.store.claim_generation_submit(
            generation_id, self.settings.upload_lease_seconds
        ):
            return
        generation = self.store.get_generation(generation_id)
        model = generation and self.store.get_model(generation.model_id)
        if model is None:  # deleted with its user since the job was queued
            return
        store = self.store
        with self.claimed(
            generation, store.claim_generation_submit, store.postpone_generation_submit, self.fail
        ) as put_off:
            self._submit(generation, model, put_off)

    def _submit(self, generation: Generation, model: Model, hold: Hold) -> None:
        """The prompt, under its claim (`hold(free_at)` puts it off until then)."""
        generation_id = generation.id
        if datetime.now(UTC) > self.deadline(generation) + STALE_AFTER:
            # Never sent, and long past its time (a process down for hours, or a prompt whose
            # answer was lost and nobody reconciled): a refund, not a surprise album.
            log.warning("generation=%s is long past its deadline: refunded", generation_id)
            self.fail(generation_id, Failure.ASTRIA_UNAVAILABLE)
            return
        style = self.styles.find(generation.style)
        if generation.style and style is None:  # taken out of the catalogue by a deploy since
            self.fail(generation_id, Failure.STYLE_GONE)
            return
        tune_id, text, options = astria_request(
            self.settings, model, generation.prompt, style, generation.hd
        )
        # From here on Astria may make the prompt: whatever happens next (a lost answer, a
        # crash, the store failing after Astria said yes), it is not sent again for a day
        # (its callback or the reconciler settles it) unless Astria said it made nothing
        # (an outage: `postpone` holds it for a shorter pause).
        hold(datetime.now(UTC) + timedelta(seconds=NEVER_AGAIN))
        prompt = self.send(
            lambda: self.astria.create_prompt(
                tune_id=tune_id,
                text=text,
                num_images=generation.num_images,
                callback=self.callback_url("prompt", generation.id),
                options=options,
            ),
            "POST /tunes/:id/prompts",
            lambda failure: self.fail(generation_id, failure),
            f"generate generation={generation_id}",
            later=lambda: self.postpone(generation, model.name, hold),
            hold=hold,
            resend_after=NEVER_AGAIN,  # a second prompt would be paid twice
        )
        if prompt is None:
            return
        self.store.mark_generation_submitted(generation_id, str(prompt.id))
        if self.store.get_generation(generation_id) is None:  # the user deleted their data
            log.info("generation=%s was deleted meanwhile; deleting its prompt", generation_id)
            forget_on_astria(self.astria.delete_prompt, tune_id, prompt.id)
            return
        log.info("generate submitted generation=%s prompt=%s", generation_id, prompt.id)

    def fail(self, generation_id: int, error: str) -> None:
        """Mark a generation failed, refund what it cost once and tell the user."""
        generation = self.store.get_generation(generation_id)
        if generation is None:
            return  # deleted with its user
        price = self.settings.generate_cost if generation.cost is None else generation.cost
        outcome = self.store.fail_generation(generation_id, error, price)
        failed = self.refunded(outcome, price, "generate_refund")
        if failed is not None:
            generation, refunded = failed
            user = self.store.get_user(generation.telegram_user_id)
            self.notifier.generation_failed(user, generation, refunded)

    def resume(self) -> None:
        """Queue every generation that Astria has not acknowledged (after a crash)."""
        for generation in self.store.generations_awaiting_submit():
            self.jobs.submit(f"submit generation {generation.id}", self.submit, generation.id)
