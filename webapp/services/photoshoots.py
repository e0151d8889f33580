"""Photoshoots: Astria packs the operator sells (webapp/catalogue/photoshoots.toml, or the file
PHOTOSHOOTS_FILE names), checked once when the app starts, and what Astria can run of each now
(its cover, and per class its images and sample pictures), read from Astria when first needed
and then hourly (a sweep). A pack Astria no longer has, or a class it does not support, is
simply not offered."""

from __future__ import annotations

import logging
import threading
import time
import tomllib
from dataclasses import dataclass
from pathlib import Path
from types import MappingProxyType

from webapp.astria import AstriaClient, AstriaError, AstriaRejected, Pack
from webapp.astria.packs import PackClass
from webapp.records import SettingsError, bounded_id
from webapp.texts import LANGUAGES

log = logging.getLogger("photoshoots")

CATALOGUE = Path(__file__).resolve().parent.parent / "catalogue" / "photoshoots.toml"
REFRESH_SECONDS = 3600  # how often Astria is asked about the packs again
RETRY_SECONDS = 60  # how soon again while Astria has never answered about them


@dataclass(frozen=True)
class Photoshoot:
    """One photoshoot as the operator lists it."""

    pack: int  # Astria's pack id
    price: int  # credits, for the whole set
    classes: tuple[str, ...] | None  # those offered (None: every one the pack supports)
    words: MappingProxyType  # language → {"title", "description"}

    def title(self, lang: str) -> str:
        return (self.words.get(lang) or self.words["en"])["title"]

    def description(self, lang: str) -> str:
        return (self.words.get(lang) or self.words["en"])["description"]


@dataclass(frozen=True)
class Offer:
    """A photoshoot Astria can run now: its cover, and what it makes per class offered."""

    photoshoot: Photoshoot
    cover: str | None
    classes: MappingProxyType  # class name → webapp.astria.packs.PackClass


def pack_topic(offer: Offer) -> str:
    """What the likes of a photoshoot's pictures are counted under (webapp.services.likes)."""
    return f"pack:{offer.photoshoot.pack}"


def _photoshoot(where: str, entry: object) -> Photoshoot:
    if not isinstance(entry, dict):
        raise ValueError(f"{where} is not a table")
    pack, price, classes = entry.get("pack"), entry.get("price"), entry.get("classes")
    if type(pack) is not int or bounded_id(pack) is None:
        raise ValueError(f"{where}: pack must be Astria's pack id (a whole number above 0)")
    if type(price) is not int or not 1 <= price <= 10_000:
        raise ValueError(f"{where}: price must be a whole number of credits, 1-10000")
    if classes is not None and (
        not isinstance(classes, list) or not classes or not all(isinstance(c, str) for c in classes)
    ):
        raise ValueError(f'{where}: classes must be a list of class names, e.g. ["man"]')
    words = {}
    for lang in LANGUAGES:
        said = entry.get(lang)
        if not isinstance(said, dict) or not all(
            isinstance(said.get(k), str) and said[k].strip() for k in ("title", "description")
        ):
            raise ValueError(f"{where}: {lang} = {{ title, description }} is missing")
        words[lang] = MappingProxyType({k: said[k].strip() for k in ("title", "description")})
    return Photoshoot(pack, price, tuple(classes) if classes else None, MappingProxyType(words))


def load_catalogue(path: Path | str = CATALOGUE) -> tuple[Photoshoot, ...]:
    """Read and check the catalogue; SettingsError (naming PHOTOSHOOTS_FILE) says what is
    wrong: the app does not start on a broken one."""
    path = Path(path)
    try:
        raw = tomllib.loads(path.read_text(encoding="utf-8")).get("photoshoot")
        if not isinstance(raw, list):
            raise ValueError("no [[photoshoot]] entries")
        found = tuple(_photoshoot(f"photoshoot {n + 1}", e) for n, e in enumerate(raw))
        if len({p.pack for p in found}) != len(found):
            raise ValueError("a pack is listed twice")
    except (OSError, ValueError, tomllib.TOMLDecodeError) as exc:
        raise SettingsError(f"PHOTOSHOOTS_FILE ({path.name}): {exc}") from None
    return found


class Photoshoots:
    """The photoshoots on offer: the catalogue, as far as Astria can run it now."""

    def __init__(self, catalogue: tuple[Photoshoot, ...], astria: AstriaClient) -> None:
        self.catalogue = catalogue
        self.astria = astria
        self._offers: dict[int, Offer] = {}  # by pack id, in the catalogue's order
        self._read = False  # Astria answered about the catalogue at least once
        self._asked_at = -RETRY_SECONDS  # when Astria was last asked (time.monotonic)
        self._told: set[str] = set()  # what is not offered, logged once
        self._lock = threading.Lock()

    def offers(self) -> tuple[Offer, ...]:
        """What is on offer now. Astria is asked the first time, and again (at most once a
        minute) while it has never answered: a hiccup at the first read must not empty the
        catalogue until the hourly sweep."""
        if not self._read and time.monotonic() - self._asked_at >= RETRY_SECONDS:
            self.refresh()
        return tuple(self._offers.values())

    def refresh(self) -> int:
        """Ask Astria about every pack of the catalogue; how many are on offer. A pack Astria
        cannot be asked about now (an outage) keeps what was known of it."""
        with self._lock:  # (the start and the hourly sweep may meet)
            self._asked_at = time.monotonic()
            offers, answered = {}, False
            for photoshoot in self.catalogue:
                try:
                    offer = self._offer(photoshoot, self.astria.get_pack(photoshoot.pack))
                    answered = True
                except AstriaRejected as exc:
                    answered = True
                    self._tell(f"pack {photoshoot.pack}: Astria has no such pack ({exc.status})")
                    continue
                except AstriaError as exc:  # down for now: as it was
                    log.warning("pack %s not read (%s)", photoshoot.pack, type(exc).__name__)
                    offer = self._offers.get(photoshoot.pack)
                if offer is not None:
                    offers[photoshoot.pack] = offer
            self._offers, self._read = offers, self._read or answered
        return len(offers)

    def _offer(self, photoshoot: Photoshoot, pack: Pack) -> Offer | None:
        classes: dict[str, PackClass] = {}
        for name in photoshoot.classes or tuple(pack.classes):
            if pack.supports(name):
                classes[name] = pack.classes[name]
            else:
                self._tell(f"pack {pack.id}: Astria's pack does not support {name!r}")
        if not classes:
            self._tell(f"pack {pack.id}: no class on offer")
            return None
        return Offer(photoshoot, pack.cover, MappingProxyType(classes))

    def _tell(self, what: str) -> None:
        if what not in self._told:
            self._told.add(what)
            log.warning("photoshoot not offered: %s", what)
