"""Texts: both languages say everything, and numbers agree with their words."""

from __future__ import annotations

import string

import pytest

from bot.texts import EN, RU, Texts, language_of


def test_russian_has_every_text_english_has_with_the_same_fields():
    assert set(RU) == set(EN)
    for key in EN:
        fields = {f for _, f, _, _ in string.Formatter().parse(EN[key]) if f}
        ru_fields = {f for _, f, _, _ in string.Formatter().parse(RU[key]) if f}
        assert fields == ru_fields, key


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
