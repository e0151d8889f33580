"""Texts: both languages say everything, and numbers agree with their words."""

from __future__ import annotations

import string

import pytest

from webapp.texts import EN, LANGUAGES, Texts, language_of


@pytest.mark.parametrize("lang", sorted(LANGUAGES))
def test_every_language_has_every_text_with_the_same_fields(lang):
    texts = LANGUAGES[lang].TEXTS
    assert set(texts) == set(EN), set(texts) ^ set(EN)  # a key missing, or one too many
    for key in EN:
        fields = {f for _, f, _, _ in string.Formatter().parse(EN[key]) if f}
        assert {f for _, f, _, _ in string.Formatter().parse(texts[key]) if f} == fields, key
    assert set(LANGUAGES[lang].WORDS) == set(LANGUAGES["en"].WORDS)


@pytest.mark.parametrize(
    ("code", "lang"),
    [
        ("ru", "ru"),
        ("ru-RU", "ru"),
        ("RU", "ru"),
        ("en-US", "en"),
        ("de", "en"),
        (None, "en"),
        ("", "en"),
    ],
)
def test_language_from_telegram_code(code, lang):
    assert language_of(code) == lang


@pytest.mark.parametrize(
    ("n", "en", "ru"),
    [
        (0, "0 credits", "0 кредитов"),
        (1, "1 credit", "1 кредит"),
        (2, "2 credits", "2 кредита"),
        (5, "5 credits", "5 кредитов"),
        (11, "11 credits", "11 кредитов"),
        (21, "21 credits", "21 кредит"),
        (24, "24 credits", "24 кредита"),
        (112, "112 credits", "112 кредитов"),
    ],
)
def test_credit_plurals(n, en, ru):
    assert Texts("en").credits(n) == en
    assert Texts("ru").credits(n) == ru


def test_image_plurals():
    assert Texts("ru").images(4) == "4 изображения"
    assert Texts("ru").images(5) == "5 изображений"
    assert Texts("en").images(1) == "1 image"
