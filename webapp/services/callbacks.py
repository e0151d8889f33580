"""Callbacks: what Astria tells us when a tune or a prompt is finished.

Astria never retries a callback and sends no signature, so each callback URL carries our own
object id and a token we signed for it; the body is read only once the token is right. Every
outcome is a conditional state change in the store: a repeated callback changes nothing and
notifies nobody a second time. Image URLs are kept only on Astria's image hosts.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from concurrent.futures import Future
from datetime import UTC, datetime, timedelta

from webapp.astria import Prompt, Tune, parse_prompt, parse_tune
from webapp.images import ImagePolicy
from webapp.jobs import Background, ShuttingDown
from webapp.records import DomainError, Failure, Generation, InvalidInput, Model, ModelStatus
from webapp.security import check_callback_token
from webapp.services.generation import Generations
from webapp.services.ports import Notifier
from webapp.services.training import Training
from webapp.settings import Settings
from webapp.store import Store
from webapp.timers import Heartbeat

DELIVERY_GIVE_UP = timedelta(days=1)  # an album not out by then stays in the gallery only

log = logging.getLogger("callbacks")


class Forbidden(DomainError):
    """A callback with a wrong or missing token, or about an object it does not belong to."""

    code = "forbidden"
    http_status = 403


def authorise(secret_key: str, kind: str, object_id: int, token: str | None) -> None:
    """Forbidden unless `token` is the one we signed for this callback URL (`kind`, our id)."""
    if not check_callback_token(secret_key, kind, object_id, token):
        log.warning("callback %s %s refused: bad token", kind, object_id)
        raise Forbidden()


def read_prompt(read_body: Callable[[], object]) -> Prompt:
    """The prompt of a `{"prompt": {...}}` callback body; InvalidInput if it is not one."""
    body = read_body()
    try:
        return parse_prompt(body.get("prompt") if isinstance(body, dict) else None)
    except ValueError:
        raise InvalidInput(reason="not a prompt callback") from None


class Callbacks:
    """Turns Astria's callbacks into finished or failed models and generations."""

    def __init__(
        self,
        store: Store,
        settings: Settings,
        jobs: Background,
        notifier: Notifier,
        training: Training,
        generations: Generations,
        images: ImagePolicy,
    ) -> None:
        self.images = images
        self.store = store
        self.settings = settings
        self.jobs = jobs
        self.notifier = notifier
        self.training = training
        self.generations = generations

    def tune(self, model_id: int, token: str | None, read_body: Callable[[], object]) -> str:
        """Handle `{"tune": {...}}` for our model; returns what happened, for the log.

        `read_body` is called only once the token is right. A model without a tune id yet
        accepts only the tune Astria made for it: the one carrying the model's secret title."""
        authorise(self.settings.secret_key, "tune", model_id, token)
        model = self.store.get_model(model_id)
        if model is None:
            raise Forbidden()
        body = read_body()
        try:
            tune = parse_tune(body.get("tune") if isinstance(body, dict) else None)
        except ValueError:
            raise InvalidInput(reason="not a tune callback") from None
        if tune.id != model.tune_id and (model.tune_id is not None or tune.title != model.title):
            log.warning("callback tune for model=%s names another tune (%s)", model_id, tune.id)
            raise Forbidden()
        return self.apply_tune(model, tune)

    def apply_tune(self, model: Model, tune: Tune) -> str:
        """Finish a model the way Astria's tune says (from a callback or from asking Astria)."""
        if tune.failed:
            self.training.fail(model.id, Failure.astria(tune.error or "training failed"))
            return "failed"
        if tune.trained_at is None:
            return "not finished"
        if not self.training.ready(model, tune.id, tune.trained_at):
            return "repeat" if model.status != ModelStatus.TRAINING else "ignored"
        return "ready"

    def prompt(self, generation_id: int, token: str | None, read_body: Callable[[], object]) -> str:
        """Handle `{"prompt": {...}}` for our generation; the album goes out in the background.
        `read_body` is called only once the token is right."""
        authorise(self.settings.secret_key, "prompt", generation_id, token)
        generation = self.store.get_generation(generation_id)
        if generation is None:
            raise Forbidden()
        prompt = read_prompt(read_body)
        if generation.prompt_id is not None and str(prompt.id) != generation.prompt_id:
            log.warning(
                "callback prompt for generation=%s names prompt %s, not %s",
                generation_id,
                prompt.id,
                generation.prompt_id,
            )
            raise Forbidden()
        return self.apply_prompt(generation, prompt)

    def apply_prompt(self, generation: Generation, prompt: Prompt) -> str:
        """Finish a generation the way Astria's prompt says (from a callback or from Astria)."""
        if prompt.failed:
            self.generations.fail(
                generation.id, Failure.astria(prompt.error or "generation failed")
            )
            return "failed"
        if not prompt.done:
            return "not finished"
        if self.jobs.stopping:  # the album could not go out: leave it to reconcile, unchanged
            raise ShuttingDown("a prompt callback while the process stops")
        images = self.images.accept(prompt.images, f"generation={generation.id}")
        if not images:
            self.generations.fail(generation.id, Failure.astria("no usable images"))
            return "failed"
        done = self.store.finish_generation(generation.id, images, str(prompt.id))
        if done is None:
            return "repeat"
        log.info(
            "generation done user=%s generation=%s images=%s",
            done.telegram_user_id,
            done.id,
            len(done.images),
        )
        self.jobs.submit(f"deliver generation {done.id}", self.deliver, done.id)
        return "done"

    def deliver(self, generation_id: int) -> None:
        """A job: send a done generation's album, at least once.

        The job claims the album, and its claim is renewed until the album is out: through a
        long 429 too, which the job does not wait for (the outbox tells when it is over, and
        the worker is free meanwhile). The album is marked delivered only once Telegram has
        it. If the process dies, the claim runs out within UPLOAD_LEASE_SECONDS and the sweep
        sends the album again; a user may then get it twice, which beats never. An album
        Telegram does not take (the outbox gave it up) is tried again the same way, for a day;
        after that it stays in the gallery only, logged as an error for the operator."""
        lease = self.settings.upload_lease_seconds
        if not self.store.claim_delivery(generation_id, lease):
            return  # another worker is sending it, or it went out
        generation = self.store.get_generation(generation_id)
        model = generation and self.store.get_model(generation.model_id)
        if model is None:  # the user deleted their data meanwhile
            return
        user = self.store.get_user(generation.telegram_user_id)
        # renewing is claiming again with nothing to wait out (it still needs the album undelivered)
        renew = lambda: self.store.claim_delivery(generation_id, 0)  # noqa: E731
        heartbeat = Heartbeat(renew, lease / 3, f"album={generation_id}").start()
        try:
            sent = self.notifier.generation_done(user, model, generation)
        except BaseException:
            heartbeat.stop()
            raise
        if isinstance(sent, Future):  # waits for Telegram: settled on the outbox's thread
            sent.add_done_callback(lambda done: self._sent(generation_id, done.result(), heartbeat))
        else:
            self._sent(generation_id, sent, heartbeat)

    def _sent(self, generation_id: int, sent: bool | None, heartbeat: Heartbeat) -> None:
        """The album went out (or there was nobody to send it to), or not (False)."""
        heartbeat.stop()
        if sent is False:
            log.warning("generation=%s album did not go out; sent again later", generation_id)
            return
        try:
            self.store.mark_delivered(generation_id)
        except Exception as exc:  # the store is down: the album will be sent again
            log.warning("generation=%s delivery not recorded (%s)", generation_id,
                        type(exc).__name__)  # fmt: skip

    def resume(self) -> None:
        """Queue the albums whose job died or whose send failed (claimed ones are skipped by the
        job itself); an album a day old that never went out is left to the gallery."""
        given_up = datetime.now(UTC) - DELIVERY_GIVE_UP
        for generation in self.store.generations_awaiting_delivery():
            if generation.created_at and generation.created_at < given_up:
                log.error("generation=%s album never went out; left to the gallery", generation.id)
                self.store.mark_delivered(generation.id)
                continue
            self.jobs.submit(f"deliver generation {generation.id}", self.deliver, generation.id)
