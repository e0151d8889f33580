"""Blueprints: thin routes that parse, authorise, call one service and shape the reply."""

from __future__ import annotations

from werkzeug.routing import IntegerConverter

from webapp.records import MAX_ID, MAX_ROW_ID


class Id64Converter(IntegerConverter):
    """`<id64:name>`: a non-negative 64-bit id (Astria's, in the sandbox's routes); anything
    longer is a 404 (Flask's `<int:>` takes any length, and SQLite then overflows)."""

    def __init__(self, url_map, *args, **kwargs) -> None:
        super().__init__(url_map, min=0, max=MAX_ID)


class RowIdConverter(IntegerConverter):
    """`<row_id:name>`: the id of one of our own rows (a model, a generation), which Supabase
    keeps as int4: a larger one is a 404 here, never a database error."""

    def __init__(self, url_map, *args, **kwargs) -> None:
        super().__init__(url_map, min=0, max=MAX_ROW_ID)
