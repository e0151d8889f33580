"""/generate: choose a ready model → describe the picture → charge and generate."""

from __future__ import annotations

from telebot import TeleBot
from telebot.states.sync.context import StateContext
from telebot.types import CallbackQuery, Message

from bot import keyboards
from bot.render import eta_text, no_credits
from bot.replies import send
from bot.state_storage import flow_data
from bot.states import GenerateStates
from webapp.records import (
    MAX_ROW_ID,
    InvalidInput,
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
            send(
                bot,
                message,
                no_credits(t, "generate_no_credits", cost, user.credits),
                reply_markup=keyboards.packs(t, packs),
            )
            return
        send(bot, message, t("choose_model"), reply_markup=keyboards.models(t, ready))

    @bot.callback_query_handler(func=lambda call: call.data.startswith("gen:"))
    def model_chosen(call: CallbackQuery, user: User, t: Texts, state: StateContext) -> None:
        bot.answer_callback_query(call.id)
        model_id = bounded_id(call.data.removeprefix("gen:"), MAX_ROW_ID)
        try:
            model = generations.own_model(user.telegram_id, model_id or 0)
        except NotFound:
            send(bot, call, t("model_not_found"))
            return
        if model.status != ModelStatus.READY:
            send(bot, call, t("model_not_ready"))
            return
        if user.credits < cost:
            send(
                bot,
                call,
                no_credits(t, "generate_no_credits", cost, user.credits),
                reply_markup=keyboards.packs(t, packs),
            )
            return
        state.delete()
        state.set(GenerateStates.prompt)
        state.add_data(model_id=model.id)
        send(bot, call, t("ask_prompt", name=model.name))

    @bot.message_handler(state=GenerateStates.prompt, content_types=["text"])
    def prompt(message: Message, user: User, t: Texts, state: StateContext) -> None:
        model_id = flow_data(state).get("model_id")
        try:
            generation, model, balance = generations.start(
                user.telegram_id, model_id=model_id, prompt=message.text
            )
        except InvalidInput as exc:
            send(bot, message, t(exc.params["reason"], limit=PROMPT_MAX))
            return
        except NotEnoughCredits as exc:
            send(
                bot,
                message,
                no_credits(t, "generate_no_credits", **exc.params),
                reply_markup=keyboards.packs(t, packs),
            )
            return
        except (NotFound, ModelNotReady):
            state.delete()
            send(bot, message, t("model_not_ready"))
            return
        state.delete()
        send(
            bot,
            message,
            t(
                "generation_queued",
                images=t.images(images),
                name=model.name,
                cost=t.credits(cost),
                credits=t.credits(balance),
            ),
        )

    @bot.message_handler(state=GenerateStates.prompt)
    def prompt_not_text(message: Message, t: Texts) -> None:
        send(bot, message, t("prompt_not_text"))
