"""Generation: charge once, send the prompt to Astria in the background, refund on refusal."""

from __future__ import annotations

import logging

from webapp.records import Generation, InvalidInput, Model, ModelNotReady, ModelStatus, NotFound
from webapp.services.training import clean_text
from webapp.services.work import AstriaWork, forget_on_astria
from webapp.settings import Settings

log = logging.getLogger("generation")

PROMPT_MAX = 600


def clean_prompt(prompt: str | None) -> str:
    """A prompt of 1–600 characters without control characters, or InvalidInput."""
    cleaned = clean_text(prompt)
    if not cleaned:
        raise InvalidInput(reason="prompt_empty")
    if len(cleaned) > PROMPT_MAX:
        raise InvalidInput(reason="prompt_too_long", limit=PROMPT_MAX)
    return cleaned


def prompt_tune(settings: Settings, tune_id: int | None) -> int | None:
    """The tune the prompts of a model (whose tune is `tune_id`) are posted to: the base model
    for a LoRA or FaceID (Flux), the model's own tune otherwise."""
    if settings.astria_model_type in ("lora", "faceid"):
        return settings.astria_base_tune_id
    return tune_id


def astria_request(settings: Settings, model: Model, prompt: str) -> tuple[int, str]:
    """Which tune the prompt is posted to, and its text, the way Astria documents per model type.

    A Flux LoRA (or FaceID) is used through the base model: `<lora:TUNE_ID:1> ohwx man, …`."""
    subject = f"{settings.astria_token} {model.class_name}"
    if settings.astria_model_type == "lora":
        text = f"<lora:{model.tune_id}:1> {subject}, {prompt}"
    elif settings.astria_model_type == "faceid":
        text = f"<faceid:{model.tune_id}:1> {model.class_name}, {prompt}"
    else:
        text = f"{subject}, {prompt}"
    return prompt_tune(settings, model.tune_id), text


class Generations(AstriaWork):
    """Starts generations and carries them to Astria."""

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
        self, telegram_id: int, *, model_id: int, prompt: str
    ) -> tuple[Generation, Model, int]:
        """Charge GENERATE_COST and queue the prompt; (generation, its model, new balance).

        Raises a DomainError, having charged nothing, when it cannot."""
        prompt = clean_prompt(prompt)
        model = self.own_model(telegram_id, model_id)
        if model.status != ModelStatus.READY:
            raise ModelNotReady(status=model.status)
        generation, balance = self.store.create_generation(
            telegram_id,
            model_id=model.id,
            prompt=prompt,
            num_images=self.settings.images_per_prompt,
            cost=self.settings.generate_cost,
        )
        log.info(
            "credits user=%s delta=-%s reason=generate ref=%s balance=%s",
            telegram_id,
            self.settings.generate_cost,
            generation.id,
            balance,
        )
        log.info(
            "generate started user=%s model=%s generation=%s", telegram_id, model.id, generation.id
        )
        self.jobs.submit(f"submit generation {generation.id}", self.submit, generation.id)
        return generation, model, balance

    def submit(self, generation_id: int) -> None:
        """Create the Astria prompt; on refusal, fail and refund."""
        if not self.store.claim_generation_submit(
            generation_id, self.settings.upload_lease_seconds
        ):
            return
        generation = self.store.get_generation(generation_id)
        model = generation and self.store.get_model(generation.model_id)
        if model is None:  # deleted with its user since the job was queued
            return
        tune_id, text = astria_request(self.settings, model, generation.prompt)
        prompt = self.send(
            lambda: self.astria.create_prompt(
                tune_id=tune_id,
                text=text,
                num_images=generation.num_images,
                callback=self.callback_url("prompt", generation.id),
            ),
            "POST /tunes/:id/prompts",
            lambda failure: self.fail(generation_id, failure),
            f"generate generation={generation_id}",
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
        """Mark a generation failed, refund its charge once and tell the user."""
        price = self.settings.generate_cost
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
