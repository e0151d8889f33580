"""The Astria sandbox: a stand-in for Astria's REST API that the app serves to itself when it
has no ASTRIA_API_KEY (dev mode, staging with ASTRIA_SANDBOX=1, and the tests).

It accepts the same requests as Astria (multipart or JSON), answers with the same objects,
"trains" after a short delay, renders placeholder images with Pillow and POSTs the same wrapped
callbacks (`{"tune": …}`, `{"prompt": …}`) once, never retried — as Astria does.

It is a development tool, never a public service: it answers only a bearer key derived from the
app's SECRET_KEY (only the app's own Astria client has it), never hands out callback URLs, calls
back only under PUBLIC_URL/api/astria/callback/ and follows no redirects; its images are served
under a signed path. Fault injection (`POST /_faults`) exists only when ASTRIA_SANDBOX_FAULTS=1,
which the test suite sets.

- state.py: tunes, prompts and queued faults in one SQLite file (shared by gunicorn workers)
- service.py: what the sandbox does (create, shape objects like Astria's, call back)
- render.py: the placeholder images
- packs.py: its packs (photoshoots), with covers and sample pictures
- routes.py: the HTTP API under /astria-sandbox
"""

from __future__ import annotations

from flask import Flask

from webapp.settings import Settings


def init_app(app: Flask, settings: Settings) -> None:
    """Serve the sandbox when the app has no Astria key."""
    if not settings.sandbox:
        return
    from webapp.sandbox.routes import bp, faults_bp
    from webapp.sandbox.service import Sandbox

    app.extensions["astria_sandbox"] = Sandbox(settings)
    app.register_blueprint(bp)
    if settings.sandbox_faults:
        app.register_blueprint(faults_bp)
