"""Reconcile: Astria never retries a callback, so work still in progress past its ETA (plus a
margin) is settled by asking Astria — with exactly the records and the single notification a
callback would have produced. What Astria lost or failed is marked failed and refunded."""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta

from webapp.astria import AstriaClient, AstriaError, AstriaRejected
from webapp.records import Failure
from webapp.services.callbacks import Callbacks
from webapp.services.generation import Generations, prompt_tune
from webapp.services.training import Training
from webapp.settings import Settings
from webapp.store import Store

log = logging.getLogger("reconcile")


@dataclass
class Report:
    """What one run found and did, by outcome."""

    models: dict[str, int] = field(default_factory=dict)
    generations: dict[str, int] = field(default_factory=dict)

    def count(self, kind: str, outcome: str) -> None:
        """Count one outcome."""
        bucket = self.models if kind == "model" else self.generations
        bucket[outcome] = bucket.get(outcome, 0) + 1


class Reconciler:
    """Asks Astria about models and generations stuck in progress."""

    def __init__(
        self,
        store: Store,
        astria: AstriaClient,
        settings: Settings,
        callbacks: Callbacks,
        training: Training,
        generations: Generations,
    ) -> None:
        self.store = store
        self.astria = astria
        self.settings = settings
        self.callbacks = callbacks
        self.training = training
        self.generations = generations

    def run(self, older_than: timedelta) -> Report:
        """Settle everything in progress for longer than `older_than` past its ETA."""
        before = datetime.now(UTC) - older_than
        report = Report()
        for model in self.store.models_in_progress(before):
            report.count("model", self._model(model))
        for generation in self.store.generations_in_progress(before):
            report.count("generation", self._generation(generation))
        if report.models or report.generations:
            log.info("reconciled models=%s generations=%s", report.models, report.generations)
        return report

    def _model(self, model) -> str:
        if model.tune_id is None:
            # Never acknowledged by Astria: upload again (same title, so never a second tune).
            self.training.upload(model.id)
            return "uploaded again"
        return self._ask(
            lambda: self.astria.get_tune(model.tune_id),
            lambda: self.training.fail(model.id, Failure.astria("the model was lost")),
            lambda tune: self.callbacks.apply_tune(model, tune),
        )

    def _generation(self, generation) -> str:
        if generation.prompt_id is None:
            # No prompt id: Astria either never got it or answered too late to tell us. While
            # an outage is waited out (ASTRIA_RETRY_MINUTES), the sweep keeps trying to send it.
            if datetime.now(UTC) < self.generations.deadline(generation):
                return "waiting for Astria"
            self.generations.fail(generation.id, Failure.ASTRIA_UNAVAILABLE)
            return "never sent"
        model = self.store.get_model(generation.model_id)
        kind = model.model_type if model else None
        tune_id = prompt_tune(self.settings, kind, model.tune_id if model else None)
        return self._ask(
            lambda: self.astria.get_prompt(tune_id, int(generation.prompt_id)),
            lambda: self.generations.fail(generation.id, Failure.astria("the generation was lost")),
            lambda prompt: self.callbacks.apply_prompt(generation, prompt),
        )

    @staticmethod
    def _ask(fetch, lost, apply) -> str:
        """Ask Astria (`fetch`) and settle what it says (`apply`); what it no longer has (404)
        is `lost` (failed and refunded); when it cannot answer, ask again next time."""
        try:
            found = fetch()
        except AstriaRejected as exc:
            if exc.status == 404:
                lost()
                return "lost"
            return f"astria {exc.status}"
        except AstriaError:
            return "astria unavailable"
        return apply(found)
