"""/photoshoot: the photoshoots on offer (a cover each) → one's sample pictures as an album →
which model (only those of a class it is made for) → a confirm button naming the price → one
order. The confirm message becomes the order's progress message, edited by the order alone
(from its jobs and callbacks, so no edit of the chat's can land after one of theirs); the
pictures come as they are made, then a summary (webapp.services.shoots)."""

from __future__ import annotations

import logging

from telebot import TeleBot
from telebot.apihelper import ApiTelegramException
from telebot.types import (
    CallbackQuery,
    InlineKeyboardButton,
    InlineKeyboardMarkup,
    InputMediaPhoto,
    LinkPreviewOptions,
    Message,
)

from bot.outbox import optional
from bot.replies import chat_id, gone, send, short_of_credits
from webapp.records import (
    MAX_ID,
    MAX_ROW_ID,
    InvalidInput,
    Model,
    ModelNotReady,
    ModelStatus,
    NotEnoughCredits,
    NotFound,
    User,
    bounded_id,
)
from webapp.services import Services
from webapp.services.photoshoots import Offer, pack_topic
from webapp.texts import Texts

log = logging.getLogger("telegram")

MAX_LISTED = 10  # photoshoots shown by /photoshoot


def pick_button(t: Texts, offer: Offer) -> InlineKeyboardMarkup:
    title = offer.photoshoot.title(t.lang)
    return InlineKeyboardMarkup().add(
        InlineKeyboardButton(
            t("btn_photoshoot_pick", title=title), callback_data=f"psh:{offer.photoshoot.pack}"
        )  # fmt: skip
    )


def register(bot: TeleBot, services: Services) -> None:
    """Attach the handlers."""
    shoots = services.shoots
    packs = services.payments.packs

    def card(t: Texts, offer: Offer, classes: set[str]) -> str:
        """A photoshoot's title, description, pictures (for the user's class) and price."""
        made = [c for n, c in offer.classes.items() if n in classes] or list(offer.classes.values())
        return t(
            "photoshoot_card",
            title=offer.photoshoot.title(t.lang),
            description=offer.photoshoot.description(t.lang),
            images=t.images(made[0].images),
            price=t.credits(offer.photoshoot.price),
        )

    def listing(update: Message | CallbackQuery, user: User, t: Texts) -> None:
        offers = services.likes.most_liked(shoots.photoshoots.offers(), pack_topic, t.lang)
        offers = offers[:MAX_LISTED]
        if not offers:
            send(bot, update, t("photoshoot_none"))
            return
        mine = {m.class_name for m in services.training.models_of(user.telegram_id)}
        send(bot, update, t("photoshoot_list"))
        for offer in offers:  # the cover as the card's large preview, above its words: a
            # cover Telegram cannot fetch leaves the words and the button (a photo would fail)
            cover = offer.cover and LinkPreviewOptions(
                url=offer.cover, prefer_large_media=True, show_above_text=True
            )
            send(bot, update, card(t, offer, mine), reply_markup=pick_button(t, offer),
                 link_preview_options=cover or LinkPreviewOptions(is_disabled=True))  # fmt: skip

    @bot.message_handler(commands=["photoshoot"])
    def photoshoot(message: Message, user: User, t: Texts) -> None:
        listing(message, user, t)

    @bot.callback_query_handler(func=lambda call: call.data == "psl")
    def photoshoots(call: CallbackQuery, user: User, t: Texts) -> None:
        bot.answer_callback_query(call.id)
        listing(call, user, t)

    def chosen(call: CallbackQuery, t: Texts, raw: str) -> Offer | None:
        try:
            return shoots.offer(bounded_id(raw, MAX_ID))
        except NotFound:
            send(bot, call, t("photoshoot_gone"))
            return None

    @bot.callback_query_handler(func=lambda call: call.data.startswith("psh:"))
    def picked(call: CallbackQuery, user: User, t: Texts) -> None:
        """The sample pictures for the user's class, then the model to use."""
        bot.answer_callback_query(call.id)
        offer = chosen(call, t, call.data[4:])
        if offer is None:
            return
        ready = shoots.models_for(user.telegram_id, offer)
        name = ready[0].class_name if ready else next(iter(offer.classes))
        samples = list(offer.classes[name].samples[:10])
        title = offer.photoshoot.title(t.lang)
        try:
            if len(samples) > 1:
                with optional():  # Telegram may fail to fetch them: the words will do
                    bot.send_media_group(chat_id(call), [InputMediaPhoto(s) for s in samples])
        except ApiTelegramException as exc:  # (refused at once, when it was not queued)
            if exc.error_code != 400:
                raise
            log.info("photoshoot %s samples refused: %s", offer.photoshoot.pack, exc.description)
        made = offer.classes[name]
        price = t.credits(offer.photoshoot.price)
        send(bot, call, t("photoshoot_samples", title=title, images=t.images(made.images),
                          price=price))  # fmt: skip
        if not ready:
            total = t.credits(services.accounts.prices.train + offer.photoshoot.price)
            button = InlineKeyboardButton(t("btn_photoshoot_train", price=total),
                                          callback_data=f"pst:{offer.photoshoot.pack}")  # fmt: skip
            send(bot, call, t("photoshoot_no_model"),
                 reply_markup=InlineKeyboardMarkup().add(button))  # fmt: skip
        elif len(ready) == 1:
            confirm(call, user, t, offer, ready[0])
        else:
            markup = InlineKeyboardMarkup(row_width=1).add(*(
                InlineKeyboardButton(("" if m.status == ModelStatus.READY else "⏳ ") + m.name,
                                     callback_data=f"psm:{offer.photoshoot.pack}:{m.id}")
                for m in ready
            ))  # fmt: skip
            send(bot, call, t("photoshoot_choose_model", title=title), reply_markup=markup)

    def confirm(call: CallbackQuery, user: User, t: Texts, offer: Offer, model: Model) -> None:
        price = offer.photoshoot.price
        if user.credits < price:
            short_of_credits(bot, call, t, "photoshoot_no_credits", price, user.credits, packs)
            return
        made = offer.classes[model.class_name]
        text = t("photoshoot_confirm", title=offer.photoshoot.title(t.lang), name=model.name,
                 images=t.images(made.images), price=t.credits(price),
                 credits=t.credits(user.credits))  # fmt: skip
        if model.status != ModelStatus.READY:  # the run waits for the model
            text += "\n" + t("photoshoot_when_ready", name=model.name)
        button = InlineKeyboardButton(
            t("btn_photoshoot_start", price=t.credits(price)),
            callback_data=f"psc:{offer.photoshoot.pack}:{model.id}",
        )
        send(bot, call, text, reply_markup=InlineKeyboardMarkup().add(button))

    @bot.callback_query_handler(func=lambda call: call.data.startswith("psm:"))
    def model_picked(call: CallbackQuery, user: User, t: Texts) -> None:
        bot.answer_callback_query(call.id)
        pack, _, model_id = call.data[4:].partition(":")
        offer = chosen(call, t, pack)
        if offer is None:
            return
        wanted = bounded_id(model_id, MAX_ROW_ID)
        model = next((m for m in shoots.models_for(user.telegram_id, offer) if m.id == wanted),
                     None)  # fmt: skip
        if model is None:
            send(bot, call, t("model_not_ready"))
            return
        confirm(call, user, t, offer, model)

    @bot.callback_query_handler(func=lambda call: call.data.startswith("psc:"))
    def start(call: CallbackQuery, user: User, t: Texts) -> None:
        """The order: once per confirm message, however often its button is tapped."""
        bot.answer_callback_query(call.id)
        pack, _, model_id = call.data[4:].partition(":")
        message_id = call.message.message_id
        try:
            shoot, balance, created = shoots.start(
                user.telegram_id,
                photoshoot=bounded_id(pack, MAX_ID),
                model_id=bounded_id(model_id, MAX_ROW_ID),
                lang=t.lang,
                key=f"c{message_id}",
                message_id=None if gone(call) else message_id,
            )
        except NotFound as exc:
            key = "photoshoot_gone" if exc.params.get("what") == "photoshoot" else "model_not_found"
            send(bot, call, t(key))
            return
        except ModelNotReady:
            send(bot, call, t("model_not_ready"))
            return
        except InvalidInput:
            send(bot, call, t("photoshoot_class"))
            return
        except NotEnoughCredits as exc:
            short_of_credits(bot, call, t, "photoshoot_no_credits", packs=packs, **exc.params)
            return
        if not created:  # a second tap: its message shows the order's progress by now
            return
        model = services.generations.own_model(user.telegram_id, shoot.model_id)
        text = t("photoshoot_started", title=shoot.title, name=model.name,
                 images=t.images(shoot.num_images), price=t.credits(shoot.price),
                 credits=t.credits(balance))  # fmt: skip
        send(bot, call, text)  # the confirm message itself becomes the progress, by the order
