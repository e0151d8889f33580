"""What the product says to people, one module per language (en.py, ru.py): the chat's TEXTS,
its plural rule and the word forms it counts with, and the Mini App's APP (sent with its page).
English is the fallback for any other language.

Adding a language is one new file here, named by its two-letter code as Telegram sends it
(`de.py`; a name of another length is not loaded): tests/test_texts.py checks it has every key
with the same fields, and the chat's command menu and the Mini App pick it up by themselves."""

from __future__ import annotations

import importlib
import pkgutil
from types import ModuleType

from webapp.records import ASTRIA_SAID, Failure

LANGUAGES: dict[str, ModuleType] = {
    info.name: importlib.import_module(f"{__name__}.{info.name}")
    for info in pkgutil.iter_modules(__path__)
    if len(info.name) == 2
}
EN = LANGUAGES["en"].TEXTS


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

    def stars(self, n: int) -> str:
        """A number of Telegram Stars: 1 Star, 5 звёзд."""
        return self.count(n, "star")

    def images(self, n: int) -> str:
        """A number of images: 1 image, 5 изображений."""
        return self.count(n, "image")

    def failure(self, error: str | None, sentence: bool = False) -> str:
        """A failure the store keeps (a Failure code, or what Astria said) in words: the one
        place both the chat and the Mini App get them from. The texts continue a sentence
        ("…failed: <reason>"); `sentence=True` makes one of its own."""
        error = error or ""
        if error in set(Failure):
            words = self(f"reason_{error}")
        elif error.startswith(ASTRIA_SAID):
            words = self("reason_astria", detail=error.removeprefix(ASTRIA_SAID)[:200])
        else:
            words = self("reason_other", detail=error[:200] or "?")
        return words[:1].upper() + words[1:] if sentence else words
