"""Every error the HTTP surface returns has one JSON shape: {"error": {"code", "message"}}."""

from __future__ import annotations

import logging

from flask import Flask, jsonify
from werkzeug.exceptions import HTTPException

from webapp.records import DomainError

log = logging.getLogger("http")


def json_error(status: int, code: str, message: str):
    """A JSON error response."""
    return jsonify(error={"code": code, "message": message}), status


def init_app(app: Flask) -> None:
    """Shape HTTP errors, domain errors and crashes as JSON; never a stack trace."""

    @app.errorhandler(HTTPException)
    def http_error(exc: HTTPException):
        code = (exc.name or "error").lower().replace(" ", "_")
        return json_error(exc.code or 500, code, exc.description or exc.name)

    @app.errorhandler(DomainError)
    def domain_error(exc: DomainError):
        return json_error(exc.http_status, exc.code, str(exc))

    @app.errorhandler(Exception)
    def crash(exc: Exception):
        log.exception("unhandled error")
        return json_error(500, "internal_error", "Something went wrong on our side.")
