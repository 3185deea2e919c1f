"""Baseline for bench/ingest.py: the least a report endpoint can do on Flask + PostgreSQL.

One endpoint, ``POST /api/v1/suggestions``: parse the JSON body, INSERT the raw body
into ``bench_raw_report`` (one statement, one commit on a psycopg connection kept per
worker process), answer 201 with the id. Run with the same gunicorn settings as the
service:

    BENCH_BASELINE_DSN=postgresql://postgres@127.0.0.1:5432/<db> \
        gunicorn -w 2 -b 127.0.0.1:<port> "baseline_app:create_app()" --chdir bench

The table is made by ``ensure_table(dsn)`` (bench/ingest.py calls it before starting).
"""

from __future__ import annotations

import os

import psycopg
from flask import Flask, abort, jsonify, request

TABLE_SQL = (
    "CREATE TABLE IF NOT EXISTS bench_raw_report ("
    " id bigserial PRIMARY KEY,"
    " body text NOT NULL,"
    " created_at timestamptz NOT NULL DEFAULT now())"
)


def ensure_table(dsn: str) -> None:
    with psycopg.connect(dsn, autocommit=True) as conn:
        conn.execute(TABLE_SQL)


def create_app() -> Flask:
    app = Flask(__name__)
    dsn = os.environ["BENCH_BASELINE_DSN"]
    state: dict[str, psycopg.Connection | None] = {"conn": None}

    def connection() -> psycopg.Connection:
        # Made lazily, so each gunicorn worker (forked after create_app) has its own.
        conn = state["conn"]
        if conn is None or conn.closed:
            conn = psycopg.connect(dsn)
            state["conn"] = conn
        return conn

    @app.get("/")
    def index():
        return "baseline\n"

    @app.post("/api/v1/suggestions")
    def submit():
        data = request.get_json(silent=True)
        if not isinstance(data, dict) or "id" not in data:
            abort(400)
        conn = connection()
        try:
            conn.execute(
                "INSERT INTO bench_raw_report (body) VALUES (%s)",
                (request.get_data(as_text=True),),
            )
            conn.commit()
        except Exception:
            conn.rollback()
            raise
        return jsonify({"id": data["id"], "status": "new"}), 201

    return app
