"""Blueprints: thin routes that parse, authorise, call one service and shape the reply."""

from __future__ import annotations

from werkzeug.routing import IntegerConverter

from webapp.records import MAX_ID


class Id64Converter(IntegerConverter):
    """`<id64:name>`: a non-negative id that fits the database; anything longer is a 404
    (Flask's `<int:>` takes any length, and SQLite then overflows)."""

    def __init__(self, url_map, *args, **kwargs) -> None:
        super().__init__(url_map, min=0, max=MAX_ID)
