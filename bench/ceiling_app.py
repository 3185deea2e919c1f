"""Ceiling for bench/ingest.py: the service's own app with one more route that does only
what the baseline does (parse the JSON, one INSERT of the raw body, commit, answer 201).

Every request still passes through everything the service's app does around a view: its
before- and after-request hooks (JSON checks, security headers, CORS), its extensions
(CSRF, sign-in, rate limiter) and a SQLAlchemy session. The gap between this and the
baseline is what the app costs before a report is even looked at, so the service can at
best come this close to the baseline. Not part of the service: it lives in bench/ only.

    gunicorn -w 2 -b 127.0.0.1:<port> "ceiling_app:create_app()" --chdir bench
"""

from __future__ import annotations

import json

from flask import Flask, g, request
from sqlalchemy import text

import feedback
from feedback.extensions import csrf, db

PATH = "/bench/ceiling"


def create_app() -> Flask:
    app = feedback.create_app()

    @app.post(PATH)
    @csrf.exempt
    def ceiling():
        data = json.loads(request.get_data())
        # The real view reads the site's origins for the CORS headers; so does this one,
        # without the query that finds them (the baseline makes none).
        g.site_origins = [request.headers.get("Origin", "")]
        db.session.execute(
            text("INSERT INTO bench_raw_report (body) VALUES (:body)"),
            {"body": request.get_data(as_text=True)},
        )
        db.session.commit()
        return {"id": data["id"], "status": "new"}, 201

    return app
