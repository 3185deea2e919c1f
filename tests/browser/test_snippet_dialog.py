"""The reader's dialog in Chromium: preview, thank-you, field errors at their fields in the
dialog's language, focus return, languages and direction, dark mode, phones, theming."""

# ruff: noqa: RUF001 - Cyrillic, Hebrew and Arabic text is the point of these tests

from __future__ import annotations

import pytest
from playwright.sync_api import Page, expect

from tests.browser.test_snippet import (
    SHADOW,
    dialog,
    no_suggestions_yet,  # noqa: F401 - an autouse fixture, used by being here
    open_with_selection,
    posted_bodies,
    select_by_script,
    serve_page,
    stored,
)
from tests.browser.test_snippet_access import assert_no_axe_violations

pytestmark = pytest.mark.browser

# Each in <main>: axe wants every part of a page in a landmark.
STORY = (
    "<main><article><h1>Harbour ferry returns</h1><p>The ferry reached the island a minute "
    "faster then the timetable promises, the harbour board said on Monday.</p></article></main>"
)
RUSSIAN = (
    "<main><article><h1>Паром вернулся</h1><p>Паром вернулся на линию в понедельник после "
    "зимнего ремонта, сообщил совет порта.</p></article></main>"
)
HEBREW = (
    "<main><article><h1>המעבורת חוזרת</h1><p>המעבורת של הנמל חזרה לשירות ביום שני אחרי "
    "חורף של תיקונים.</p></article></main>"
)
PHONE = {"viewport": {"width": 390, "height": 844}, "has_touch": True, "is_mobile": True}


def in_dialog(page: Page, script: str):
    """Evaluate ``script`` (an expression over `dlg`, the <dialog>) in the page."""
    return page.evaluate(
        f"(() => {{ const dlg = {SHADOW}.querySelector('dialog'); return {script}; }})()"
    )


def test_preview_shows_the_change_word_by_word(page, live_server):
    serve_page(page, live_server, "/t/d-preview", STORY)
    box = open_with_selection(page, "article p", "faster then the")
    preview = box.locator("#p")
    expect(preview).to_have_text("Edit the words above to suggest the fix.")
    box.get_by_label("Suggested correction").fill("faster than the")
    expect(preview).to_have_text("Change: faster then than the")
    expect(preview.locator("del")).to_have_text("then")
    expect(preview.locator("ins")).to_have_text("than")
    # The correction field names the preview as its description.
    assert "p" in box.get_by_label("Suggested correction").get_attribute("aria-describedby")


def test_thank_you_says_what_happens_next_and_where_we_will_write(page, live_server):
    serve_page(page, live_server, "/t/d-thanks", STORY)
    box = open_with_selection(page, "article p", "then")
    box.get_by_label("Suggested correction").fill("than")
    box.get_by_label("Email").fill("ada@example.com")
    box.get_by_label("Tell me what happened to it").check()
    box.get_by_role("button", name="Send").click()
    expect(box.get_by_role("status")).to_have_text("Thank you!")
    expect(box.locator("#dn")).to_have_text(
        "The editors will read your report and correct the article if it needs it."
    )
    expect(box.locator("#dm")).to_have_text("We’ll email you at ada@example.com when they do.")
    expect(box.locator("form")).to_be_hidden()
    [row] = stored(page, live_server)
    assert (row["reporter_email"], row["notify"]) == ("ada@example.com", True)


def test_thank_you_without_the_mail_line_when_not_asked(page, live_server):
    serve_page(page, live_server, "/t/d-thanks-quiet", STORY)
    box = open_with_selection(page, "article p", "then")
    box.get_by_label("Email").fill("ada@example.com")  # given, but no news asked for
    box.get_by_role("button", name="Send").click()
    expect(box.get_by_role("status")).to_have_text("Thank you!")
    expect(box.locator("#dn")).to_be_visible()
    expect(box.locator("#dm")).to_be_hidden()


def test_server_field_errors_are_shown_at_their_fields_in_russian(page, live_server):
    bodies = posted_bodies(page)
    serve_page(page, live_server, "/t/d-ru-errors", RUSSIAN, lang="ru")
    box = open_with_selection(page, "article p", "понедельник")
    expect(box.get_by_role("heading")).to_have_text("Сообщить об ошибке")
    email = box.get_by_label("Эл. почта")
    # Passes the dialog's own check (name@domain.tld), but the server refuses it.
    email.fill("anna..k@example.com")
    box.get_by_role("button", name="Отправить").click()
    expect(box.locator("#e-er")).to_have_text("Это не похоже на адрес эл. почты.")
    expect(box.get_by_role("status")).to_have_text("Не отправлено: проверьте отмеченные поля.")
    assert email.get_attribute("aria-invalid") == "true"
    assert email.get_attribute("aria-describedby") == "e-er"
    expect(email).to_be_focused()
    assert len(bodies) == 1  # it was the server's answer
    expect(box).not_to_contain_text("Not a valid email")  # no raw English message
    assert_no_axe_violations(page)

    # Typing in the field clears its mark; the next refusal is another field's.
    email.fill("anna@example.com")
    expect(box.locator("#e-er")).to_be_hidden()
    assert email.get_attribute("aria-invalid") is None
    box.get_by_label("Ваше имя").fill("Анна\u0007")
    box.get_by_role("button", name="Отправить").click()
    expect(box.locator("#n-er")).to_have_text("Напишите в одну строку.")
    assert live_server.suggestions() == []

    box.get_by_label("Ваше имя").fill("Анна")
    box.get_by_role("button", name="Отправить").click()
    expect(box.get_by_role("status")).to_have_text("Спасибо!")
    expect(box.locator("#dn")).to_have_text(
        "Редакция прочтёт сообщение и исправит статью, если нужно."
    )
    [row] = stored(page, live_server)
    assert (row["reporter_name"], row["reporter_email"]) == ("Анна", "anna@example.com")


def test_the_dialog_checks_the_email_before_sending(page, live_server):
    bodies = posted_bodies(page)
    serve_page(page, live_server, "/t/d-email-needed", STORY)
    box = open_with_selection(page, "article p", "then")
    box.get_by_label("Tell me what happened to it").check()
    box.get_by_role("button", name="Send").click()
    expect(box.locator("#e-er")).to_have_text("Give your email so that we can tell you.")
    expect(box.get_by_label("Email")).to_be_focused()
    box.get_by_label("Email").fill("not-an-address")
    box.get_by_role("button", name="Send").click()
    expect(box.locator("#e-er")).to_have_text("This does not look like an email address.")
    page.wait_for_timeout(300)
    assert bodies == []


def test_escape_puts_the_selection_back(page, live_server):
    serve_page(page, live_server, "/t/d-focus", STORY)
    box = open_with_selection(page, "article p", "minute")
    expect(box.get_by_label("Suggested correction")).to_be_focused()
    page.keyboard.press("Escape")
    expect(box).to_be_hidden()
    # The dialog's close event, which puts the selection back, comes a task later.
    page.wait_for_function("getSelection().toString() === 'minute'")
    # So the reader can press the shortcut again at once.
    page.keyboard.press("Control+Enter")
    expect(box.locator("mark")).to_have_text("minute")
    box.get_by_role("button", name="Close").click()  # the close button in the corner
    expect(box).to_be_hidden()
    page.wait_for_function("getSelection().toString() === 'minute'")


def test_focus_returns_to_the_opener_after_sending(page, live_server):
    body = STORY.replace("</article>", "<button data-feedback-open>Note</button></article>")
    serve_page(page, live_server, "/t/d-focus-opener", body)
    opener = page.get_by_role("button", name="Note")
    opener.click()
    box = dialog(page)
    expect(box.get_by_label("What is wrong?")).to_have_value("other")  # a note, no quote
    box.get_by_label("Comment").fill("Which ferry?")
    page.keyboard.press("Control+Enter")  # sends from inside the dialog
    expect(box.get_by_role("status")).to_have_text("Thank you!")
    page.keyboard.press("Enter")  # Close has the focus
    expect(box).to_be_hidden()
    expect(opener).to_be_focused()
    [row] = stored(page, live_server)
    assert (row["comment"], row["kind"]) == ("Which ferry?", "other")


def test_an_english_dialog_on_a_right_to_left_page_reads_left_to_right(page, live_server):
    body = (
        "<article><h1>المعدية تعود</h1><p>The ferry returned to service on Monday after "
        "a winter of repairs.</p></article>"
    )
    serve_page(page, live_server, "/t/d-rtl-en", body, lang="ar", tag_attributes='data-lang="en"')
    page.evaluate("document.documentElement.dir = 'rtl'")
    box = open_with_selection(page, "article p", "Monday")
    expect(box.get_by_role("heading")).to_have_text("Report an error")
    assert in_dialog(page, "getComputedStyle(dlg).direction") == "ltr"
    tick = box.get_by_label("Tell me what happened to it").bounding_box()
    label = box.locator(".ck").bounding_box()
    assert abs(tick["x"] - label["x"]) < 2  # the checkbox starts the line, on the left
    title = box.get_by_role("heading").bounding_box()
    close = box.get_by_role("button", name="Close").bounding_box()
    assert title["x"] < close["x"]  # the close button on the right
    send = box.get_by_role("button", name="Send").bounding_box()
    cancel = box.get_by_role("button", name="Cancel").bounding_box()
    assert cancel["x"] < send["x"]


def test_a_hebrew_dialog_reads_right_to_left_on_any_page(page, live_server):
    serve_page(page, live_server, "/t/d-he", HEBREW, lang="he")  # the page itself says ltr
    box = open_with_selection(page, "article p", "תיקונים")
    expect(box.get_by_role("heading")).to_have_text("דיווח על טעות")
    assert in_dialog(page, "getComputedStyle(dlg).direction") == "rtl"
    assert in_dialog(page, "dlg.lang") == "he"
    title = box.get_by_role("heading").bounding_box()
    close = box.get_by_role("button", name="סגירה").bounding_box()
    assert close["x"] < title["x"]  # the close button on the left
    send = box.get_by_role("button", name="שליחה").bounding_box()
    cancel = box.get_by_role("button", name="ביטול").bounding_box()
    assert send["x"] < cancel["x"]
    tick = box.get_by_label("עדכנו אותי מה עלה בגורל הדיווח").bounding_box()
    line = box.locator(".ck").bounding_box()
    assert tick["x"] + tick["width"] > line["x"] + line["width"] - 2  # on the right
    assert_no_axe_violations(page)
    box.get_by_label("תיקון מוצע").fill("שיפוצים")
    box.get_by_role("button", name="שליחה").click()
    expect(box.get_by_role("status")).to_have_text("תודה!")
    [row] = stored(page, live_server)
    assert (row["exact"], row["replacement"]) == ("תיקונים", "שיפוצים")


def test_the_language_comes_from_the_article_then_the_page(page, live_server):
    requests: list[str] = []
    page.on("request", lambda request: requests.append(request.url))
    body = RUSSIAN.replace("<article>", "<article lang=de>")
    serve_page(page, live_server, "/t/d-lang-article", body, lang="ru")
    box = open_with_selection(page, "article p", "понедельник")
    expect(box.get_by_role("heading")).to_have_text("Fehler melden")
    expect(box.get_by_role("button", name="Senden")).to_be_visible()
    # English is in the dialog chunk; German, and Russian for the page, came as chunks.
    assert any("/static/js/feedback-lang-de." in url for url in requests)
    assert not any("feedback-lang-en" in url for url in requests)


def test_dark_mode(browser, live_server):
    context = browser.new_context(color_scheme="dark")
    try:
        page = context.new_page()
        serve_page(page, live_server, "/t/d-dark", STORY)
        box = open_with_selection(page, "article p", "then")
        colours = in_dialog(
            page,
            "[getComputedStyle(dlg).backgroundColor, getComputedStyle(dlg).color,"
            " getComputedStyle(dlg.querySelector('#s')).backgroundColor]",
        )
        assert colours[:2] == ["rgb(31, 31, 36)", "rgb(236, 236, 241)"]
        assert colours[2] != "rgb(29, 78, 216)"  # the lighter accent of the dark scheme
        box.get_by_label("Suggested correction").fill("than")
        assert_no_axe_violations(page)
        box.get_by_label("Email").fill("ada@example.com")
        box.get_by_label("Tell me what happened to it").check()
        box.get_by_role("button", name="Send").click()
        expect(box.locator("#dm")).to_be_visible()
        assert_no_axe_violations(page)
    finally:
        context.close()


def test_a_bottom_sheet_on_a_phone_driven_by_touch(browser, live_server):
    context = browser.new_context(**PHONE)
    try:
        page = context.new_page()
        serve_page(page, live_server, "/t/d-phone", STORY)
        page.tap("article p")  # a finger
        select_by_script(page, "article p", "then")
        page.get_by_role("button", name="Report an error").tap()
        box = dialog(page)
        expect(box.locator("mark")).to_have_text("then")
        frame = box.bounding_box()
        assert frame["x"] == 0
        assert frame["width"] == 390
        assert abs(frame["y"] + frame["height"] - 844) < 1  # along the bottom edge
        for control in box.locator("select, textarea, input:not(.h), button").all():
            if control.is_visible():
                size = control.bounding_box()
                assert size["height"] >= 44 or control.get_attribute("type") == "checkbox"
        assert box.locator(".ck").bounding_box()["height"] >= 44  # the checkbox's whole line
        box.get_by_label("Suggested correction").fill("than")
        box.get_by_role("button", name="Send").tap()
        expect(box.get_by_role("status")).to_have_text("Thank you!")
        box.get_by_role("button", name="Close").last.tap()
        expect(box).to_be_hidden()
        [row] = stored(page, live_server)
        assert (row["exact"], row["replacement"]) == ("then", "than")
    finally:
        context.close()


def test_on_a_page_a_phone_shows_scaled_down_the_dialog_keeps_its_size(browser, live_server):
    context = browser.new_context(**PHONE)
    try:
        page = context.new_page()
        url = f"{live_server.url}/t/d-no-viewport"
        html = (
            f"<!doctype html><html lang=en><head><title>No viewport</title>"
            f'<script src="{live_server.url}/static/js/feedback.js" '
            f'data-site="{live_server.site_key}" async></script></head><body>{STORY}</body></html>'
        )
        page.route(url, lambda route: route.fulfill(content_type="text/html", body=html))
        page.goto(url)
        page.wait_for_function("window.ReaderFeedback")
        scale = page.evaluate("visualViewport.scale")
        assert scale < 0.5
        select_by_script(page, "article p", "then")
        page.keyboard.press("Control+Enter")
        box = dialog(page)
        expect(box).to_be_visible()
        send = box.get_by_role("button", name="Send").bounding_box()
        assert send["height"] * scale > 43.9  # 44 pixels on the screen, give or take rounding
        font = in_dialog(page, "parseFloat(getComputedStyle(dlg).fontSize)")
        zoom = in_dialog(page, "parseFloat(dlg.style.zoom)")
        assert font * zoom * scale >= 15.5
    finally:
        context.close()


def test_the_site_themes_the_dialog_through_the_tag(page, live_server):
    attributes = 'data-accent="#b91c1c" data-radius="4px" data-font="Georgia, serif"'
    serve_page(page, live_server, "/t/d-theme", STORY, tag_attributes=attributes)
    open_with_selection(page, "article p", "then")
    send = in_dialog(
        page,
        "(s => [s.backgroundColor, s.borderTopLeftRadius, s.fontFamily])"
        "(getComputedStyle(dlg.querySelector('#s')))",
    )
    assert send == ["rgb(185, 28, 28)", "2px", "Georgia, serif"]  # buttons: half the radius


def test_the_page_themes_the_dialog_through_custom_properties(page, live_server):
    head = "<style>:root { --reader-feedback-accent: rgb(0, 100, 0); }</style>"
    # A value CSS would not take for a colour is ignored, not passed on.
    serve_page(
        page, live_server, "/t/d-theme-css", STORY, head=head, tag_attributes='data-accent="red; x"'
    )
    open_with_selection(page, "article p", "then")
    assert (
        in_dialog(page, "getComputedStyle(dlg.querySelector('#s')).backgroundColor")
        == "rgb(0, 100, 0)"
    )


def test_a_language_chunk_that_cannot_be_had_gives_an_english_dialog(page, live_server):
    page.route("**/feedback-lang-de.*", lambda route: route.abort())
    body = STORY.replace("<article>", "<article lang=de>")
    serve_page(page, live_server, "/t/d-lang-missing", body)
    box = open_with_selection(page, "article p", "then")
    expect(box.get_by_role("heading")).to_have_text("Report an error")
    box.get_by_role("button", name="Send").click()
    expect(box.get_by_role("status")).to_have_text("Thank you!")
    assert len(stored(page, live_server)) == 1


def test_the_touch_button_speaks_the_dialogs_language_in_the_sites_colours(browser, live_server):
    context = browser.new_context(**PHONE)
    try:
        page = context.new_page()
        serve_page(
            page,
            live_server,
            "/t/d-he-touch",
            HEBREW,
            lang="he",
            tag_attributes='data-accent="#0f766e"',
        )
        page.tap("article p")
        select_by_script(page, "article p", "תיקונים")
        button = page.get_by_role("button", name="דיווח על טעות")
        expect(button).to_be_visible()
        style = button.evaluate(
            "b => [b.lang, getComputedStyle(b).direction, getComputedStyle(b).backgroundColor]"
        )
        assert style == ["he", "rtl", "rgb(15, 118, 110)"]
        button.tap()
        expect(dialog(page).get_by_role("heading")).to_have_text("דיווח על טעות")
    finally:
        context.close()
