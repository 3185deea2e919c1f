"""The editors' web UI at /editor: sign-in, the triage queue, one report, one article,
and (in ``sites``) each site's settings and stats."""

from __future__ import annotations

from flask import Flask, flash, redirect, request
from flask_login import login_url

from feedback.errors import error_response
from feedback.extensions import login_manager

SIGN_IN_MESSAGE = "Sign in to see the reports."
# Every editor page and download is someone's signed-in view (or carries their CSRF
# token): no shared cache may keep it, and the browser keeps no copy once closed.
EDITOR_PATH = "/editor"
NOT_STORED = "private, no-store"


def wants_json() -> bool:
    """Whether the request comes from the UI's script (it asks for JSON)."""
    best = request.accept_mimetypes.best_match(["text/html", "application/json"])
    return best == "application/json"


@login_manager.unauthorized_handler
def _sign_in_first():
    """Pages send the browser to the sign-in form and back; the keyboard script, whose
    session has ended, gets a 401 it can show instead of the sign-in page's HTML."""
    if wants_json():
        return error_response(401, "unauthorized", "Your session has ended; sign in again.")
    flash(SIGN_IN_MESSAGE)
    return redirect(login_url("auth.sign_in", next_url=request.url))


def _never_stored(response):
    """One rule for every answer under /editor (the editor blueprints, the mail settings
    and the exports alike), so a new page cannot forget it."""
    if request.path == EDITOR_PATH or request.path.startswith(EDITOR_PATH + "/"):
        response.headers["Cache-Control"] = NOT_STORED
    return response


def init_editor(app: Flask) -> None:
    from feedback.editor import auth, filters, sites, views

    app.register_blueprint(auth.blp)
    app.register_blueprint(views.blp)
    app.register_blueprint(sites.blp)
    filters.register(app)
    app.after_request(_never_stored)
