"""The reader snippet in a real Chromium against the live service: select, open, send.

The helpers here serve test_snippet_delivery.py and test_snippet_access.py as well.
"""

# ruff: noqa: RUF001 - Cyrillic article text is the point of some of these tests

from __future__ import annotations

import json
import time

import pytest
from playwright.sync_api import Locator, Page, expect

pytestmark = pytest.mark.browser

API_PATH = "/api/v1/suggestions"
STORE = "readerFeedback.queue"
# The snippet's (open) shadow root, as page script.
SHADOW = (
    "[...document.querySelectorAll('[data-feedback-ignore]')]"
    ".find((element) => element.shadowRoot).shadowRoot"
)
# The text node under `scope` holding `words`, and where in it they start.
FIND_WORDS = """
    const walker = document.createTreeWalker(document.querySelector(scope), NodeFilter.SHOW_TEXT);
    let node, at = -1;
    while (at < 0 && (node = walker.nextNode())) at = node.data.indexOf(words);
"""


@pytest.fixture(autouse=True)
def no_suggestions_yet(live_server):
    live_server.clear()


def wait_for(page: Page, probe, timeout: float = 10.0, what: str = "condition"):
    """Poll ``probe`` until it returns something truthy; fail after ``timeout`` seconds.
    Waits through the page, so that Playwright goes on serving its routes meanwhile."""
    deadline = time.monotonic() + timeout
    while not (result := probe()):
        if time.monotonic() > deadline:
            pytest.fail(f"timed out waiting for {what}")
        page.wait_for_timeout(100)
    return result


def stored(page: Page, live_server, count: int = 1, timeout: float = 10.0) -> list[dict]:
    """The stored suggestions once there are ``count`` of them."""
    return wait_for(
        page,
        lambda: rows if len(rows := live_server.suggestions()) >= count else None,
        timeout,
        f"{count} stored suggestion(s)",
    )


def queue_is_empty(page: Page) -> bool:
    return page.evaluate(f"localStorage['{STORE}'] === undefined")


def serve_page(
    page: Page,
    live_server,
    path: str,
    body: str,
    *,
    lang: str = "en",
    head: str = "",
    tag_attributes: str = "",
    site: str | None = None,
) -> str:
    """Serve ``body`` as an article page at ``path`` on the service's own (allowed) origin,
    to every page of the test's browser context, with the real snippet tag; open it once
    the snippet has loaded. Returns its URL."""
    url = f"{live_server.url}{path}"
    html = f"""<!doctype html>
<html lang="{lang}"><head><meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>Test article {path}</title>{head}
<script src="{live_server.url}/static/js/feedback.js" data-site="{site or live_server.site_key}"
 {tag_attributes} async></script></head>
<body>{body}</body></html>"""
    page.context.route(
        url, lambda route: route.fulfill(content_type="text/html; charset=utf-8", body=html)
    )
    page.goto(url)
    page.wait_for_function("window.ReaderFeedback")
    return url


def open_demo(page: Page, live_server) -> None:
    page.goto(live_server.url + "/")
    page.wait_for_function("window.ReaderFeedback")


def drag_select(page: Page, scope: str, words: str) -> None:
    """Select ``words`` (in one text node under ``scope``) with the mouse, as a reader would:
    press just inside the first character and release just inside the last."""
    box = page.evaluate(
        f"""([scope, words]) => {{
            {FIND_WORDS}
            if (at < 0) return null;
            node.parentElement.scrollIntoView({{block: "center"}});
            const range = document.createRange();
            range.setStart(node, at);
            range.setEnd(node, at + words.length);
            const rects = [...range.getClientRects()];
            const first = rects[0], last = rects[rects.length - 1];
            return {{x0: first.left, y0: (first.top + first.bottom) / 2,
                     x1: last.right, y1: (last.top + last.bottom) / 2}};
        }}""",
        [scope, words],
    )
    assert box, f"{words!r} is not in {scope}"
    page.mouse.move(box["x0"] + 1, box["y0"])
    page.mouse.down()
    page.mouse.move(box["x1"] - 1, box["y1"], steps=8)
    page.mouse.up()
    assert page.evaluate("getSelection().toString()") == words


def select_by_script(page: Page, scope: str, words: str) -> None:
    """Select ``words`` under ``scope`` without the mouse (touch, or text a page hides)."""
    found = page.evaluate(
        f"""([scope, words]) => {{
            {FIND_WORDS}
            if (at >= 0) getSelection().setBaseAndExtent(node, at, node, at + words.length);
            return at >= 0;
        }}""",
        [scope, words],
    )
    assert found, f"{words!r} is not in {scope}"


def dialog(page: Page) -> Locator:
    return page.get_by_role("dialog")


def open_with_selection(page: Page, scope: str, words: str) -> Locator:
    """Mouse-select ``words`` and press Ctrl+Enter; returns the open dialog."""
    drag_select(page, scope, words)
    page.keyboard.press("Control+Enter")
    expect(dialog(page)).to_be_visible()
    return dialog(page)


def posted_bodies(page: Page) -> list[dict]:
    """Start recording the JSON bodies the page posts to the API."""
    bodies: list[dict] = []

    def record(request):
        if request.method == "POST" and request.url.endswith(API_PATH):
            bodies.append(json.loads(request.post_data))

    page.on("request", record)
    return bodies


def test_mouse_selection_and_ctrl_enter_send_a_typo_with_its_selectors(page, live_server):
    open_demo(page, live_server)
    box = open_with_selection(page, "article", "then")
    expect(box.locator("mark")).to_have_text("then")
    expect(box.locator("#q")).to_contain_text("a minute faster then the timetable")
    correction = box.get_by_label("Suggested correction")
    expect(correction).to_be_focused()
    expect(correction).to_have_value("then")  # the reader only edits the wrong letters
    correction.fill("than")
    box.get_by_label("What is wrong?").select_option("typo")
    box.get_by_role("button", name="Send").click()
    expect(box.get_by_role("status")).to_have_text("Thank you!")

    [row] = stored(page, live_server)
    assert (row["kind"], row["exact"], row["replacement"]) == ("typo", "then", "than")
    assert row["prefix"].endswith("a minute faster ")
    assert row["suffix"].startswith(" the timetable")
    text = row["article_text"]
    assert text[row["start"] : row["end"]] == "then"
    assert text.startswith("Harbour ferry returns after a winter of repairs\nBy Mira Okonjo")
    assert "service on Monday" in text  # a line break in the HTML source is a space
    assert row["article_url"] == live_server.url + "/"  # <link rel=canonical>


def test_meta_enter_opens_the_dialog_too(page, live_server):
    body = "<article><p>The council met on Tuesday.</p></article>"
    canonical = '<link rel="canonical" href="/news/council">'
    serve_page(page, live_server, "/t/meta", body, head=canonical)
    drag_select(page, "article", "Tuesday")
    page.keyboard.press("Meta+Enter")
    box = dialog(page)
    expect(box.locator("mark")).to_have_text("Tuesday")
    box.get_by_label("Suggested correction").fill("Wednesday")
    box.get_by_label("What is wrong?").select_option("factual")
    box.get_by_role("button", name="Send").click()
    expect(box.get_by_role("status")).to_have_text("Thank you!")
    [row] = stored(page, live_server)
    assert (row["exact"], row["replacement"], row["kind"]) == ("Tuesday", "Wednesday", "factual")
    assert row["article_text"] == "The council met on Tuesday."
    assert (row["start"], row["end"]) == (19, 26)
    assert row["article_url"] == live_server.url + "/news/council"  # <link rel=canonical>


def test_a_general_note_from_a_data_feedback_open_button_sends_no_quote(page, live_server):
    open_demo(page, live_server)
    page.get_by_role("button", name="send a note about the whole article").click()
    box = dialog(page)
    expect(box).to_be_visible()
    expect(box.locator("mark")).to_have_count(0)
    expect(box.get_by_label("Suggested correction")).to_be_hidden()
    comment = box.get_by_label("Comment")
    expect(comment).to_be_focused()
    comment.fill("The headline photo is missing.")
    box.get_by_label("What is wrong?").select_option("other")
    box.get_by_label("Your name").fill("Ada Reader")
    box.get_by_label("Email").fill("ada@example.com")
    box.get_by_label("Tell me what happened to it").check()
    box.get_by_role("button", name="Send").click()
    expect(box.get_by_role("status")).to_have_text("Thank you!")
    [row] = stored(page, live_server)
    assert (row["exact"], row["start"], row["replacement"]) == (None, None, None)
    assert (row["kind"], row["comment"]) == ("other", "The headline photo is missing.")
    assert (row["reporter_name"], row["reporter_email"], row["notify"]) == (
        "Ada Reader",
        "ada@example.com",
        True,
    )


def test_the_shortcut_with_nothing_selected_opens_a_general_note(page, live_server):
    serve_page(page, live_server, "/t/note", "<main><p>Short text.</p></main>")
    page.keyboard.press("Control+Enter")
    box = dialog(page)
    expect(box).to_be_visible()
    expect(box.get_by_label("Suggested correction")).to_be_hidden()
    box.get_by_label("Comment").fill("Great piece.")
    box.get_by_role("button", name="Send").click()
    [row] = stored(page, live_server)
    assert (row["exact"], row["comment"]) == (None, "Great piece.")
    assert row["article_text"] == "Short text."  # <main>, there being no <article>
    assert row["article_url"] == live_server.url + "/t/note"  # no canonical link: the address


def test_touch_selection_shows_a_floating_button_beside_it(browser, live_server):
    context = browser.new_context(
        has_touch=True, is_mobile=True, viewport={"width": 390, "height": 700}
    )
    try:
        page = context.new_page()
        body = (
            "<article><h1>Ferry news</h1><p>The ferry leaves at seven every mornign.</p></article>"
        )
        serve_page(page, live_server, "/t/touch", body)
        button = page.get_by_role("button", name="Report an error")
        page.tap("article p")  # the reader's finger: a touch pointer
        expect(button).to_be_hidden()
        select_by_script(page, "article p", "mornign")
        expect(button).to_be_visible()
        word = page.evaluate("getSelection().getRangeAt(0).getBoundingClientRect().toJSON()")
        place = button.bounding_box()
        # A bar at the bottom edge, clear of the words and the phone's handles around them.
        assert place["y"] > word["bottom"] + 100
        assert place["y"] + place["height"] <= 700
        assert place["height"] >= 44
        button.tap()
        box = dialog(page)
        expect(box.locator("mark")).to_have_text("mornign")
        expect(button).to_be_hidden()
        box.get_by_label("Suggested correction").fill("morning")
        box.get_by_role("button", name="Send").tap()
        expect(box.get_by_role("status")).to_have_text("Thank you!")
        [row] = stored(page, live_server)
        assert (row["exact"], row["replacement"]) == ("mornign", "morning")
    finally:
        context.close()


def test_no_floating_button_for_a_mouse_selection(page, live_server):
    serve_page(page, live_server, "/t/mouse", "<article><p>Plain words to select.</p></article>")
    drag_select(page, "article", "select")
    page.wait_for_timeout(500)
    expect(page.get_by_role("button", name="Report an error")).to_have_count(0)


SEVERAL_ARTICLES = """
<main>
  <article data-feedback-article data-feedback-url="/news/first">
    <h2>First story</h2><p>The mayor opened the bridge.</p>
    <button data-feedback-open>Note on the first story</button>
  </article>
  <aside><p>Advert: bridge tours daily.</p></aside>
  <article data-feedback-article data-feedback-url="/news/second">
    <h2>Second story</h2><p>The bridge <span data-feedback-ignore>[share]</span>cost too
    much.<script>var ignored = "script";</script><style>p{}</style></p>
    <p hidden>Hidden paragraph.</p><div aria-hidden="true">Decoration</div>
    <noscript>Enable JavaScript</noscript><template><p>Template</p></template>
    <button data-feedback-open>Note on the second story</button>
  </article>
</main>"""


def test_several_articles_each_send_their_own_text_and_url(page, live_server):
    serve_page(page, live_server, "/t/several", SEVERAL_ARTICLES)
    select_by_script(page, "article:nth-of-type(2) p", "cost too")
    page.keyboard.press("Control+Enter")
    dialog(page).get_by_role("button", name="Send").click()
    [row] = stored(page, live_server)
    # Ignored, hidden, script, style, noscript and template content is left out, and so
    # are buttons (page chrome, by the shared rules).
    assert row["article_text"] == "Second story\nThe bridge cost too much."
    assert row["article_url"] == live_server.url + "/news/second"
    assert row["exact"] == "cost too"

    live_server.clear()
    page.keyboard.press("Escape")
    page.get_by_role("button", name="Note on the first story").click()
    box = dialog(page)
    box.get_by_label("Comment").fill("Which bridge?")
    box.get_by_role("button", name="Send").click()
    [row] = stored(page, live_server)
    assert row["article_url"] == live_server.url + "/news/first"
    assert row["article_text"].startswith("First story\n")


def test_a_selection_starting_outside_the_article_is_clipped_to_it(page, live_server):
    body = "<nav><p>Home · Sport</p></nav><article><p>Opening words of the story.</p></article>"
    serve_page(page, live_server, "/t/clip", body)
    page.evaluate(
        """() => getSelection().setBaseAndExtent(
            document.querySelector("nav p").firstChild, 2,
            document.querySelector("article p").firstChild, 7)"""
    )
    page.keyboard.press("Control+Enter")
    expect(dialog(page).locator("mark")).to_have_text("Opening")
    dialog(page).get_by_role("button", name="Send").click()
    [row] = stored(page, live_server)
    assert (row["exact"], row["start"], row["end"]) == ("Opening", 0, 7)


EMOJI_AND_CYRILLIC = """
<article>
  <h1>🔥 Пожар у мэрыі</h1>
  <p>Учора 🏛️ мэрыя   горада&nbsp;Гродна загарэлася 👨‍👩‍👧 — и\u0306 пажарныя 🇺🇦 прыехалі
  праз дзесяць хвілін.</p>
  <p>Ніхто не пацярпеў.</p>
</article>"""


def test_emoji_and_cyrillic_positions_agree_with_the_server(page, live_server):
    bodies = posted_bodies(page)
    serve_page(page, live_server, "/t/emoji", EMOJI_AND_CYRILLIC, lang="be")
    box = open_with_selection(page, "article", "пажарныя")
    expect(box.get_by_role("heading")).to_have_text("Паведаміць пра памылку")
    box.get_by_label("Як павінна быць").fill("пажарнікі")
    box.get_by_role("button", name="Адправіць").click()
    expect(box.get_by_role("status")).to_have_text("Дзякуй!")

    [row] = stored(page, live_server)
    [sent] = bodies
    text = row["article_text"]
    assert text == sent["article"]["text"]  # the server's normalisation changed nothing
    # Runs of spaces and a no-break space collapse; the decomposed short i is composed.
    assert "Учора 🏛️ мэрыя горада Гродна загарэлася 👨‍👩‍👧 — й пажарныя" in text
    assert text[row["start"] : row["end"]] == row["exact"] == "пажарныя"
    assert (sent["quote"]["start"], sent["quote"]["end"]) == (row["start"], row["end"])
    assert sent["quote"]["prefix"] == text[row["start"] - 32 : row["start"]]
    assert sent["quote"]["suffix"] == text[row["end"] : row["end"] + 32]
    assert len(sent["article"]["sha256"]) == 64


def test_a_selection_over_1000_characters_is_refused_before_sending(page, live_server):
    bodies = posted_bodies(page)
    long_text = " ".join(["word"] * 300)
    serve_page(page, live_server, "/t/long", f"<article><p>{long_text}</p></article>")
    select_by_script(page, "article p", long_text)
    page.keyboard.press("Control+Enter")
    box = dialog(page)
    expect(box.get_by_role("status")).to_have_text("Select at most 1000 characters.")
    expect(box.get_by_role("button", name="Send")).to_be_disabled()
    page.wait_for_timeout(300)
    assert bodies == []


@pytest.mark.parametrize(
    ("html_lang", "data_lang", "title"),
    [
        ("ru", "", "Сообщить об ошибке"),
        ("uk-UA", "", "Повідомити про помилку"),
        ("ru", 'data-lang="be"', "Паведаміць пра памылку"),
        ("fr", "", "Signaler une erreur"),
        ("nl", "", "Report an error"),
    ],
)
def test_language_from_data_lang_else_html_lang_else_english(
    page, live_server, html_lang, data_lang, title
):
    body = "<article><p>Text.</p></article>"
    path = f"/t/lang-{html_lang}-{bool(data_lang)}"
    serve_page(page, live_server, path, body, lang=html_lang, tag_attributes=data_lang)
    page.keyboard.press("Control+Enter")
    expect(dialog(page).get_by_role("heading")).to_have_text(title)


def test_the_page_is_left_alone_at_load(page, live_server):
    """Only window.ReaderFeedback is added; no DOM change, no request until the reader acts."""
    body = "<article><p>Nothing happens here.</p></article>"
    requests: list[str] = []
    page.on("request", lambda request: requests.append(request.url))
    # Watching from DOMContentLoaded on, once the parser has built the page itself.
    page.add_init_script(
        """window.__mutations = [];
        document.addEventListener("DOMContentLoaded", () => new MutationObserver(
            (list) => window.__mutations.push(...list.map((m) => m.type))
        ).observe(document, {subtree: true, childList: true, attributes: true,
                             characterData: true}));"""
    )
    bare = f"{live_server.url}/t/bare"
    html = f"<html><body>{body}</body></html>"
    page.route(bare, lambda route: route.fulfill(content_type="text/html", body=html))
    page.goto(bare)
    before = set(page.evaluate("Object.getOwnPropertyNames(window)"))

    serve_page(page, live_server, "/t/quiet", body)
    page.wait_for_timeout(3000)  # past the retry of kept reports, which finds none
    after = set(page.evaluate("Object.getOwnPropertyNames(window)"))
    assert after - before == {"ReaderFeedback"}
    assert page.evaluate("window.__mutations") == []
    assert page.evaluate("document.body.innerHTML") == body
    assert page.evaluate("[...document.querySelectorAll('*')].some((e) => e.shadowRoot)") is False
    assert [url for url in requests if API_PATH in url] == []
    assert page.evaluate("Object.keys(ReaderFeedback).sort()") == ["open", "version"]
    assert page.evaluate("ReaderFeedback.version") == "0.1.0"


def test_reader_feedback_open_opens_the_dialog(page, live_server):
    serve_page(
        page, live_server, "/t/api", "<article><p>Opened from the page's own menu.</p></article>"
    )
    select_by_script(page, "article p", "menu")
    page.evaluate("ReaderFeedback.open()")
    expect(dialog(page).locator("mark")).to_have_text("menu")


STORY = "The council met on Tuesday and voted to reopen the harbour ferry next spring. " * 3


@pytest.mark.parametrize(
    ("head", "expected"),
    [
        # On the page's own origin: the canonical link.
        ('<link rel="canonical" href="/news/ferry?from=home">', "/news/ferry?from=home"),
        # Elsewhere (a syndicated copy's canonical): the page's own address, no fragment.
        ('<link rel="canonical" href="https://partner.example/ferry">', "/t/url-away"),
        ("", "/t/url-away"),
    ],
)
def test_the_article_url_is_the_canonical_only_on_the_pages_own_origin(
    page, live_server, head, expected
):
    bodies = posted_bodies(page)
    url = serve_page(
        page, live_server, "/t/url-away", f"<article><p>{STORY}</p></article>", head=head
    )
    page.goto(url + "#comments")
    page.wait_for_function("window.ReaderFeedback")
    box = open_with_selection(page, "article", "Tuesday")
    box.get_by_role("button", name="Send").click()
    expect(box.get_by_role("status")).to_have_text("Thank you!")
    assert bodies[0]["article"]["url"] == live_server.url + expected


def test_data_feedback_url_is_sent_whatever_the_canonical(page, live_server):
    bodies = posted_bodies(page)
    body = f'<article data-feedback-url="/news/own"><p>{STORY}</p></article>'
    head = '<link rel="canonical" href="https://partner.example/ferry">'
    serve_page(page, live_server, "/t/url-own", body, head=head)
    box = open_with_selection(page, "article", "Tuesday")
    box.get_by_role("button", name="Send").click()
    expect(box.get_by_role("status")).to_have_text("Thank you!")
    assert bodies[0]["article"]["url"] == live_server.url + "/news/own"


def test_a_selection_outside_the_marked_articles_is_said_so(page, live_server):
    bodies = posted_bodies(page)
    body = (
        "<p id=promo>Subscribe today for the whole winter.</p>"
        f"<div data-feedback-article><p>{STORY}</p></div>"
    )
    serve_page(page, live_server, "/t/unplaced", body)
    box = open_with_selection(page, "#promo", "whole winter")
    expect(box.get_by_role("status")).to_have_text(
        "The selected words are not in the article. You can still send a note about it."
    )
    expect(box.locator("mark")).to_have_count(0)
    expect(box.get_by_label("Suggested correction")).to_be_hidden()
    box.get_by_label("Comment").fill("The promo is out of date.")
    box.get_by_role("button", name="Send").click()
    expect(box.get_by_role("status")).to_have_text("Thank you!")
    assert "quote" not in bodies[0]
    assert bodies[0]["article"]["text"] == STORY.strip()


def test_a_loader_cached_from_an_older_release_still_opens_the_newest_dialog(page, live_server):
    """After an upgrade the service no longer has the chunk an old loader names: the loader
    falls back to the chunk's stable name, and the newest dialog speaks its interface."""
    requested: list[str] = []
    page.route("**/feedback-dialog.*.js*", lambda route: route.fulfill(status=404, body=""))
    page.on("request", lambda request: requested.append(request.url))
    serve_page(page, live_server, "/t/old-loader", f"<article><p>{STORY}</p></article>")
    box = open_with_selection(page, "article", "harbour ferry")
    expect(box.locator("mark")).to_have_text("harbour ferry")
    chunks = [url.split("/")[-1] for url in requested if "feedback-dialog" in url]
    assert chunks[0] != "feedback-dialog.js"  # the hashed name first
    assert chunks[-1] == "feedback-dialog.js"
    box.get_by_role("button", name="Send").click()
    expect(box.get_by_role("status")).to_have_text("Thank you!", timeout=20_000)
