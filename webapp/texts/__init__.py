"""What the product says to people, one module per language (en.py, ru.py): each holds the same
keys in TEXTS, its plural rule and the word forms it counts with. English is the fallback.
Adding a language is one new file here (tests/test_texts.py checks it has every key)."""

from __future__ import annotations

import importlib
import pkgutil
from types import ModuleType

LANGUAGES: dict[str, ModuleType] = {
    info.name: importlib.import_module(f"{__name__}.{info.name}")
    for info in pkgutil.iter_modules(__path__)
    if len(info.name) == 2
}
EN = LANGUAGES["en"].TEXTS
# The failure codes the store keeps that have words of their own (others are "astria: …").
STORED_REASONS = ("photos_unavailable", "photos_lost", "astria_unavailable", "duplicate_photos")


def language_of(language_code: str | None) -> str:
    """Telegram's `language_code` (e.g. 'ru', 'ru-RU', 'en-US') → one we speak, English fallback."""
    base = (language_code or "").split("-")[0].lower()
    return base if base in LANGUAGES else "en"


class Texts:
    """The texts of one language; `t("key", **params)` formats one."""

    def __init__(self, language_code: str | None) -> None:
        self.lang = language_of(language_code)
        self._language = LANGUAGES[self.lang]

    def __call__(self, key: str, **params) -> str:
        """The text under `key`, in this language (English if missing), filled in."""
        template = self._language.TEXTS.get(key) or EN[key]
        return template.format(**params) if params else template

    def count(self, n: int, word: str) -> str:
        """`n` with the word in the form the number takes: 1 credit, 3 кредита."""
        forms = self._language.WORDS[word]
        return f"{n} {forms[self._language.plural(n)]}"

    def credits(self, n: int) -> str:
        """A number of credits: 1 credit, 3 credits, 3 кредита."""
        return self.count(n, "credit")

    def images(self, n: int) -> str:
        """A number of images: 1 image, 5 изображений."""
        return self.count(n, "image")

    def failure(self, error: str | None) -> str:
        """A failure the store keeps (a reason code, or "astria: <what Astria said>") in words:
        the one place both the chat and the Mini App get them from."""
        error = error or ""
        if error in STORED_REASONS:
            return self(f"reason_{error}")
        if error.startswith("astria: "):
            return self("reason_astria", detail=error.removeprefix("astria: ")[:200])
        return self("reason_other", detail=error[:200] or "?")
