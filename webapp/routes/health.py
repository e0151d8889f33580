"""Health checks and the landing page."""

from __future__ import annotations

from flask import Blueprint, render_template

from webapp.errors import json_error
from webapp.records import StoreError
from webapp.runtime import runtime

bp = Blueprint("health", __name__)


@bp.get("/healthz")
def healthz():
    """200 while the process serves."""
    return {"ok": True}


@bp.get("/readyz")
def readyz():
    """200 when storage answers too."""
    try:
        runtime().store.ping()
    except StoreError:
        return json_error(503, "storage_unavailable", "Storage does not answer.")
    return {"ok": True}


@bp.get("/")
def index():
    """A short page saying what runs here and how it is configured (no secrets)."""
    settings = runtime().settings
    return render_template("index.html", settings=settings)
