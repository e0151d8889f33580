"""Chat steps several test modules share: training a model the way a user does."""

from __future__ import annotations

import itertools

from tests import factories as f
from webapp.records import Model

_files = itertools.count(1)


def start_training(live, telegram, user: int, name: str = "Me", class_name: str = "man") -> None:
    """/train, four different photos, a name and a class, as a user sends them."""
    live.post_update(f.message(user, "/train"))
    for _ in range(4):
        file_id = f"{user}-photo-{next(_files)}"
        telegram.add_file(file_id, f.jpeg(640, 640))
        live.post_update(f.photo(user, file_id, 640, 640))
    live.post_update(f.message(user, name))
    live.post_update(f.callback(user, f"cls:{class_name}"))


def trained_model(live, telegram, user: int, name: str = "Me", class_name: str = "man") -> Model:
    """A model trained through the chat, once the user has been told it is ready."""
    start_training(live, telegram, user, name, class_name)
    telegram.wait_text(user, f"Your model “{name}” is ready!")
    live.idle()
    return next(m for m in live.rt.store.list_models(user) if m.name == name)
