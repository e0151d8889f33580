"""The style catalogue (webapp/catalogue/styles.toml): looks a user can pick with one tap, each
with a prompt template, Astria prompt options and a price; checked once, when the app starts."""

from __future__ import annotations

import re
import tomllib
from dataclasses import dataclass
from pathlib import Path
from types import MappingProxyType

from webapp.records import InvalidInput
from webapp.texts import LANGUAGES

CATALOGUE = Path(__file__).resolve().parent.parent / "catalogue" / "styles.toml"
STYLE_ID = re.compile(r"[a-z0-9_]{1,24}")
ASPECT_RATIOS = {"1:1", "16:9", "9:16", "21:9", "9:21", "3:2", "2:3", "5:4", "4:5", "4:3", "3:4"}
# super_resolution and inpaint_faces are HD's (the user pays HD_COST for them): not a style's
FLAGS = {"face_correct", "film_grain"}
CHOICES = {"color_grading": {"Film Velvia", "Film Portra", "Ektar"}}  # as Astria documents
TEXTS = {"negative_prompt": 300}
NUMBERS = {"cfg_scale": (0, 15), "steps": (0, 50), "w": (64, 2048), "h": (64, 2048)}
HD = MappingProxyType({"super_resolution": True, "inpaint_faces": True})  # Astria's HD pair


class CatalogueError(ValueError):
    """The catalogue file is malformed; the message says which style and what."""


@dataclass(frozen=True)
class Style:
    """One look of the catalogue."""

    id: str
    template: str  # with {subject}
    options: MappingProxyType  # Astria prompt fields (aspect_ratio, film_grain, …)
    price: int
    words: MappingProxyType  # language → {"name", "description"}

    def name(self, lang: str) -> str:
        """The style's name in a language (English when missing)."""
        return (self.words.get(lang) or self.words["en"])["name"]

    def description(self, lang: str) -> str:
        """Its one-line description in a language (English when missing)."""
        return (self.words.get(lang) or self.words["en"])["description"]

    def text(self, subject: str) -> str:
        """The prompt with the subject put in."""
        return self.template.replace("{subject}", subject)


def _options(where: str, options: object) -> dict:
    if not isinstance(options, dict):
        raise CatalogueError(f"{where}: options must be a table")
    for key, value in options.items():
        if key == "aspect_ratio":
            ok = value in ASPECT_RATIOS
        elif key in FLAGS:
            ok = isinstance(value, bool)
        elif key in CHOICES:
            ok = value in CHOICES[key]
        elif key in TEXTS:
            ok = isinstance(value, str) and 0 < len(value) <= TEXTS[key]
        elif key in NUMBERS:
            low, high = NUMBERS[key]
            ok = (
                type(value) is int
                and low <= value <= high
                and (key not in ("w", "h") or value % 8 == 0)
            )
        elif key in HD:
            raise CatalogueError(f"{where}: {key} is HD's option (the HD switch adds it)")
        else:
            raise CatalogueError(f"{where}: unknown option {key!r}")
        if not ok:
            raise CatalogueError(f"{where}: option {key} = {value!r} is not valid")
    return options


def _style(n: int, raw: dict, default_price: int) -> Style:
    where = f"style #{n + 1} ({raw.get('id', '?')})"
    if not isinstance(raw.get("id"), str) or not STYLE_ID.fullmatch(raw["id"]):
        raise CatalogueError(f"{where}: id must be 1-24 of a-z 0-9 _")
    template = raw.get("template")
    if not isinstance(template, str) or template.count("{subject}") != 1 or len(template) > 400:
        raise CatalogueError(f"{where}: template needs {{subject}} once (at most 400 characters)")
    price = raw.get("price", default_price)
    if type(price) is not int or not 0 <= price <= 100:
        raise CatalogueError(f"{where}: price must be a whole number of credits, 0-100")
    words = {}
    for lang in LANGUAGES:
        entry = raw.get(lang)
        if not isinstance(entry, dict) or not all(
            isinstance(entry.get(k), str) and 0 < len(entry[k]) <= limit
            for k, limit in (("name", 24), ("description", 80))
        ):
            raise CatalogueError(f"{where}: needs [{lang}] name (≤ 24) and description (≤ 80)")
        words[lang] = MappingProxyType({"name": entry["name"], "description": entry["description"]})
    unknown = set(raw) - {"id", "template", "options", "price", *LANGUAGES}
    if unknown:
        raise CatalogueError(f"{where}: unknown keys {sorted(unknown)}")
    options = MappingProxyType(_options(where, raw.get("options", {})))
    return Style(raw["id"], template, options, price, MappingProxyType(words))


class Styles:
    """The catalogue, in its file's order."""

    def __init__(self, styles: list[Style]) -> None:
        self.all = tuple(styles)
        self._by_id = {s.id: s for s in styles}
        if len(self._by_id) != len(styles):
            raise CatalogueError("two styles have the same id")

    @classmethod
    def load(cls, default_price: int, path: Path = CATALOGUE) -> Styles:
        """Read and check the catalogue; CatalogueError says what is wrong."""
        try:
            data = tomllib.loads(path.read_text(encoding="utf-8"))
        except (OSError, tomllib.TOMLDecodeError) as exc:
            raise CatalogueError(f"{path.name}: {exc}") from None
        raw = data.get("style")
        if not isinstance(raw, list) or not raw:
            raise CatalogueError(f"{path.name}: no [[style]] entries")
        return cls([_style(n, entry, default_price) for n, entry in enumerate(raw)])

    def get(self, style_id) -> Style:
        """The style with that id, or InvalidInput (reason unknown_style)."""
        style = self._by_id.get(style_id) if isinstance(style_id, str) else None
        if style is None:
            raise InvalidInput("There is no such style.", reason="unknown_style")
        return style

    def find(self, style_id: str | None) -> Style | None:
        """The style with that id, or None (a generation made before a style was removed)."""
        return self._by_id.get(style_id) if style_id else None
