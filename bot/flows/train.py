"""/train: 4 photos (photos, albums or image files) → a name → the class → charge and train."""

from __future__ import annotations

import logging

from telebot import TeleBot
from telebot.states.sync.context import StateContext
from telebot.types import CallbackQuery, Message

from bot import keyboards
from bot.leases import request_key
from bot.render import no_credits, problem_words
from bot.replies import gone, replace, send, short_of_credits
from bot.state_storage import flow_data
from bot.states import TrainStates
from webapp.records import (
    MAX_ID,
    DomainError,
    InvalidInput,
    NotEnoughCredits,
    NotFound,
    User,
    bounded_id,
)
from webapp.services import Services, photos as photo_checks
from webapp.services.photos import Refusal
from webapp.services.ports import FileSource
from webapp.services.training import NAME_MAX, clean_name
from webapp.texts import Texts

log = logging.getLogger("bot.train")

PHOTO_REASONS = {  # why the photos service refuses a picture → what the chat says
    Refusal.TOO_SMALL: "photo_too_small",
    Refusal.NOT_IMAGE: "photo_not_image",
    Refusal.TOO_BIG: "photo_too_big",
    Refusal.UNREADABLE: "photo_unreadable",
    Refusal.DUPLICATE: "photo_duplicate",
}
PHOTO_LIMITS = {  # what the refusals may name
    "min_side": photo_checks.MIN_SIDE,
    "limit_mb": photo_checks.MAX_BYTES // 2**20,
    "megapixels": f"{photo_checks.MAX_PIXELS / 1e6:g}",
}
PHOTOS_PER_MODEL = photo_checks.PHOTOS_PER_MODEL


def _incoming(message: Message) -> photo_checks.Incoming:
    """The picture in a message, as the photos service takes it."""
    if message.photo:  # Telegram lists the sizes smallest first
        largest, smallest = message.photo[-1], message.photo[0]
        return photo_checks.Incoming(
            largest.file_id,
            largest.file_unique_id,
            width=largest.width,
            height=largest.height,
            preview_id=smallest.file_id,
        )
    document = message.document
    return photo_checks.Incoming(
        document.file_id,
        document.file_unique_id,
        mime_type=document.mime_type,
        size=document.file_size,
    )


def register(bot: TeleBot, services: Services, files: FileSource) -> None:
    """Attach the handlers."""
    training = services.training
    types = training.model_types()  # the default first
    train_cost = min(training.price(kind) for kind in types)  # the least a model can cost
    packs = services.payments.packs

    def class_buttons(t: Texts, state: StateContext):
        """The classes to pick from: only a photoshoot's, when the model is made for one."""
        return keyboards.classes(t, flow_data(state).get("shoot_classes"))

    def type_buttons(t: Texts, chosen: str):
        return keyboards.model_types(t, types, training.price, chosen)

    def begin(update: Message | CallbackQuery, user: User, t: Texts, state: StateContext) -> None:
        if user.credits < train_cost:
            short_of_credits(bot, update, t, "train_no_credits", train_cost, user.credits, packs)
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
                credits=t.credits(user.credits),
                types="\n".join(t(f"type_{kind}_about") for kind in types),
            ),
            reply_markup=type_buttons(t, types[0]),
        )

    @bot.callback_query_handler(
        state=[TrainStates.photos, TrainStates.name, TrainStates.class_name],
        func=lambda call: call.data.startswith("typ:"),
    )
    def type_chosen(call: CallbackQuery, t: Texts, state: StateContext) -> None:
        """The kind of model, chosen (or changed) until the model is charged."""
        kind = call.data.removeprefix("typ:")
        if kind not in types or gone(call):  # its message cannot take new buttons
            bot.answer_callback_query(call.id, t("stale_button"))
            return
        bot.answer_callback_query(call.id)
        state.add_data(model_type=kind)
        bot.edit_message_reply_markup(
            call.message.chat.id, call.message.message_id, reply_markup=type_buttons(t, kind)
        )

    @bot.message_handler(commands=["train"])
    def train(message: Message, user: User, t: Texts, state: StateContext) -> None:
        begin(message, user, t, state)

    @bot.callback_query_handler(func=lambda call: call.data == "train")
    def train_button(call: CallbackQuery, user: User, t: Texts, state: StateContext) -> None:
        bot.answer_callback_query(call.id)
        begin(call, user, t, state)

    @bot.callback_query_handler(func=lambda call: call.data.startswith("pst:"))
    def train_for_photoshoot(call: CallbackQuery, user: User, t: Texts, state: StateContext):
        """No model for a photoshoot yet: /train, and the photoshoot ordered with the model
        (it runs once the model is ready), charged as both."""
        bot.answer_callback_query(call.id)
        try:
            offer = services.shoots.offer(bounded_id(call.data[4:], MAX_ID))
        except NotFound:
            send(bot, call, t("photoshoot_gone"))
            return
        need = train_cost + offer.photoshoot.price
        if user.credits < need:
            short_of_credits(bot, call, t, "photoshoot_no_credits", need, user.credits, packs)
            return
        begin(call, user, t, state)
        state.add_data(shoot=offer.photoshoot.pack, shoot_classes=list(offer.classes))

    def then_photoshoot(user: User, t: Texts, model, pack: int):
        """The photoshoot the training was started for, ordered on the new model: what to say
        of it, (text, keyboard)."""
        try:
            shoot, balance, _ = services.shoots.start(
                user.telegram_id, photoshoot=pack, model_id=model.id, lang=t.lang,
                key=f"m{model.id}",
            )  # fmt: skip
        except NotEnoughCredits as exc:
            return no_credits(t, "photoshoot_no_credits", **exc.params), keyboards.packs(t, packs)
        except DomainError:  # gone since, or not made for this model's class
            return t("photoshoot_not_for_model", name=model.name), None
        return t("photoshoot_after_training", title=shoot.title, name=model.name,
                 price=t.credits(shoot.price), credits=t.credits(balance)), None  # fmt: skip

    @bot.message_handler(state=TrainStates.photos, content_types=["photo", "document"])
    def photo(message: Message, user: User, t: Texts, state: StateContext) -> None:
        taken = [
            photo_checks.Taken(p["file_id"], p["unique"], p.get("print"))
            for p in flow_data(state).get("photos", [])
        ]
        try:
            picture = photo_checks.check_incoming(_incoming(message), files, taken)
        except InvalidInput as exc:
            params = {**PHOTO_LIMITS, **exc.params}
            reason = params.pop("reason")
            log.info("user=%s photo refused: %s", user.telegram_id, reason)
            send(bot, message, t(PHOTO_REASONS[reason], **params))
            return
        taken_now = {"file_id": picture.file_id, "unique": picture.unique_id}
        with state.data() as data:
            data.setdefault("photos", []).append({**taken_now, "print": picture.fingerprint})
            count = len(data["photos"])
        log.info("user=%s photo %s/%s", user.telegram_id, count, PHOTOS_PER_MODEL)
        services.checks.inspect_later(user, picture.file_id, count)
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
        if flow_data(state).get("name"):  # photos the check refused, replaced: on to the class
            state.set(TrainStates.class_name)
            send(bot, message, t("choose_class"), reply_markup=class_buttons(t, state))
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
        send(bot, message, t("choose_class"), reply_markup=class_buttons(t, state))

    @bot.message_handler(state=TrainStates.name, content_types=["photo", "document"])
    def extra_photo(message: Message, t: Texts) -> None:
        send(bot, message, t("photos_already", total=PHOTOS_PER_MODEL))

    @bot.message_handler(state=TrainStates.name)
    def name_not_text(message: Message, t: Texts) -> None:
        send(bot, message, t("name_not_text", limit=NAME_MAX))

    @bot.message_handler(state=TrainStates.class_name)
    def class_hint(message: Message, t: Texts, state: StateContext) -> None:
        """The buttons again, under this answer (the first ones may be far up, or lost)."""
        send(bot, message, t("choose_class_hint"), reply_markup=class_buttons(t, state))

    @bot.callback_query_handler(
        state=TrainStates.class_name, func=lambda call: call.data.startswith("cls:")
    )
    def class_chosen(call: CallbackQuery, user: User, t: Texts, state: StateContext) -> None:
        class_name = call.data.removeprefix("cls:")
        gathered = flow_data(state)
        photos = gathered.get("photos", [])
        file_ids = [p["file_id"] for p in photos]
        bad, traits = services.checks.chat_verdicts(user.telegram_id, class_name, file_ids)
        if bad:  # before any charge: the photos that would train badly are sent again
            refused = {n for n, _ in bad}
            services.checks.forget_verdicts(
                user.telegram_id, [file_ids[n] for n in sorted(refused)]
            )
            with state.data() as data:
                data["photos"] = [p for n, p in enumerate(photos) if n not in refused]
            state.set(TrainStates.photos)
            bot.answer_callback_query(call.id)
            lines = "\n".join(
                t("photo_problem_line", n=n + 1, problems=problem_words(t, why)) for n, why in bad
            )
            send(bot, call, t("photos_to_replace", lines=lines, photos=t.count(len(bad), "photo")))
            return
        try:
            model, balance = services.training.start(
                user.telegram_id,
                name=gathered.get("name", ""),
                class_name=class_name,
                photo_file_ids=file_ids,
                model_type=gathered.get("model_type"),
                characteristics=traits,
                key=request_key(),  # handled again after a crash: the same model, charged once
            )
        except NotEnoughCredits as exc:
            bot.answer_callback_query(call.id)
            short_of_credits(bot, call, t, "train_no_credits", packs=packs, **exc.params)
            return
        except InvalidInput:
            bot.answer_callback_query(call.id, t("stale_button"))
            return
        # the photoshoot the model is made for, ordered before the flow ends: handled again
        # after a crash, the update makes the same model and the same order
        after = (
            then_photoshoot(user, t, model, gathered["shoot"]) if gathered.get("shoot") else None
        )
        services.checks.forget_verdicts(user.telegram_id, file_ids)
        state.delete()
        bot.answer_callback_query(call.id)
        replace(
            bot,
            call,
            t("class_chosen", name=model.name, class_label=t(f"class_{class_name}").lower()),
        )
        send(
            bot,
            call,
            t(
                "train_queued_instant" if model.model_type == "faceid" else "train_queued",
                name=model.name,
                cost=t.credits(model.cost),
                credits=t.credits(balance),
            ),
        )
        if after is not None:
            text, markup = after
            send(bot, call, text, reply_markup=markup)
