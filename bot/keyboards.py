"""Inline keyboards the flows show."""

from __future__ import annotations

from telebot.types import InlineKeyboardButton, InlineKeyboardMarkup, WebAppInfo

from webapp.records import Generation, Model, Pack
from webapp.services.styles import Style
from webapp.services.training import CLASSES
from webapp.texts import Texts


def classes(t: Texts, only=None) -> InlineKeyboardMarkup:
    """Who is in the photos: man / woman / person / …, two to a row (`only` those, for a
    model made for a photoshoot)."""
    markup = InlineKeyboardMarkup(row_width=2)
    shown = [c for c in CLASSES if not only or c in only]
    markup.add(*(InlineKeyboardButton(t(f"class_{c}"), callback_data=f"cls:{c}") for c in shown))
    return markup


def models(t: Texts, ready: list[Model]) -> InlineKeyboardMarkup:
    """One button per ready model, and the photoshoots."""
    markup = InlineKeyboardMarkup(row_width=1)
    markup.add(*(InlineKeyboardButton(m.name, callback_data=f"gen:{m.id}") for m in ready))
    markup.add(photoshoots_button(t))
    return markup


def photoshoots_button(t: Texts) -> InlineKeyboardButton:
    """📸 Photoshoots: the list /photoshoot shows."""
    return InlineKeyboardButton(t("btn_photoshoots"), callback_data="psl")


def start_menu(t: Texts, app_url: str | None) -> InlineKeyboardMarkup:
    """Under /start: the photoshoots, and (on https) the Mini App."""
    markup = InlineKeyboardMarkup(row_width=1).add(photoshoots_button(t))
    if app_url:
        markup.add(InlineKeyboardButton(t("btn_open_app"), web_app=WebAppInfo(app_url)))
    return markup


def generate_with(
    t: Texts, model: Model, again: bool = False, app_url: str | None = None
) -> InlineKeyboardMarkup:
    """A "Generate" button for a model, and (on https) one opening it in the Mini App."""
    label = t("btn_generate_again") if again else t("btn_generate", name=model.name)
    markup = InlineKeyboardMarkup(row_width=1)
    markup.add(InlineKeyboardButton(label, callback_data=f"gen:{model.id}"))
    if app_url:  # the Mini App opens right at this model's gallery
        url = f"{app_url}?screen=model&id={model.id}"
        markup.add(InlineKeyboardButton(t("btn_open_model"), web_app=WebAppInfo(url)))
    if not again:
        markup.add(photoshoots_button(t))
    return markup


def models_overview(
    t: Texts, ready: list[Model], app_url: str | None = None
) -> InlineKeyboardMarkup:
    """/models: generate with each ready model, train a new one, or open the Mini App."""
    markup = InlineKeyboardMarkup(row_width=1)
    markup.add(
        *(
            InlineKeyboardButton(t("btn_generate", name=m.name), callback_data=f"gen:{m.id}")
            for m in ready
        )
    )
    markup.add(InlineKeyboardButton(t("btn_train"), callback_data="train"))
    if app_url:
        markup.add(InlineKeyboardButton(t("btn_open_app"), web_app=WebAppInfo(app_url)))
    return markup


def open_app(t: Texts, app_url: str | None) -> InlineKeyboardMarkup | None:
    """An "Open app" button for the Mini App (Telegram accepts only https web-app URLs)."""
    if not app_url:
        return None
    return InlineKeyboardMarkup().add(
        InlineKeyboardButton(t("btn_open_app"), web_app=WebAppInfo(app_url))
    )


def packs(t: Texts, on_sale: tuple[Pack, ...]) -> InlineKeyboardMarkup | None:
    """A button per pack of credits for sale (none when nothing is sold)."""
    if not on_sale:
        return None
    markup = InlineKeyboardMarkup(row_width=1)
    markup.add(
        *(
            InlineKeyboardButton(
                t("btn_pack", credits=t.credits(p.credits), stars=p.stars),
                callback_data=f"buy:{p.credits}",
            )
            for p in on_sale
        )
    )
    return markup


STYLES_PER_PAGE = 6


def styles(
    t: Texts, catalogue: tuple[Style, ...], model: Model, page: int, base_price: int
) -> InlineKeyboardMarkup:
    """A page of the style catalogue for a model, two to a row (a price shown when it is not
    the usual one), the pages' arrows, and "describe my own"."""
    pages = max(1, -(-len(catalogue) // STYLES_PER_PAGE))
    page = min(max(page, 0), pages - 1)
    shown = catalogue[page * STYLES_PER_PAGE : (page + 1) * STYLES_PER_PAGE]
    markup = InlineKeyboardMarkup(row_width=2)
    markup.add(
        *(
            InlineKeyboardButton(
                s.name(t.lang) if s.price == base_price else f"{s.name(t.lang)} · {s.price}",
                callback_data=f"sty:{model.id}:{s.id}",
            )
            for s in shown
        )
    )
    arrows = []
    if page > 0:
        arrows.append(InlineKeyboardButton("‹", callback_data=f"stp:{model.id}:{page - 1}"))
    if page < pages - 1:
        arrows.append(InlineKeyboardButton("›", callback_data=f"stp:{model.id}:{page + 1}"))
    if arrows:
        markup.row(*arrows)
    markup.row(InlineKeyboardButton(t("btn_own_prompt"), callback_data=f"own:{model.id}"))
    return markup


def after_album(
    t: Texts,
    model: Model,
    generation: Generation,
    price: int,
    hd_cost: int,
    app_url: str | None = None,
) -> InlineKeyboardMarkup:
    """Under a delivered album: more of the same (at `price`, today's price of the same again),
    another style, the same in HD (for `hd_cost` more), the app."""
    markup = InlineKeyboardMarkup()
    if generation.images:  # 👍 per picture, by its place in the album
        markup.row(*likes(generation))
    markup.row(
        InlineKeyboardButton(
            t("btn_more", cost=t.credits(price)), callback_data=f"more:{generation.id}"
        ),
        InlineKeyboardButton(t("btn_another_style"), callback_data=f"sts:{model.id}"),
    )
    if not generation.hd:
        label = t("btn_more_hd", cost=t.credits(price + hd_cost))
        markup.row(InlineKeyboardButton(label, callback_data=f"mhd:{generation.id}"))
    if app_url:
        url = f"{app_url}?screen=model&id={model.id}"
        markup.row(InlineKeyboardButton(t("btn_open_model"), web_app=WebAppInfo(url)))
    return markup


def likes(generation: Generation) -> list[InlineKeyboardButton]:
    """👍 for each picture of a generation (👍 alone for a single one)."""
    count = len(generation.images)
    return [
        InlineKeyboardButton(
            "👍" if count == 1 else f"👍 {n + 1}", callback_data=f"lk:{generation.id}:{n}"
        )  # fmt: skip
        for n in range(min(count, 8))
    ]


def model_types(
    t: Texts, kinds: tuple[str, ...], price, chosen: str
) -> InlineKeyboardMarkup | None:
    """The kinds of model, one a row with its price; the chosen one ticked (none when there is
    nothing to choose)."""
    if len(kinds) < 2:
        return None
    markup = InlineKeyboardMarkup(row_width=1)
    markup.add(
        *(
            InlineKeyboardButton(
                ("✓ " if kind == chosen else "") + t(f"type_{kind}", cost=t.credits(price(kind))),
                callback_data=f"typ:{kind}",
            )
            for kind in kinds
        )
    )
    return markup


def one_button(text: str, data: str) -> InlineKeyboardMarkup:
    """A keyboard of one button (a confirmation, a plan's cancel or resume)."""
    return InlineKeyboardMarkup().add(InlineKeyboardButton(text, callback_data=data))
