"""The mail settings page, the server secret and the stats page in Chromium: by keyboard,
at phone width, and with axe."""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import Page, expect
from sqlalchemy import select

from feedback.demo import DEMO_EDITOR_EMAIL
from feedback.extensions import db
from feedback.models import Site, User
from tests.browser.editor_helpers import post_report, sign_in
from tests.browser.test_snippet_access import assert_no_axe_violations

pytestmark = pytest.mark.browser


def demo_site_id(live_server) -> int:
    with live_server.app.app_context():
        site_id = db.session.scalar(select(Site.id).where(Site.public_key == live_server.site_key))
        db.session.remove()
        return site_id


def editor_zone(live_server) -> str:
    with live_server.app.app_context():
        zone = db.session.scalar(select(User.timezone).where(User.email == DEMO_EDITOR_EMAIL))
        db.session.remove()
        return zone


def no_horizontal_scroll(page: Page) -> None:
    width = page.evaluate("document.documentElement.scrollWidth")
    assert width <= page.viewport_size["width"], width


def test_time_zone_by_keyboard_and_a_refused_zone(page, live_server):
    sign_in(page, live_server)
    page.goto(live_server.url + "/editor/notifications")
    expect(page.locator("header.topbar")).to_be_visible()
    zone = page.get_by_label(re.compile("Daily digests go out at your local hour"))
    # Searchable: the common zones come first in the list the field offers.
    options = page.locator("#zones option").evaluate_all("(all) => all.map((o) => o.value)")
    assert options[:2] == ["UTC", "Europe/London"]
    assert len(options) > 400
    assert_no_axe_violations(page)

    zone.focus()
    page.keyboard.press("Control+A")
    page.keyboard.type("Europe/Atlantis")
    with page.expect_navigation():
        page.keyboard.press("Enter")
    error = page.locator("#timezone-error")
    expect(error).to_contain_text("“Europe/Atlantis” is not a time zone")
    expect(zone).to_be_focused()
    expect(zone).to_have_attribute("aria-invalid", "true")
    assert editor_zone(live_server) != "Europe/Atlantis"
    assert_no_axe_violations(page)

    page.keyboard.press("Control+A")
    page.keyboard.type("Asia/Kolkata")
    with page.expect_navigation(url=f"{live_server.url}/editor/notifications"):
        page.keyboard.press("Enter")
    expect(page.get_by_role("status")).to_have_text("Mail settings saved.")
    expect(zone).to_have_value("Asia/Kolkata")
    assert editor_zone(live_server) == "Asia/Kolkata"


def test_mail_settings_fit_a_phone(browser, live_server):
    context = browser.new_context(viewport={"width": 390, "height": 844})
    try:
        page = context.new_page()
        sign_in(page, live_server)
        page.goto(live_server.url + "/editor/notifications")
        expect(page.get_by_role("button", name="Save the mail settings")).to_be_visible()
        no_horizontal_scroll(page)
    finally:
        context.close()


def test_new_secret_only_after_confirming(page, live_server):
    sign_in(page, live_server)
    page.goto(f"{live_server.url}/editor/sites/{demo_site_id(live_server)}/settings")
    make = page.get_by_role("button", name="Make a new secret")
    make.click()
    # The browser holds the form back until the box is ticked: nothing was made.
    expect(page.locator("#new-secret")).to_have_count(0)
    confirm = page.get_by_label(re.compile("the current secret stops working at once"))
    confirm.focus()
    page.keyboard.press("Space")
    expect(confirm).to_be_checked()
    make.focus()
    with page.expect_navigation():
        page.keyboard.press("Enter")
    expect(page.locator("#new-secret")).to_have_text(re.compile(r"^fbs_"))
    assert_no_axe_violations(page)


def test_stats_show_share_bars_and_the_previous_period(browser, live_server):
    post_report(live_server, exact="ferry", replacement="boat")
    for viewport in ({"width": 1280, "height": 800}, {"width": 390, "height": 844}):
        context = browser.new_context(viewport=viewport)
        try:
            page = context.new_page()
            sign_in(page, live_server)
            page.goto(f"{live_server.url}/editor/sites/{demo_site_id(live_server)}/stats?days=7")
            expect(page.locator(".period-compare")).to_contain_text("The 7 days before")
            typo = page.locator("table.shares").first.locator(
                "tr", has=page.locator("th", has_text="typo")
            )
            bar = typo.locator("rect.now")
            assert float(bar.get_attribute("width")) > 0
            assert bar.bounding_box()["width"] > 0
            no_horizontal_scroll(page)
            assert_no_axe_violations(page)
        finally:
            context.close()


def test_account_page_refuses_a_wrong_password_and_signs_out_everywhere(browser, live_server):
    # Two browsers signed in as the same editor.
    other = browser.new_context()
    context = browser.new_context(viewport={"width": 390, "height": 844})
    try:
        elsewhere = other.new_page()
        sign_in(elsewhere, live_server)
        page = context.new_page()
        sign_in(page, live_server)
        page.get_by_role("link", name="Account").click()
        expect(page.get_by_role("heading", name="Your account")).to_be_visible()
        # Other tests signed in as this editor too.
        expect(
            page.get_by_text(re.compile(r"On \d+ browsers, this one included\."))
        ).to_be_visible()
        no_horizontal_scroll(page)
        assert_no_axe_violations(page)

        page.get_by_label("Current password").fill("not the password at all")
        page.get_by_label("New password (at least 10 characters)").fill("a new passphrase")
        page.get_by_label("The same again").fill("a new passphrase")
        with page.expect_navigation():
            page.get_by_role("button", name="Change the password").click()
        expect(page.locator("#current_password-error")).to_have_text(
            "That is not your current password."
        )
        expect(page.get_by_label("Current password")).to_be_focused()
        assert_no_axe_violations(page)

        with page.expect_navigation(url=f"{live_server.url}/editor/sign-in"):
            page.get_by_role("button", name="Sign out everywhere").click()
        expect(page.get_by_role("status")).to_have_text(
            re.compile(r"^You are signed out everywhere \(\d+ browsers\)\.$")
        )
        elsewhere.goto(live_server.url + "/editor/")
        expect(elsewhere).to_have_url(re.compile(r"/editor/sign-in\?next="))
    finally:
        context.close()
        other.close()
