"""The dialog for everyone: axe-core, the keyboard alone, a 320-pixel screen, dark mode; and
a page set against it."""

from __future__ import annotations

import pytest
from axe_playwright_python.sync_playwright import Axe
from playwright.sync_api import Page, expect

from tests.browser.test_snippet import (
    SHADOW,
    dialog,
    no_suggestions_yet,  # noqa: F401 - an autouse fixture, used by being here
    open_demo,
    open_with_selection,
    select_by_script,
    serve_page,
    stored,
)

pytestmark = pytest.mark.browser


def assert_no_axe_violations(page: Page) -> None:
    results = Axe().run(page)
    assert results.violations_count == 0, results.generate_report()


@pytest.mark.parametrize("scheme", ["light", "dark"])
def test_no_axe_violations_with_the_dialog_open(browser, live_server, scheme):
    context = browser.new_context(color_scheme=scheme)
    try:
        page = context.new_page()
        open_demo(page, live_server)
        box = open_with_selection(page, "article", "then")
        assert_no_axe_violations(page)
        # A field the server refused, then the thank-you.
        box.get_by_label("Email").fill("reader@localhost-no-dot")
        box.get_by_role("button", name="Send").click()
        expect(box.get_by_role("status")).to_contain_text("Not sent")
        assert_no_axe_violations(page)
        box.get_by_label("Email").fill("")
        box.get_by_role("button", name="Send").click()
        expect(box.get_by_role("status")).to_have_text("Thank you!")
        assert_no_axe_violations(page)
    finally:
        context.close()


def focused_in_dialog(page: Page) -> str | None:
    """The id of the dialog's focused control; None when focus is outside the dialog."""
    return page.evaluate(
        """() => {
            const inner = document.activeElement?.shadowRoot?.activeElement;
            return inner && inner.closest("dialog") ? inner.id : null;
        }"""
    )


def test_keyboard_only(page, live_server):
    open_demo(page, live_server)
    opener = page.get_by_role("button", name="send a note about the whole article")
    opener.focus()
    page.keyboard.press("Enter")
    box = dialog(page)
    expect(box).to_be_visible()
    assert box.get_attribute("aria-modal") == "true"
    assert focused_in_dialog(page) == "c"  # the comment: there is no quote to correct

    # Tab goes round every control and never leaves the dialog; Shift+Tab the same way back.
    # Not to the hidden correction field, nor to the field left empty for spam robots.
    every_control = {"x", "k", "c", "n", "e", "y", "v", "s"}
    forwards = []
    for _ in range(12):
        page.keyboard.press("Tab")
        forwards.append(focused_in_dialog(page))
    assert set(forwards) == every_control
    backwards = []
    for _ in range(12):
        page.keyboard.press("Shift+Tab")
        backwards.append(focused_in_dialog(page))
    assert set(backwards) == every_control

    # Focus can be seen: the focused control draws an outline.
    outline = page.evaluate(
        "getComputedStyle(document.activeElement.shadowRoot.activeElement).outlineStyle"
    )
    assert outline not in ("none", "")

    # Esc closes, and focus is back where it was.
    while focused_in_dialog(page) != "k":
        page.keyboard.press("Tab")
    page.keyboard.press("ArrowDown")
    page.keyboard.press("Tab")
    page.keyboard.type("Half a thought")
    page.keyboard.press("Escape")
    expect(box).to_be_hidden()
    expect(opener).to_be_focused()

    # Open again (empty now), write, send and close, all from the keyboard.
    page.keyboard.press("Enter")
    expect(box).to_be_visible()
    expect(box.get_by_label("Comment")).to_have_value("")
    expect(box.get_by_label("Comment")).to_be_focused()  # the dialog focuses it as it opens
    page.keyboard.type("Keyboard only")
    while focused_in_dialog(page) != "s":
        page.keyboard.press("Tab")
    page.keyboard.press("Enter")
    expect(box.get_by_role("status")).to_have_text("Thank you!")
    assert focused_in_dialog(page) == "z"  # Close
    page.keyboard.press("Enter")
    expect(box).to_be_hidden()
    expect(opener).to_be_focused()
    [row] = stored(page, live_server)
    assert row["comment"] == "Keyboard only"


def test_cancel_closes_and_sends_nothing(page, live_server):
    open_demo(page, live_server)
    box = open_with_selection(page, "article", "then")
    box.get_by_role("button", name="Cancel").click()
    expect(box).to_be_hidden()
    page.wait_for_timeout(300)
    assert live_server.suggestions() == []


def test_fits_a_320_pixel_screen(browser, live_server):
    context = browser.new_context(viewport={"width": 320, "height": 568})
    try:
        page = context.new_page()
        open_demo(page, live_server)
        box = open_with_selection(page, "article", "then")
        frame = box.bounding_box()
        assert frame["x"] >= 0
        assert frame["x"] + frame["width"] <= 320
        for name in ("Suggested correction", "Comment", "Your name", "Email"):
            field = box.get_by_label(name).bounding_box()
            assert frame["x"] < field["x"]
            assert field["x"] + field["width"] < frame["x"] + frame["width"]
        assert page.evaluate(f"{SHADOW}.querySelector('dialog').scrollWidth") <= frame["width"]
        box.get_by_role("button", name="Send").click()
        expect(box.get_by_role("status")).to_have_text("Thank you!")
    finally:
        context.close()


def test_follows_the_colour_scheme(browser, live_server):
    brightness = {}
    for scheme in ("light", "dark"):
        context = browser.new_context(color_scheme=scheme)
        try:
            page = context.new_page()
            open_demo(page, live_server)
            open_with_selection(page, "article", "then")
            brightness[scheme] = page.evaluate(
                f"""() => {{
                    const dialog = {SHADOW}.querySelector("dialog");
                    const rgb = getComputedStyle(dialog).backgroundColor.match(/\\d+/g);
                    return rgb.slice(0, 3).map(Number).reduce((a, b) => a + b) / 3;
                }}"""
            )
        finally:
            context.close()
    assert brightness["light"] > 200
    assert brightness["dark"] < 60


HOSTILE = """<style>
* { display: inline !important; font: 0/0 serif !important; color: red !important;
    background: red !important; visibility: hidden !important; pointer-events: none !important;
    position: static !important; box-sizing: content-box !important; z-index: -1 !important; }
div, dialog, form, button, textarea, input, select, label, p { display: none !important; }
article, article * { display: block !important; font: 16px/1.5 serif !important;
    visibility: visible !important; pointer-events: auto !important; }
[hidden] { display: block !important; }
:focus, :focus-visible { outline: none !important; }
</style>
<script>
  // Names a page might use itself, and shortcut handlers that swallow keys.
  var u = 1, L = "x", me = null, STRINGS = [], norm = 0;
  document.addEventListener("keydown", (event) => {
    event.stopPropagation();
    if (event.key.length === 1) event.preventDefault();
  });
  document.addEventListener("keyup", (event) => event.stopPropagation());
</script>"""


def test_a_hostile_page_cannot_break_the_dialog(page, live_server):
    body = "<article><div><p>A line with a mistaek in it.</p></div></article>"
    serve_page(page, live_server, "/t/hostile", body, head=HOSTILE)
    select_by_script(page, "article p", "mistaek")
    page.keyboard.press("Control+Enter")
    box = dialog(page)
    expect(box).to_be_visible()
    size = box.bounding_box()
    assert size["width"] > 200
    assert size["height"] > 200
    expect(box.locator("mark")).to_have_text("mistaek")
    correction = box.get_by_label("Suggested correction")
    correction.press("End")
    correction.press("Backspace")
    correction.press("Backspace")
    correction.press_sequentially("ke")  # key by key, past the page's key handlers
    expect(correction).to_have_value("mistake")
    box.get_by_role("button", name="Send").click()  # visible, enabled, not covered
    expect(box.get_by_role("status")).to_have_text("Thank you!")
    [row] = stored(page, live_server)
    assert (row["exact"], row["replacement"]) == ("mistaek", "mistake")
    assert page.evaluate("[u, L, me, norm]") == [1, "x", None, 0]  # the page's names intact


def test_the_honeypot_is_out_of_sight_and_out_of_reach(page, live_server):
    """People never meet the field left for robots; a robot that fills it is marked as spam."""
    open_demo(page, live_server)
    box = open_with_selection(page, "article", "then")
    trap = box.locator("#w")
    assert trap.get_attribute("aria-hidden") == "true"
    assert trap.get_attribute("tabindex") == "-1"
    place = trap.bounding_box()
    assert place["x"] + place["width"] < 0  # off-screen
    trap.fill("https://spam.example")
    box.get_by_role("button", name="Send").click()
    expect(box.get_by_role("status")).to_have_text("Thank you!")  # a robot learns nothing
    [row] = stored(page, live_server)
    assert row["status"] == "spam"
