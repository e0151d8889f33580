"""Texts: every language says everything, in the chat and in the Mini App, and numbers agree
with their words."""

from __future__ import annotations

import string

import pytest

from bot.flows.train import PHOTO_REASONS
from webapp.records import Failure
from webapp.routes.serialize import PHOTO_ERRORS
from webapp.services.inspection import PROBLEMS
from webapp.services.photos import Refusal
from webapp.services.training import MODEL_TYPES
from webapp.texts import EN, LANGUAGES, Texts, language_of

PLURAL_CATEGORIES = {"zero", "one", "two", "few", "many", "other"}  # Unicode's (CLDR)
TRANSLATIONS = sorted(set(LANGUAGES) - {"en"})  # each is compared with English, the reference


def fields(template: str) -> set[str]:
    return {name for _, name, _, _ in string.Formatter().parse(template) if name}


@pytest.mark.parametrize("lang", TRANSLATIONS)
def test_every_language_has_every_text_with_the_same_fields(lang):
    texts = LANGUAGES[lang].TEXTS
    assert set(texts) == set(EN), set(texts) ^ set(EN)  # a key missing, or one too many
    for key in EN:
        assert fields(texts[key]) == fields(EN[key]), key
    assert set(LANGUAGES[lang].WORDS) == set(LANGUAGES["en"].WORDS)


def app_fields(value) -> set[str]:
    """The fields a Mini App text takes (a plural's forms together)."""
    if isinstance(value, str):
        return fields(value)
    return set().union(*(fields(form) for form in value.values()))


def is_plural(value) -> bool:
    return isinstance(value, dict) and "other" in value and set(value) <= PLURAL_CATEGORIES


def compare_app_texts(theirs: dict, ours: dict, where: str = "") -> None:
    assert set(theirs) == set(ours), (where, set(theirs) ^ set(ours))
    for key, english in ours.items():
        at, text = f"{where}{key}", theirs[key]
        if isinstance(english, list):
            assert isinstance(text, list) and len(text) == len(english), at
        elif isinstance(english, dict) and not is_plural(english):
            compare_app_texts(text, english, f"{at}.")
        else:  # a text, or a plural: same fields (a language may or may not need plural forms)
            assert isinstance(text, str) or is_plural(text), at
            assert app_fields(text) == app_fields(english), at


@pytest.mark.parametrize("lang", TRANSLATIONS)
def test_the_mini_app_says_everything_in_every_language(lang):
    compare_app_texts(LANGUAGES[lang].APP, LANGUAGES["en"].APP)


@pytest.mark.parametrize("lang", sorted(LANGUAGES))
def test_a_plural_rule_picks_a_form_the_language_has(lang):
    language = LANGUAGES[lang]
    for word, forms in language.WORDS.items():
        for n in range(1001):
            assert 0 <= language.plural(n) < len(forms), (word, n)


def test_every_way_a_photo_is_refused_is_said_on_both_edges():
    assert set(PHOTO_ERRORS) == set(Refusal)  # the API (and, by reason, the Mini App)
    assert set(PHOTO_REASONS) == set(Refusal) - {Refusal.PHOTO_COUNT}  # the chat counts itself
    for lang, language in LANGUAGES.items():
        assert set(Refusal) <= set(language.APP["reasons"]), lang


def test_the_comparison_with_english_finds_a_missing_text_or_field():
    """The checks above can fail: a translation without a key, or with a field renamed."""
    en = LANGUAGES["en"]
    key = next(k for k in EN if fields(EN[k]))
    with pytest.raises(AssertionError):
        compare_app_texts({**en.APP, "extra": "x"}, en.APP)
    field = sorted(fields(EN[key]))[0]
    broken = EN[key].replace("{" + field, "{renamed_" + field)
    assert fields(broken) != fields(EN[key])


def test_every_photo_problem_model_type_and_refusal_is_said_in_every_language():
    kinds = (*MODEL_TYPES, "pti", "checkpoint")  # what a user picks, and the other defaults
    reasons = {"unknown_style", "model_type_unknown", "class_unknown", "name_empty",
               "name_too_long", "prompt_empty", "prompt_too_long"}  # fmt: skip
    for lang, language in LANGUAGES.items():
        texts, app = language.TEXTS, language.APP
        for problem in PROBLEMS:
            assert texts[f"problem_{problem}"] and app["problems"][problem], (lang, problem)
        for kind in kinds:
            assert texts[f"type_{kind}"] and texts[f"type_{kind}_about"], (lang, kind)
            assert app["typeNames"][kind] and app["typeAbout"][kind], (lang, kind)
        assert reasons <= set(app["reasons"]), (lang, reasons - set(app["reasons"]))


def test_every_stored_failure_has_words_of_its_own():
    for failure in Failure:
        assert f"reason_{failure}" in EN
        assert Texts("en").failure(failure) == EN[f"reason_{failure}"]
    assert (
        Texts("ru").failure(Failure.astria("bad photos"))
        == "сервис ИИ отклонил запрос (bad photos)."
    )
    assert Texts("en").failure("astria: x", sentence=True) == "The AI service refused it (x)."


@pytest.mark.parametrize(
    ("code", "lang"),
    [
        ("ru", "ru"),
        ("ru-RU", "ru"),
        ("RU", "ru"),
        ("en-US", "en"),
        ("zz", "en"),  # a language we will never speak
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
