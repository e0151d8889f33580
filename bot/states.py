"""The chat flows' steps."""

from telebot.states import State, StatesGroup


class TrainStates(StatesGroup):
    """/train: photos → name → class."""

    photos = State()
    name = State()
    class_name = State()


class GenerateStates(StatesGroup):
    """/generate: model chosen → prompt."""

    prompt = State()
