"""The snippet is served with an ETag; versioned URLs and content-hashed chunks may be
cached for a year."""

from __future__ import annotations

from pathlib import Path

JS = Path(__file__).resolve().parent.parent / "static" / "js"


def test_snippet_served_with_etag_and_short_cache(client):
    with client.get("/static/js/feedback.js") as response:
        assert response.status_code == 200
        assert response.mimetype in {"text/javascript", "application/javascript"}
        etag = response.headers["ETag"]
        assert etag
        assert "max-age=3600" in response.headers["Cache-Control"]
    with client.get("/static/js/feedback.js", headers={"If-None-Match": etag}) as again:
        assert again.status_code == 304


def test_versioned_snippet_url_is_cached_for_a_year(client):
    with client.get("/static/js/feedback.js?v=0.1.0") as response:
        assert response.status_code == 200
        assert "max-age=31536000" in response.headers["Cache-Control"]


def test_dialog_chunks_are_cached_a_year_by_their_hashed_name_only(client):
    [chunk] = JS.glob("feedback-dialog.*.js")
    with client.get(f"/static/js/{chunk.name}") as response:
        assert response.status_code == 200
        assert "max-age=31536000" in response.headers["Cache-Control"]
        assert response.get_data() == chunk.read_bytes()
    # The stable name serves the newest chunk to loaders built with an older one.
    with client.get("/static/js/feedback-dialog.js") as response:
        assert response.get_data() == chunk.read_bytes()
        assert "max-age=3600" in response.headers["Cache-Control"]
    with client.get("/static/js/feedback-dialog.js?v=0.1.0") as response:
        assert "max-age=31536000" in response.headers["Cache-Control"]


def test_language_chunks_are_cached_a_year_by_their_hashed_name(client):
    chunks = sorted(JS.glob("feedback-lang-*.js"))
    names = {chunk.name.split(".")[0] for chunk in chunks}
    assert names >= {"feedback-lang-ru", "feedback-lang-he"}
    for chunk in chunks:
        with client.get(f"/static/js/{chunk.name}") as response:
            assert response.status_code == 200
            assert "max-age=31536000" in response.headers["Cache-Control"]
            assert response.get_data() == chunk.read_bytes()


def test_demo_page_needs_the_demo_site(client):
    assert client.get("/").status_code == 404
