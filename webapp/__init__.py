"""The app: `create_app` (webapp.app) builds it. Importing a part of it (webapp.settings, the
services, the store) does not import the factory, Flask's routes or the chat."""

from __future__ import annotations


def __getattr__(name: str):
    if name == "create_app":  # `from webapp import create_app`, as wsgi.py and the tests do
        from webapp.app import create_app

        return create_app
    raise AttributeError(f"module 'webapp' has no attribute {name!r}")
