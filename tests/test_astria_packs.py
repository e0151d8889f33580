"""Astria's packs (photoshoots), read side: what Astria answers is parsed into typed packs (the
answers recorded in Astria's docs, tests/corpus/astria), a malformed pack is skipped and never
fails a list, and the sandbox serves three packs with a cover and sample pictures, as Astria
does, so the product shows real photoshoots offline."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
import requests

from tests.support import sandbox_prompts, trained_model
from webapp.astria import AstriaRejected, AstriaUnavailable
from webapp.astria.packs import MAX_SAMPLES, parse_listings, parse_pack, parse_run

CORPUS = Path(__file__).resolve().parent / "corpus" / "astria"


def recorded(name: str):
    return json.loads((CORPUS / name).read_text())


def test_a_pack_as_astrias_docs_show_it():
    pack = parse_pack(recorded("docs_pack_get_response.json"))
    assert (pack.id, pack.slug, pack.title) == (260, "corporate-headshots", "Corporate Headshots")
    assert pack.cover.startswith("https://sdbooth2-production.s3.amazonaws.com/")
    assert sorted(pack.classes) == ["man", "woman"] and not pack.supports("dog")
    man = pack.classes["man"]
    assert (man.images, man.cost, len(man.templates)) == (28, 331.0, 28)
    assert len(man.samples) == 10 and man.samples[0].endswith("ztcxkfplkueodbdkbq8qkj965vrx")
    assert pack.classes["woman"].images == 35


def test_a_pack_list_as_astrias_docs_show_it():
    (listing,) = parse_listings(recorded("docs_packs_list_response.json"))
    assert (listing.id, listing.slug, listing.title) == (5, "test-rv5-1-pack", "test rv5.1 pack")


def test_a_malformed_pack_is_skipped_not_the_list():
    body = [
        {"id": 1, "slug": "ok", "title": "Fine"},
        {"id": True, "slug": "bool-id", "title": "x"},  # a bool is not an id
        {"id": 2**70, "slug": "huge", "title": "x"},  # past what the store keeps
        {"id": 3, "slug": "", "title": "no slug"},
        "not an object",
        None,
    ]
    assert [p.slug for p in parse_listings(body)] == ["ok"]
    with pytest.raises(ValueError):
        parse_listings({"packs": body})  # not a list at all


def test_a_class_a_pack_makes_nothing_for_is_not_offered():
    pack = parse_pack(
        {
            "id": 9,
            "slug": "odd",
            "title": "Odd",
            "cover_url": "javascript:alert(1)",  # not a picture address: no cover
            "costs": {
                "man": {"cost": 10, "num_images": 0},
                "woman": {"cost": "free", "num_images": 4},
                "dog": "cheap",
                "": {"num_images": 2},
            },
            "prompts_per_class": {"woman": [{"id": 7, "images": ["ftp://x", 5]}, "junk"]},
        }
    )
    assert pack.cover is None and list(pack.classes) == ["woman"]
    woman = pack.classes["woman"]
    assert (woman.images, woman.cost, woman.samples, woman.templates) == (4, None, (), (7,))


def test_the_sandbox_serves_packs_with_covers_and_samples(live):
    astria = live.rt.services.training.astria
    listed = astria.gallery_packs()
    assert len(listed) >= 3 and astria.own_packs() == []
    http = requests.Session()
    for listing in listed:
        pack = astria.get_pack(listing.id)
        assert pack.title == listing.title and pack.supports("man") and pack.supports("woman")
        for url in (pack.cover, *pack.classes["woman"].samples[:2]):
            assert live.rt.images.origin_of(url) is not None  # the app would show it
            picture = http.get(url, timeout=10)  # public, as Astria's S3 is
            assert picture.status_code == 200 and picture.content[:2] == b"\xff\xd8"
        for name, made in pack.classes.items():
            assert made.images == len(made.templates) >= 12, name  # one image per template
            assert len(made.samples) == MAX_SAMPLES, name  # the first ones are kept
    assert astria.get_pack(1520).supports("boy")  # a pack may offer classes others do not


def test_an_unknown_pack_is_refused_and_an_unreadable_one_is_unavailable(live):
    astria = live.rt.services.training.astria
    with pytest.raises(AstriaRejected):
        astria.get_pack(999_999)
    live.sandbox_fault(kind="http", method="GET", path=r"/p/260", status=200, body={"id": "x"})
    with pytest.raises(AstriaUnavailable, match="cannot be read"):
        astria.get_pack(260)


def test_a_pack_runs_answer_in_each_shape_astria_gives():
    assert parse_run(recorded("docs_pack_tunes_create_response.json")) == ()  # a tune: it trains
    assert parse_run({"status": 201, "prompt_ids": [7, 8, True, "9"]}) == (7, 8)
    assert parse_run({"status": 201, "message": "Prompts created"}) == ()  # ids: list them
    with pytest.raises(ValueError):
        parse_run(["not", "an", "object"])


def test_the_sandbox_runs_a_pack_on_a_trained_model_once_per_title(live, telegram):
    model = trained_model(live, telegram, 7001, class_name="woman")
    astria = live.rt.services.training.astria
    callback = live.rt.services.generations.callback_url("prompt", 1)  # (no such generation)
    ids = astria.run_pack(260, title="order-1", tune_ids=[model.tune_id], callback=callback)
    assert len(ids) == astria.get_pack(260).classes["woman"].images  # one prompt a template
    again = astria.run_pack(260, title="order-1", tune_ids=[model.tune_id], callback=callback)
    assert again == ids and len(sandbox_prompts(live)) == len(ids)  # the same run, no second
    some = astria.run_pack(
        260, title="order-2", tune_ids=[model.tune_id], callback=callback,
        prompt_ids=astria.get_pack(260).classes["woman"].templates[:2],
    )  # fmt: skip
    assert len(some) == 2
    prompt = astria.prompt(ids[0])  # (on Flux's base tune, as Astria runs a LoRA's pack)
    assert prompt.id == ids[0] and f"<lora:{model.tune_id}:1>" in prompt.text
    assert ids[0] in astria.tune_prompts(live.rt.settings.astria_base_tune_id)
    with pytest.raises(AstriaRejected):  # a tune that is not there
        astria.run_pack(1520, title="order-3", tune_ids=[999_999_999], callback=callback)
