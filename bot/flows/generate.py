"""/generate: choose a ready model → pick a style (one tap) or describe the picture → charge and
generate. Under each album: more of the same, another style, the same in HD."""

from __future__ import annotations

from telebot import TeleBot
from telebot.states.sync.context import StateContext
from telebot.types import CallbackQuery, Message

from bot import keyboards
from bot.leases import request_key
from bot.render import eta_text
from bot.replies import gone, send, short_of_credits
from bot.state_storage import flow_data
from bot.states import GenerateStates
from webapp.records import (
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
from webapp.services.generation import PROMPT_MAX
from webapp.texts import Texts


def register(bot: TeleBot, services: Services) -> None:
    """Attach the handlers."""
    generations = services.generations
    cost = services.accounts.prices.generate
    packs = services.payments.packs
    images = services.settings.images_per_prompt

    def liked_first(t: Texts):
        """The styles, most-liked first among users of the user's language."""
        return services.likes.most_liked(generations.styles.all, lambda s: s.id, t.lang)

    @bot.message_handler(commands=["generate"])
    def generate(message: Message, user: User, t: Texts, state: StateContext) -> None:
        state.delete()
        mine = services.training.models_of(user.telegram_id)
        ready = [m for m in mine if m.status == ModelStatus.READY]
        if not ready:
            training = [m for m in mine if m.status == ModelStatus.TRAINING]
            if training:
                send(bot, message, t("models_training", eta=eta_text(t, training[0])))
            else:
                send(bot, message, t("no_models"))
            return
        if user.credits < cost:
            short_of_credits(bot, message, t, "generate_no_credits", cost, user.credits, packs)
            return
        send(bot, message, t("choose_model"), reply_markup=keyboards.models(t, ready))

    def ready_model(call: CallbackQuery, user: User, t: Texts, model_id) -> Model | None:
        """The user's ready model named by a button, or None having said why not."""
        try:
            model = generations.own_model(user.telegram_id, bounded_id(model_id, MAX_ROW_ID) or 0)
        except NotFound:
            send(bot, call, t("model_not_found"))
            return None
        if model.status != ModelStatus.READY:
            send(bot, call, t("model_not_ready"))
            return None
        return model

    def training_open(state: StateContext) -> bool:
        """A /train flow is under way: a button under an old message must not end it."""
        return str(state.get() or "").startswith("TrainStates:")

    def offer_styles(call: CallbackQuery, user: User, t: Texts, state: StateContext, model):
        """The catalogue for a model; typing a description works as well from here (but not
        while a /train flow is open: its photos and name are kept, the style buttons work)."""
        if user.credits < cost:
            short_of_credits(bot, call, t, "generate_no_credits", cost, user.credits, packs)
            return
        if not training_open(state):
            state.delete()
            state.set(GenerateStates.prompt)
            state.add_data(model_id=model.id)
        send(
            bot,
            call,
            t("choose_style", name=model.name, cost=t.credits(cost)),
            reply_markup=keyboards.styles(t, liked_first(t), model, 0, cost),
        )

    @bot.callback_query_handler(func=lambda call: call.data.startswith(("gen:", "sts:")))
    def model_chosen(call: CallbackQuery, user: User, t: Texts, state: StateContext) -> None:
        bot.answer_callback_query(call.id)
        model = ready_model(call, user, t, call.data[4:])
        if model is not None:
            offer_styles(call, user, t, state, model)

    @bot.callback_query_handler(func=lambda call: call.data.startswith("stp:"))
    def style_page(call: CallbackQuery, user: User, t: Texts) -> None:
        bot.answer_callback_query(call.id)
        model_id, _, page = call.data[4:].partition(":")
        model = ready_model(call, user, t, model_id)
        if model is None or not (page.isascii() and page.isdigit()) or len(page) > 3:
            return
        markup = keyboards.styles(t, liked_first(t), model, int(page), cost)
        if gone(call):  # its message cannot take new buttons: the page comes as a new one
            send(
                bot,
                call,
                t("choose_style", name=model.name, cost=t.credits(cost)),
                reply_markup=markup,
            )
            return
        bot.edit_message_reply_markup(
            call.message.chat.id, call.message.message_id, reply_markup=markup
        )

    @bot.callback_query_handler(func=lambda call: call.data.startswith("own:"))
    def own_prompt(call: CallbackQuery, user: User, t: Texts, state: StateContext) -> None:
        bot.answer_callback_query(call.id)
        model = ready_model(call, user, t, call.data[4:])
        if model is None:
            return
        if training_open(state):
            send(bot, call, t("finish_train_first"))
            return
        state.delete()
        state.set(GenerateStates.prompt)
        state.add_data(model_id=model.id)
        send(bot, call, t("ask_prompt", name=model.name))

    def end_prompt(state: StateContext) -> None:
        """Leave the "describe the picture" step, and only it: a button under an old album
        must not end a /train flow in progress."""
        if state.get() == GenerateStates.prompt.name:
            state.delete()

    def started(update, user: User, t: Texts, state: StateContext, begin, model_id=None) -> None:
        """Charge and start a generation (`begin` calls the service); say how it went."""
        try:
            generation, model, balance = begin()
        except InvalidInput as exc:
            reason = exc.params.get("reason")
            if reason == "unknown_style":
                style_gone(update, user, t, exc.params.get("model_id", model_id))
            else:
                send(bot, update, t(reason, limit=PROMPT_MAX))
            return
        except NotEnoughCredits as exc:
            short_of_credits(bot, update, t, "generate_no_credits", packs=packs, **exc.params)
            return
        except (NotFound, ModelNotReady):
            end_prompt(state)
            send(bot, update, t("model_not_ready"))
            return
        end_prompt(state)
        send(
            bot,
            update,
            t(
                "generation_queued",
                images=t.images(images),
                name=model.name,
                cost=t.credits(generation.cost),
                credits=t.credits(balance),
            ),
        )

    def style_gone(update, user: User, t: Texts, model_id) -> None:
        """A style taken out of the catalogue: say so, with today's styles for the model."""
        try:
            model = generations.own_model(user.telegram_id, bounded_id(model_id, MAX_ROW_ID) or 0)
        except NotFound:
            model = None
        if model is None or model.status != ModelStatus.READY:
            send(bot, update, t("style_gone"))
            return
        markup = keyboards.styles(t, liked_first(t), model, 0, cost)
        send(bot, update, t("style_gone"), reply_markup=markup)

    @bot.callback_query_handler(func=lambda call: call.data.startswith("sty:"))
    def style_chosen(call: CallbackQuery, user: User, t: Texts, state: StateContext) -> None:
        """One tap: the style's generation starts at once."""
        bot.answer_callback_query(call.id)
        model_id, _, style = call.data[4:].partition(":")
        started(
            call,
            user,
            t,
            state,
            lambda: generations.start(
                user.telegram_id,
                model_id=bounded_id(model_id, MAX_ROW_ID) or 0,
                style=style,
                key=request_key(),
            ),
            model_id,
        )

    @bot.callback_query_handler(func=lambda call: call.data.startswith(("more:", "mhd:")))
    def more(call: CallbackQuery, user: User, t: Texts, state: StateContext) -> None:
        """🔁 More (the same again) or ✨ More in HD, under a delivered album."""
        bot.answer_callback_query(call.id)
        generation_id = bounded_id(call.data.partition(":")[2], MAX_ROW_ID)
        hd = True if call.data.startswith("mhd:") else None
        started(
            call,
            user,
            t,
            state,
            lambda: generations.again(
                user.telegram_id, generation_id or 0, hd=hd, key=request_key()
            ),
        )

    @bot.message_handler(state=GenerateStates.prompt, content_types=["text"])
    def prompt(message: Message, user: User, t: Texts, state: StateContext) -> None:
        model_id = flow_data(state).get("model_id")
        started(
            message,
            user,
            t,
            state,
            lambda: generations.start(
                user.telegram_id, model_id=model_id, prompt=message.text, key=request_key()
            ),
        )

    @bot.message_handler(state=GenerateStates.prompt)
    def prompt_not_text(message: Message, t: Texts) -> None:
        send(bot, message, t("prompt_not_text"))
