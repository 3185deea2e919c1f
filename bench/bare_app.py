"""Baseline for bench/refusals.py: a bare Flask app with no routes, so every request is
Flask's own 404. Run on the same gunicorn settings as the service:

    gunicorn -w 2 -b 127.0.0.1:<port> "bare_app:create_app()" --chdir bench
"""

from __future__ import annotations

from flask import Flask


def create_app() -> Flask:
    return Flask(__name__)
