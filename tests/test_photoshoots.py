"""The photoshoot catalogue (webapp/catalogue/photoshoots.toml, or PHOTOSHOOTS_FILE): checked
when the app starts (a broken one stops it with one line naming the setting), and offered as far
as Astria can run it: a pack Astria does not have, or a class it does not support, is not
offered (said once in the log), and an Astria outage keeps what was known."""

from __future__ import annotations

import json
import logging
import os
import subprocess
import sys

import pytest
import requests

from tests.processes import ROOT
from tests.support import call, init_data
from webapp.services.photoshoots import CATALOGUE, Photoshoots, load_catalogue
from webapp.settings import SettingsError
from webapp.texts import LANGUAGES

WORDS = "\n".join(f'{lang} = {{ title = "T", description = "D" }}' for lang in LANGUAGES)


def catalogue(tmp_path, *entries: str):
    path = tmp_path / "photoshoots.toml"
    path.write_text("\n".join(f"[[photoshoot]]\n{e}\n{WORDS}\n" for e in entries))
    return path


def test_the_bundled_catalogue_is_whole_in_every_language():
    found = load_catalogue(CATALOGUE)
    assert len(found) >= 3 and len({p.pack for p in found}) == len(found)
    for photoshoot in found:
        for lang in LANGUAGES:
            assert photoshoot.title(lang) and photoshoot.description(lang)


@pytest.mark.parametrize(
    ("entries", "message"),
    [
        (["pack = 0\nprice = 5"], "photoshoot 1: pack must be Astria's pack id"),
        (["pack = 1\nprice = 0"], "photoshoot 1: price must be a whole number of credits"),
        (['pack = 1\nprice = 5\nclasses = "man"'], "photoshoot 1: classes must be a list"),
        (["pack = 1\nprice = 5", "pack = 1\nprice = 6"], "a pack is listed twice"),
        ([], "no .{2}photoshoot.{2} entries"),
    ],
)
def test_a_broken_catalogue_names_the_setting_and_what(tmp_path, entries, message):
    with pytest.raises(SettingsError, match=f"PHOTOSHOOTS_FILE .photoshoots.toml.: {message}"):
        load_catalogue(catalogue(tmp_path, *entries))


def test_a_catalogue_file_that_is_not_there_is_said_so(tmp_path):
    with pytest.raises(SettingsError, match="PHOTOSHOOTS_FILE .missing.toml.: .* No such file"):
        load_catalogue(tmp_path / "missing.toml")


def test_a_language_left_out_is_refused(tmp_path):
    path = tmp_path / "photoshoots.toml"
    path.write_text('[[photoshoot]]\npack = 1\nprice = 5\nen = { title = "T", description = "D" }')
    with pytest.raises(SettingsError, match="ru = { title, description } is missing"):
        load_catalogue(path)


def test_the_app_does_not_start_on_a_broken_catalogue(tmp_path):
    broken = catalogue(tmp_path, "pack = 1\nprice = -3")
    env = {**os.environ, "INSTANCE_PATH": str(tmp_path / "i"), "PHOTOSHOOTS_FILE": str(broken)}
    done = subprocess.run(
        [sys.executable, "-m", "flask", "--app", "wsgi", "routes"],
        cwd=ROOT, env=env, capture_output=True, text=True, timeout=60,
    )  # fmt: skip
    assert done.returncode == 1 and "Traceback" not in done.stderr
    assert "Configuration error: PHOTOSHOOTS_FILE (photoshoots.toml): photoshoot 1: price" in (
        done.stderr
    )


def test_what_astria_can_run_is_offered_with_its_cover_and_pictures(live):
    offers = live.rt.services.photoshoots.offers()  # the bundled catalogue, on the sandbox
    assert [o.photoshoot.pack for o in offers] == [p.pack for p in load_catalogue(CATALOGUE)]
    for offer in offers:
        assert live.rt.images.origin_of(offer.cover) is not None
        for made in offer.classes.values():
            assert made.images >= 12 and made.samples
    viking = next(o for o in offers if o.photoshoot.pack == 1520)
    assert sorted(viking.classes) == ["man", "woman"]  # the pack has "boy"; the catalogue not


def test_a_pack_astria_lacks_or_a_class_it_does_not_support_is_not_offered_once_said(
    live, tmp_path, caplog
):
    listed = load_catalogue(
        catalogue(
            tmp_path,
            "pack = 999999\nprice = 5",  # not a pack Astria has
            'pack = 260\nprice = 5\nclasses = ["man", "dog"]',  # it makes no dogs
            'pack = 1187\nprice = 5\nclasses = ["dog"]',  # nothing left to offer
        )
    )
    photoshoots = Photoshoots(listed, live.rt.services.training.astria)
    caplog.set_level(logging.WARNING, "photoshoots")
    (offer,) = photoshoots.offers()
    assert offer.photoshoot.pack == 260 and list(offer.classes) == ["man"]
    assert photoshoots.refresh() == 1  # asked again (the hourly sweep)
    said = [r.getMessage() for r in caplog.records if r.name == "photoshoots"]
    assert len(said) == 4, said  # once each, though asked twice
    assert any("999999" in s for s in said) and any("'dog'" in s for s in said)


def test_an_astria_outage_keeps_what_was_on_offer(live):
    photoshoots = live.rt.services.photoshoots
    before = photoshoots.offers()
    live.sandbox_fault(kind="http", method="GET", path=r"/p/\d+", status=503, times=100)
    assert photoshoots.refresh() == len(before)
    assert photoshoots.offers() == before


def test_an_outage_at_the_first_read_is_asked_again_soon_not_in_an_hour(live, monkeypatch):
    from webapp.services import photoshoots as module

    astria = live.rt.services.photoshoots.astria
    photoshoots = Photoshoots(live.rt.services.photoshoots.catalogue, astria)  # never read yet
    tries = (live.rt.settings.astria_retries + 1) * len(photoshoots.catalogue)  # one read's
    live.sandbox_fault(kind="http", method="GET", path=r"/p/\d+", status=503, times=tries)
    assert photoshoots.offers() == ()  # Astria did not answer: nothing known yet
    assert photoshoots.offers() == ()  # …and not asked again within the minute
    monkeypatch.setattr(module, "RETRY_SECONDS", 0)  # a minute later
    assert [o.photoshoot.pack for o in photoshoots.offers()] == [260, 1187, 1520]


def test_the_mini_app_lists_the_photoshoots_in_the_users_language(live):
    russian = json.dumps({"id": 6002, "first_name": "Ира", "language_code": "ru"})
    listed = call(live, "GET", "/api/bot/photoshoots", auth=f"tma {init_data(6002, user=russian)}")
    assert listed.status_code == 200
    shoots = listed.json()["photoshoots"]
    assert [s["id"] for s in shoots] == [p.pack for p in load_catalogue(CATALOGUE)]
    corporate = shoots[0]
    assert (corporate["title"], corporate["price"]) == ("Деловые портреты", 25)
    assert corporate["images"] == {"man": 16, "woman": 16}
    assert len(corporate["samples"]["woman"]) == 10 and corporate["cover"].endswith("cover.jpg")
    http = requests.Session()
    for url in (corporate["cover"], corporate["samples"]["man"][0]):
        assert http.get(url, timeout=10).headers["Content-Type"] == "image/jpeg"
    assert call(live, "GET", "/api/bot/photoshoots", auth="tma forged").status_code == 401
