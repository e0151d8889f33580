"""Every error the HTTP surface returns has one JSON shape: {"error": {"code", "message"}}."""

from __future__ import annotations

import logging

from flask import Flask, jsonify, request
from werkzeug.exceptions import BadRequest, HTTPException

from webapp.jobs import ShuttingDown
from webapp.records import DomainError, StoreError

log = logging.getLogger("http")


def json_error(status: int, code: str, message: str, **extra):
    """A JSON error response; `extra` (e.g. a machine-readable `reason`) joins code and message."""
    return jsonify(error={"code": code, "message": message, **extra}), status


class ReadableBody:
    """The request body as the server hands it over, where a body that cannot be read is the
    client's fault, a 400: gunicorn raises its own parse errors (an invalid chunk size, a
    missing chunk terminator) from `read()`, which would otherwise be a 500 and an alert."""

    def __init__(self, stream) -> None:
        self._stream = stream

    def read(self, *args) -> bytes:
        return self._guard(self._stream.read, *args)

    def readline(self, *args) -> bytes:
        return self._guard(self._stream.readline, *args)

    def readlines(self, *args) -> list[bytes]:
        return self._guard(self._stream.readlines, *args)

    def __iter__(self):
        return iter(self.readline, b"")

    @staticmethod
    def _guard(read, *args):
        try:
            return read(*args)
        except HTTPException:
            raise
        except Exception as exc:
            log.info("request body unreadable: %s", type(exc).__name__)
            raise BadRequest("The request body cannot be read.") from None


def init_app(app: Flask) -> None:
    """Shape HTTP errors, domain errors and crashes as JSON; never a stack trace."""
    wsgi_app = app.wsgi_app

    def readable_body(environ, start_response):
        if "wsgi.input" in environ:
            environ["wsgi.input"] = ReadableBody(environ["wsgi.input"])
        return wsgi_app(environ, start_response)

    app.wsgi_app = readable_body

    @app.errorhandler(HTTPException)
    def http_error(exc: HTTPException):
        if exc.code == 413:
            return json_error(413, "too_large", "The request is too large.")
        code = (exc.name or "error").lower().replace(" ", "_")
        return json_error(exc.code or 500, code, exc.description or exc.name)

    @app.errorhandler(DomainError)
    def domain_error(exc: DomainError):
        params = dict(exc.params)
        extra = {"reason": params.pop("reason")} if "reason" in params else {}
        if params:  # what the reason names, for a client to say it in its own words
            extra["params"] = params
        return json_error(exc.http_status, exc.code, str(exc), **extra)

    @app.errorhandler(ShuttingDown)
    def shutting_down(exc: ShuttingDown):
        log.warning("%s", exc)  # a deploy or restart, not a bug: no alert
        return json_error(503, "shutting_down", "The server is restarting; try again shortly.")

    @app.errorhandler(Exception)
    def crash(exc: Exception):
        log.exception("unhandled error")
        runtime = app.extensions.get("runtime")
        if runtime is not None:
            kind = "storage_unreachable" if isinstance(exc, StoreError) else "unhandled_error"
            runtime.alerts.critical(
                kind, f"{type(exc).__name__} at {request.method} {request.path}", exc
            )
        if isinstance(exc, StoreError):
            return json_error(503, "storage_unavailable", "Storage does not answer; try again.")
        return json_error(500, "internal_error", "Something went wrong on our side.")
