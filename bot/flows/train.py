"""/train: 4 photos (photos, albums or image files) → a name → the class → charge and train."""

from __future__ import annotations

import logging

from telebot import TeleBot
from telebot.states.sync.context import StateContext
from telebot.types import CallbackQuery, Message

from bot import keyboards
from bot.context import flow_data, no_credits, send
from bot.states import TrainStates
from bot.texts import Texts
from webapp.records import InvalidInput, NotEnoughCredits, User
from webapp.services import Services
from webapp.services import photos as photo_checks
from webapp.services.ports import FileSource
from webapp.services.training import NAME_MAX, PHOTOS_PER_MODEL, clean_name

log = logging.getLogger("bot.train")

PHOTO_REASONS = {
    "too_small": "photo_too_small",
    "not_image": "photo_not_image",
    "too_big": "photo_too_big",
    "unreadable": "photo_unreadable",
}


def _photo_of(message: Message, files: FileSource) -> tuple[str, str]:
    """(file_id, file_unique_id) of a usable photo in the message, or InvalidInput."""
    if message.photo:
        largest = message.photo[-1]  # Telegram lists the sizes smallest first
        photo_checks.check_size(largest.width, largest.height)
        return largest.file_id, largest.file_unique_id
    document = message.document
    if document.mime_type not in photo_checks.MIME_TYPES:
        raise InvalidInput(reason="not_image")
    if document.file_size and document.file_size > photo_checks.MAX_BYTES:
        raise InvalidInput(reason="too_big", limit_mb=photo_checks.MAX_BYTES // (1024 * 1024))
    # An image sent as a file carries no dimensions: fetch it once to look (kept only in memory).
    photo = files.download(document.file_id)
    width, height, _ = photo_checks.inspect(photo.content)
    photo_checks.check_size(width, height)
    return document.file_id, document.file_unique_id


def register(bot: TeleBot, services: Services, files: FileSource) -> None:
    """Attach the handlers."""
    train_cost = services.settings.train_cost

    def begin(update: Message | CallbackQuery, user: User, t: Texts, state: StateContext) -> None:
        if user.credits < train_cost:
            send(bot, update, no_credits(t, "train_no_credits", train_cost, user.credits))
            return
        state.delete()
        state.set(TrainStates.photos)
        state.add_data(photos=[])
        send(
            bot,
            update,
            t(
                "train_intro",
                min_side=photo_checks.MIN_SIDE,
                cost=t.credits(train_cost),
                credits=t.credits(user.credits),
            ),
        )

    @bot.message_handler(commands=["train"])
    def train(message: Message, user: User, t: Texts, state: StateContext) -> None:
        begin(message, user, t, state)

    @bot.callback_query_handler(func=lambda call: call.data == "train")
    def train_button(call: CallbackQuery, user: User, t: Texts, state: StateContext) -> None:
        bot.answer_callback_query(call.id)
        begin(call, user, t, state)

    @bot.message_handler(state=TrainStates.photos, content_types=["photo", "document"])
    def photo(message: Message, user: User, t: Texts, state: StateContext) -> None:
        try:
            file_id, unique_id = _photo_of(message, files)
        except InvalidInput as exc:
            params = {"min_side": photo_checks.MIN_SIDE, **exc.params}
            reason = params.pop("reason")
            log.info("user=%s photo refused: %s", user.telegram_id, reason)
            send(bot, message, t(PHOTO_REASONS[reason], **params))
            return
        with state.data() as data:
            photos = data.setdefault("photos", [])
            if any(p["unique"] == unique_id for p in photos):
                send(bot, message, t("photo_duplicate"))
                return
            photos.append({"file_id": file_id, "unique": unique_id})
            count = len(photos)
        log.info("user=%s photo %s/%s", user.telegram_id, count, PHOTOS_PER_MODEL)
        if count < PHOTOS_PER_MODEL:
            send(
                bot,
                message,
                t(
                    "photo_received",
                    count=count,
                    total=PHOTOS_PER_MODEL,
                    left=PHOTOS_PER_MODEL - count,
                ),
            )
            return
        state.set(TrainStates.name)
        send(bot, message, t("photos_complete", total=PHOTOS_PER_MODEL, limit=NAME_MAX))

    @bot.message_handler(state=TrainStates.photos, content_types=["text"])
    def waiting_for_photos(message: Message, t: Texts, state: StateContext) -> None:
        left = PHOTOS_PER_MODEL - len(flow_data(state).get("photos", []))
        send(bot, message, t("photo_waiting", left=left))

    @bot.message_handler(state=TrainStates.name, content_types=["text"])
    def name(message: Message, user: User, t: Texts, state: StateContext) -> None:
        try:
            chosen = clean_name(message.text)
        except InvalidInput as exc:
            send(bot, message, t(exc.params["reason"], limit=NAME_MAX))
            return
        state.add_data(name=chosen)
        state.set(TrainStates.class_name)
        log.info("user=%s model name set", user.telegram_id)
        send(bot, message, t("choose_class"), reply_markup=keyboards.classes(t))

    @bot.message_handler(state=TrainStates.name, content_types=["photo", "document"])
    def extra_photo(message: Message, t: Texts) -> None:
        send(bot, message, t("photos_already", total=PHOTOS_PER_MODEL))

    @bot.message_handler(state=TrainStates.name)
    def name_not_text(message: Message, t: Texts) -> None:
        send(bot, message, t("name_not_text", limit=NAME_MAX))

    @bot.message_handler(state=TrainStates.class_name)
    def class_hint(message: Message, t: Texts) -> None:
        send(bot, message, t("choose_class_hint"))

    @bot.callback_query_handler(
        state=TrainStates.class_name, func=lambda call: call.data.startswith("cls:")
    )
    def class_chosen(call: CallbackQuery, user: User, t: Texts, state: StateContext) -> None:
        class_name = call.data.removeprefix("cls:")
        gathered = flow_data(state)
        try:
            model, balance = services.training.start(
                user.telegram_id,
                name=gathered.get("name", ""),
                class_name=class_name,
                photo_file_ids=[p["file_id"] for p in gathered.get("photos", [])],
            )
        except NotEnoughCredits as exc:
            bot.answer_callback_query(call.id)
            send(bot, call, no_credits(t, "train_no_credits", **exc.params))
            return
        except InvalidInput:
            bot.answer_callback_query(call.id, t("stale_button"))
            return
        state.delete()
        bot.answer_callback_query(call.id)
        bot.edit_message_text(
            t("class_chosen", name=model.name, class_label=t(f"class_{class_name}").lower()),
            call.message.chat.id,
            call.message.message_id,
        )
        send(
            bot,
            call,
            t(
                "train_queued",
                name=model.name,
                cost=t.credits(train_cost),
                credits=t.credits(balance),
            ),
        )
