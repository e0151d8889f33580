"""What the chat says about records: a model's line, how long training has left, the price
that could not be paid."""

from __future__ import annotations

from webapp.records import Model, ModelStatus
from webapp.texts import Texts


def eta_text(t: Texts, model: Model) -> str:
    """How long training has left: about 12 min / almost done / starting."""
    minutes = model.minutes_left()
    if minutes is None:
        return t("eta_unknown")
    return t("eta_minutes", minutes=minutes) if minutes else t("eta_soon")


def model_line(t: Texts, model: Model) -> str:
    """One line of /models."""
    class_label = t(f"class_{model.class_name}").lower()
    if model.status == ModelStatus.READY:
        return t("model_line_ready", name=model.name, class_label=class_label)
    if model.status == ModelStatus.TRAINING:
        return t(
            "model_line_training", name=model.name, class_label=class_label, eta=eta_text(t, model)
        )
    return t("model_line_failed", name=model.name, class_label=class_label)


def no_credits(t: Texts, key: str, need: int, have: int) -> str:
    """The not-enough-credits message of training or generation (`key`), with plurals."""
    return t(key, need=t.credits(need), have=t.credits(have))


def problem_words(t: Texts, problems) -> str:
    """What the photo check found in a photo, in words: "blurry, sunglasses"."""
    return ", ".join(t(f"problem_{p}") for p in problems)
