"""The reader snippet on pages shaped like real news pages (tests/browser/pages/): driven
with the real keyboard, and by touch, asserting on what is POSTed and what the reader sees."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from axe_playwright_python.sync_playwright import Axe
from playwright.sync_api import Page, expect

from tests.browser.conftest import CHROMIUM_ARGS  # noqa: F401 - the same browser set-up
from tests.browser.test_snippet import (
    dialog,
    drag_select,
    no_suggestions_yet,  # noqa: F401 - an autouse fixture, used by being here
    open_with_selection,
    posted_bodies,
    select_by_script,
    stored,
)

pytestmark = pytest.mark.browser

PAGES = Path(__file__).resolve().parent / "pages"
THANKS = "Thank you!"


def corpus_html(name: str, live_server, tag_attributes: str = "") -> str:
    html = (PAGES / name).read_text(encoding="utf-8")
    tag = (
        f'<script src="{live_server.url}/static/js/feedback.js" '
        f'data-site="{live_server.site_key}" {tag_attributes} async></script>'
    )
    return html.replace("<!-- snippet -->", tag)


def serve(page: Page, live_server, name: str, html: str | None = None, **kwargs) -> str:
    """Serve a corpus page on the service's own (allowed) origin and open it."""
    url = f"{live_server.url}/corpus/{name}"
    body = html if html is not None else corpus_html(name, live_server, **kwargs)
    page.context.route(
        url, lambda route: route.fulfill(content_type="text/html; charset=utf-8", body=body)
    )
    page.goto(url)
    page.wait_for_function("window.ReaderFeedback")
    return url


def assert_no_axe_violations(page: Page) -> None:
    """axe-core over the snippet's own elements (the test pages lack landmarks on purpose)."""
    results = Axe().run(page, context={"include": [["[data-feedback-host]"]]})
    assert results.violations_count == 0, results.generate_report()


def send(page: Page, *, tap: bool = False) -> dict:
    """Send the open dialog; returns the body POSTed."""
    bodies = posted_bodies(page)
    button = dialog(page).get_by_role("button", name="Send")
    button.tap() if tap else button.click()
    expect(dialog(page).get_by_role("status")).to_have_text(THANKS, timeout=20_000)
    assert len(bodies) == 1
    return bodies[0]


def assert_quote_in_text(body: dict, exact: str) -> None:
    """The quote's positions index the text in code points, as the server counts them."""
    quote, text = body["quote"], body["article"]["text"]
    assert quote["exact"] == exact
    assert text[quote["start"] : quote["end"]] == exact
    assert text[: quote["start"]].endswith(quote["prefix"])
    assert text[quote["end"] :].startswith(quote["suffix"])


@pytest.fixture
def phone(browser):
    context = browser.new_context(
        has_touch=True,
        is_mobile=True,
        viewport={"width": 390, "height": 844},
        device_scale_factor=3,
    )
    yield context.new_page()
    context.close()


def tap_select(page: Page, scope: str, words: str) -> None:
    """A reader's finger on the words, then the selection a long press makes."""
    page.tap(scope)
    select_by_script(page, scope, words)


def open_by_touch(page: Page) -> None:
    button = page.get_by_role("button", name="Report an error", exact=True)
    expect(button).to_be_visible(timeout=15_000)  # a busy machine and a 1 MB page
    button.tap()
    expect(dialog(page)).to_be_visible()


# --- teaser articles before the story ------------------------------------------------------


def test_teasers_before_the_story_do_not_take_the_report(page, live_server):
    url = serve(page, live_server, "teasers.html")
    box = open_with_selection(page, "#story", "then")
    expect(box.locator("mark")).to_have_text("then")
    box.get_by_label("Suggested correction").fill("than")
    assert_no_axe_violations(page)
    body = send(page)
    assert_quote_in_text(body, "then")
    text = body["article"]["text"]
    assert text.startswith("Harbour ferry returns after a winter of repairs\nBy Tamsin Greaves\n")
    # The caption the page's CSS hides is left out (by the snippet alone: docs/snippet.md).
    assert text.endswith("well above the sum set aside in the autumn.")
    assert "Photo caption" not in text
    for teaser_or_chrome in ("Regatta", "City budget", "Frost", "Related", "century", "harbour\n"):
        assert teaser_or_chrome not in text
    assert body["article"]["url"] == url
    assert body["replacement"] == "than"
    [row] = stored(page, live_server)
    assert row["exact"] == "then"


def test_teasers_on_a_phone(phone, live_server):
    serve(phone, live_server, "teasers.html")
    tap_select(phone, "#story p:nth-of-type(3)", "minute")
    open_by_touch(phone)
    expect(dialog(phone).locator("mark")).to_have_text("minute")
    body = send(phone, tap=True)
    assert_quote_in_text(body, "minute")
    assert body["article"]["text"].startswith("Harbour ferry returns")


def test_a_teaser_selected_in_the_menu_is_not_the_article(page, live_server):
    serve(page, live_server, "teasers.html")
    box = open_with_selection(page, "nav", "Six boats")
    expect(box.get_by_role("status")).to_contain_text("not in the article")
    expect(box.locator("mark")).to_have_count(0)


# --- no article or main ----------------------------------------------------------------------


def test_a_page_without_article_or_main_sends_the_story_not_the_menus(page, live_server):
    serve(page, live_server, "no-article.html")
    box = open_with_selection(page, ".body", "nine hundred")
    assert_no_axe_violations(page)
    body = send(page)
    assert_quote_in_text(body, "nine hundred")
    text = body["article"]["text"]
    assert text.startswith("Library opening hours cut on Sundays\nPosted by the news desk\n")
    assert text.endswith("stops at fourteen places every fortnight.")
    for chrome in ("Home", "Puzzles", "Share on social", "Copy link", "Contact", "Copyright"):
        assert chrome not in text
    del box


# --- script text in the body ----------------------------------------------------------------


def test_script_text_in_the_body_is_never_article_text(page, live_server):
    serve(page, live_server, "script-text.html")
    open_with_selection(page, ".wrapper", "six per cent")
    body = send(page)
    assert_quote_in_text(body, "six per cent")
    text = body["article"]["text"]
    assert text.startswith("Bus strike ends after pay deal\nDrivers voted")
    for code in ("<script", "adSlots", "NewsArticle", "document.write", "JavaScript"):
        assert code not in text
    assert text.endswith("a paid break on the longest routes.")


# --- right to left, English dialog ----------------------------------------------------------


def test_an_rtl_page_with_an_english_dialog(page, live_server):
    serve(page, live_server, "rtl.html", tag_attributes='data-lang="en"')
    box = open_with_selection(page, "article", "לשוק הדגים")
    expect(box.get_by_role("heading", name="Report an error")).to_be_visible()
    # The dialog reads left to right, as its language does, whatever the page's direction.
    assert box.evaluate("(d) => getComputedStyle(d).direction") == "ltr"
    assert_no_axe_violations(page)
    body = send(page)
    assert_quote_in_text(body, "לשוק הדגים")
    assert body["article"]["text"].startswith("המעבורת חוזרת לנמל אחרי חורף של תיקונים\n")
    assert "ראשי" not in body["article"]["text"]  # the menu


def test_an_rtl_page_on_a_phone(phone, live_server):
    serve(phone, live_server, "rtl.html", tag_attributes='data-lang="en"')
    tap_select(phone, "article p:nth-of-type(2)", "בשבע")
    open_by_touch(phone)
    body = send(phone, tap=True)
    assert_quote_in_text(body, "בשבע")


# --- no viewport meta, on a phone -----------------------------------------------------------

SCREEN_SIZE = """(element) => {
    const box = element.getBoundingClientRect(), scale = visualViewport.scale;
    return {width: box.width * scale, height: box.height * scale, top: box.top,
            bottom: box.bottom, scale};
}"""


def test_a_page_without_viewport_meta_on_a_phone(phone, live_server):
    serve(phone, live_server, "no-viewport.html")
    scale = phone.evaluate("visualViewport.scale")
    assert scale < 0.6  # the phone shows the 980-pixel page scaled down
    tap_select(phone, "article p:nth-of-type(2)", "half plots")
    button = phone.get_by_role("button", name="Report an error", exact=True)
    expect(button).to_be_visible()
    on_screen = button.evaluate(SCREEN_SIZE)
    assert on_screen["height"] >= 44  # a finger's target in screen pixels, whatever the zoom
    assert on_screen["width"] >= 200
    words = phone.evaluate("getSelection().getRangeAt(0).getBoundingClientRect().toJSON()")
    assert on_screen["top"] > words["bottom"]  # clear of the selection and its handles
    # Pinch-zoomed in, the button keeps its size on the screen.
    cdp = phone.context.new_cdp_session(phone)
    cdp.send("Emulation.setPageScaleFactor", {"pageScaleFactor": 1.5})
    phone.wait_for_function(f"visualViewport.scale > {scale * 2}")
    phone.wait_for_timeout(100)
    assert abs(button.evaluate(SCREEN_SIZE)["height"] - on_screen["height"]) < 2
    cdp.send("Emulation.setPageScaleFactor", {"pageScaleFactor": 0})
    open_by_touch(phone)
    expect(dialog(phone).locator("mark")).to_have_text("half plots")
    body = send(phone, tap=True)
    assert_quote_in_text(body, "half plots")


def test_the_button_moves_to_the_top_for_a_selection_at_the_bottom(phone, live_server):
    serve(phone, live_server, "no-viewport.html")
    phone.tap("article p:nth-of-type(3)")
    # The paragraph moved down to the bottom edge of the screen.
    phone.evaluate(
        """() => {
            const p = document.querySelector('article p:nth-of-type(3)');
            const top = p.getBoundingClientRect().top;
            p.style.marginTop = `${visualViewport.height - top - p.offsetHeight / 2}px`;
        }"""
    )
    select_by_script(phone, "article p:nth-of-type(3)", "whole season")
    button = phone.get_by_role("button", name="Report an error", exact=True)
    expect(button).to_be_visible()
    words = phone.evaluate("getSelection().getRangeAt(0).getBoundingClientRect().toJSON()")
    assert button.evaluate(SCREEN_SIZE)["bottom"] < words["top"]


# --- patched built-ins ------------------------------------------------------------------------


def test_a_page_that_patches_built_ins(page, live_server):
    serve(page, live_server, "patched.html")
    assert page.evaluate("JSON.stringify({a: [1]})") != '{"a":[1]}'  # the page's own, broken
    box = open_with_selection(page, "article", "a metre")
    box.get_by_label("Suggested correction").fill("two metres")
    body = send(page)
    assert_quote_in_text(body, "a metre")
    assert body["replacement"] == "two metres"
    assert body["article"]["text"].endswith("while the cranes are on the quay.")
    [row] = stored(page, live_server)
    assert row["replacement"] == "two metres"

    # The page's data-feedback-open button works although closest() is broken.
    page.keyboard.press("Escape")
    page.evaluate("getSelection().removeAllRanges()")
    page.get_by_role("button", name="Report an error in this article").click()
    box.get_by_label("Comment").fill("Which summers?")
    note = send(page)
    assert "quote" not in note
    assert note["comment"] == "Which summers?"


# --- hostile CSS --------------------------------------------------------------------------------


def test_hostile_css_a_fixed_header_and_an_overlay(page, live_server):
    serve(page, live_server, "hostile.html")
    drag_select(page, "article", "arround")
    page.keyboard.press("Control+Enter")
    box = dialog(page)
    expect(box).to_be_visible()
    size = box.bounding_box()
    assert size["width"] > 250
    assert size["height"] > 250
    # Nothing of the page lies over the dialog: the top element at its centre is ours.
    top = page.evaluate(
        """([x, y]) => {
            const hit = document.elementFromPoint(x, y);
            return hit && hit.hasAttribute('data-feedback-host');
        }""",
        [size["x"] + size["width"] / 2, size["y"] + size["height"] / 2],
    )
    assert top
    box.get_by_label("Suggested correction").fill("around")
    body = send(page)
    assert_quote_in_text(body, "arround")
    assert body["replacement"] == "around"
    assert "The Estuary Post" not in body["article"]["text"]


# --- several stories ---------------------------------------------------------------------------


def test_several_stories_each_report_is_about_its_own(page, live_server):
    serve(page, live_server, "several.html")
    open_with_selection(page, "#market", "corn exchange")
    body = send(page)
    assert_quote_in_text(body, "corn exchange")
    assert body["article"]["text"].startswith("Farmers' market moves indoors\n")
    assert "Millford" not in body["article"]["text"]
    assert "choir" not in body["article"]["text"]

    page.keyboard.press("Escape")
    open_with_selection(page, "#choir", "sea songs")
    body = send(page)
    assert_quote_in_text(body, "sea songs")
    assert body["article"]["text"].startswith("Choir wins regional prize\n")


def test_several_stories_on_a_phone(phone, live_server):
    serve(phone, live_server, "several.html")
    tap_select(phone, "#bridge p", "parapets")
    open_by_touch(phone)
    body = send(phone, tap=True)
    assert_quote_in_text(body, "parapets")
    assert body["article"]["text"].startswith("Old bridge to close for a month\n")


# --- a page of about 1 MB ----------------------------------------------------------------------

PARAGRAPH = (
    "<p>Crossings will run every twenty minutes at the busiest times, the harbour board "
    "said, and the last boat will leave the fish market at half past eleven on Fridays.</p>\n"
)


def long_page(live_server) -> str:
    """The frame in long.html filled to about 1 MB, as big news pages are."""
    html = corpus_html("long.html", live_server)
    menu = "".join(f"<a href='/section/{i}'>Section {i}</a> " for i in range(3000))
    teasers = "".join(
        f"<article class='teaser'><h3><a href='/news/{i}'>Headline of story {i}</a></h3>"
        "<p>A short summary of the story for the front of the site.</p></article>"
        for i in range(2500)
    )
    state = json.dumps({"stories": [{"id": i, "title": "A headline " * 6} for i in range(4000)]})
    footer = "<p>About us · Contact · Advertise · Privacy · Terms · Jobs</p>" * 300
    return (
        html.replace("<!-- menu -->", menu)
        .replace("<!-- teasers -->", teasers)
        .replace("/* state */", state)
        .replace("<!-- paragraphs -->", PARAGRAPH * 40)
        .replace("<!-- footer -->", footer)
    )


def test_a_page_of_about_a_megabyte(page, live_server):
    html = long_page(live_server)
    assert 900_000 < len(html.encode()) < 1_300_000
    serve(page, live_server, "long.html", html=html)
    box = open_with_selection(page, "#target", "ten to six")
    expect(box.locator("mark")).to_have_text("ten to six")
    body = send(page)
    assert_quote_in_text(body, "ten to six")
    text = body["article"]["text"]
    assert text.startswith("Ferry timetable to change in spring\nCrossings will run")
    assert "Headline of story" not in text
    assert "Section 1" not in text


# --- every page by touch -------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("name", "scope", "words", "starts"),
    [
        ("no-article.html", ".body p:nth-of-type(2)", "nine hundred", "Library opening hours"),
        ("script-text.html", ".wrapper p:nth-of-type(2)", "half past five", "Bus strike ends"),
        ("patched.html", "article p:nth-of-type(1)", "three floods", "Harbour walls to be"),
        ("hostile.html", "article p:nth-of-type(2)", "eleven minutes", "Lifeboat crew rescue"),
        ("long.html", "#target", "ten to six", "Ferry timetable to change"),
    ],
)
def test_each_page_by_touch(phone, live_server, name, scope, words, starts):
    html = long_page(live_server) if name == "long.html" else None
    url = serve(phone, live_server, name, html=html)
    tap_select(phone, scope, words)
    open_by_touch(phone)
    expect(dialog(phone).locator("mark")).to_have_text(words)
    body = send(phone, tap=True)
    assert_quote_in_text(body, words)
    assert body["article"]["text"].startswith(starts)
    assert body["article"]["url"] == url
