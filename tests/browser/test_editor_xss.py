"""Readers' words are shown as text, never run: HTML and script in a quote, a suggested
replacement, a comment, a reporter's name, an article's title or URL, viewed in the editor
UI, in the mails and in the public corrections log.

Each page is checked twice: with the Content Security Policy the service sends, and with
the browser told to ignore it, so that escaping is tested on its own and the policy on
its own. The policy must not break the UI's own script either.
"""

from __future__ import annotations

import re
from xml.etree import ElementTree

import pytest
from playwright.sync_api import Page, Response, expect
from sqlalchemy import select

from feedback import revisions, workflow
from feedback.extensions import db
from feedback.models import (
    Article,
    OutboxMessage,
    RevisionSource,
    Site,
    Suggestion,
    SuggestionStatus,
)
from tests.browser.editor_helpers import (
    expect_current,
    open_queue,
    post_report,
    row_ids,
    sign_in,
)

pytestmark = pytest.mark.browser

IMG = '<img src=x onerror="window.__xss=1">'
SCRIPT = "<script>window.__xss=2</script>"
SVG = '"><svg onload=window.__xss=3>'
JS_URL = "javascript:window.__xss=4"
TITLE = "<script>window.__xss=5</script><img src=x onerror=window.__xss=6> Harbour news"
# No spaces: a browser's URL never has any, and the service refuses URLs with them.
URL_PATH = '/news/x"><img/src=x/onerror=window.__xss=7>'
TEXT = (
    f"The ferry notice read {IMG} at the quay. The timetable said {SCRIPT} for Monday. "
    f"A sign by the bridge showed {SVG} in red letters, and the link was {JS_URL} today."
)


@pytest.fixture(autouse=True)
def no_reports_yet(live_server):
    live_server.clear()


@pytest.fixture(params=[False, True], ids=["with-csp", "csp-bypassed"])
def bypass_csp(request) -> bool:
    return request.param


@pytest.fixture
def watched_page(browser, bypass_csp):
    """A page whose console messages and uncaught errors are kept as ``page.problems``."""
    context = browser.new_context(bypass_csp=bypass_csp)
    page = context.new_page()
    problems: list[str] = []

    def on_console(message) -> None:
        where = message.location.get("url", "")
        if not where.endswith("/favicon.ico"):  # the UI has none; Chromium asks anyway
            problems.append(f"console {message.type} at {where}: {message.text}")

    page.on("console", on_console)
    page.on("pageerror", lambda error: problems.append(f"pageerror: {error}"))
    page.problems = problems
    yield page
    context.close()


def post_payload_reports(live_server) -> list[str]:
    """Three reports on one article, with a payload in every field a reader controls."""
    common = {"text": TEXT, "title": TITLE, "path": URL_PATH}
    return [
        post_report(
            live_server,
            exact=IMG,
            replacement=JS_URL,
            comment=SCRIPT,
            reporter={"name": SVG, "email": "reader@example.org"},
            **common,
        ),
        post_report(
            live_server,
            exact=SCRIPT,
            replacement=SVG,
            comment=IMG,
            reporter={"name": SCRIPT},
            **common,
        ),
        post_report(
            live_server,
            exact=SVG,
            replacement=None,
            comment=JS_URL,
            reporter={"name": IMG},
            **common,
        ),
    ]


def assert_strict_script_policy(response: Response | None) -> None:
    assert response is not None
    assert response.ok, response.status
    policy = response.headers.get("content-security-policy", "")
    directives = {part.split()[0]: part.split()[1:] for part in policy.split(";") if part.strip()}
    assert "script-src" in directives, policy
    assert "'self'" in directives["script-src"], policy
    assert "'unsafe-inline'" not in directives["script-src"], policy
    assert "'unsafe-eval'" not in directives["script-src"], policy
    assert directives.get("object-src") == ["'none'"], policy


def diff_sides(page: Page, selector: str) -> tuple[str, str]:
    """The old and the new text of the first word diff under ``selector``."""
    return page.locator(f"{selector} .diff").first.evaluate(
        """(diff) => {
            const side = (skip) => [...diff.childNodes]
                .filter((node) => node.nodeName !== skip).map((node) => node.textContent).join("");
            return [side("INS"), side("DEL")];
        }"""
    )


def assert_nothing_ran(page: Page, payloads: list[str]) -> None:
    """No payload ran or became an element, each of ``payloads`` is on screen as text, and
    the page's own script met no error and no policy violation."""
    main = page.locator("main")
    for payload in payloads:
        expect(main).to_contain_text(payload)
    assert page.evaluate("window.__xss") is None
    assert page.locator('img[src="x"]').count() == 0
    assert page.locator("svg").count() == 0
    assert page.locator("script").count() == 1  # editor.js, nothing else
    assert page.locator("script").get_attribute("src") == "/static/editor/editor.js"
    assert page.locator("body [onerror], body [onload]").count() == 0
    assert page.locator('[href^="javascript:" i]').count() == 0
    expect(main.locator(":scope > p.announce")).to_have_count(1)  # editor.js ran
    assert not page.problems, page.problems


def test_payloads_stay_text_in_the_queue(watched_page: Page, live_server):
    page = watched_page
    first, second, third = post_payload_reports(live_server)
    sign_in(page, live_server)
    response = page.goto(live_server.url + "/editor/")
    assert_strict_script_policy(response)
    assert row_ids(page) == [third, second, first]
    assert_nothing_ran(page, [IMG, SCRIPT, SVG, JS_URL, TITLE])
    assert diff_sides(page, f'#queue tr[data-id="{first}"]') == [IMG, JS_URL]
    assert diff_sides(page, f'#queue tr[data-id="{second}"]') == [SCRIPT, SVG]
    # The keyboard script works under the policy: j moves the current row.
    expect_current(page, third)
    page.keyboard.press("j")
    expect_current(page, second)
    assert not page.problems, page.problems


def test_payloads_stay_text_on_the_report_page(watched_page: Page, live_server):
    page = watched_page
    first, _second, _third = post_payload_reports(live_server)
    sign_in(page, live_server)
    response = page.goto(f"{live_server.url}/editor/suggestions/{first}")
    assert_strict_script_policy(response)
    # The article around the quote, the comment, the reporter, the title.
    assert_nothing_ran(page, [IMG, SCRIPT, SVG, TITLE])
    assert diff_sides(page, "#sentence") == [IMG, JS_URL]
    expect(page.get_by_role("heading", level=1)).to_have_text(TITLE)
    expect(page.locator("blockquote.article-text mark")).to_have_text(IMG)
    expect(page.locator("#comment")).to_have_text(SCRIPT)
    assert page.title() == f"Report on {TITLE} · Reader corrections"
    # The link to the live article stays on the article's own http URL.
    live_link = page.locator("#live-link").get_attribute("href")
    assert live_link.startswith(f"{live_server.url}{URL_PATH}#:~:text="), live_link
    # The script works under the policy: ? opens the shortcuts.
    page.keyboard.press("?")
    expect(page.locator("#shortcuts")).to_be_visible()
    assert not page.problems, page.problems


def test_payloads_stay_text_on_the_article_page(watched_page: Page, live_server):
    page = watched_page
    post_payload_reports(live_server)
    sign_in(page, live_server)
    open_queue(page, live_server)
    article_link = page.locator('#queue a[href^="/editor/articles/"]').first
    expect(article_link).to_have_text(TITLE)
    article_path = article_link.get_attribute("href")
    assert re.fullmatch(r"/editor/articles/\d+", article_path), article_path
    response = page.goto(live_server.url + article_path)
    assert_strict_script_policy(response)
    assert_nothing_ran(page, [IMG, SCRIPT, SVG, TITLE, URL_PATH])
    assert diff_sides(page, "article.span-group") == [IMG, JS_URL]
    expect(page.get_by_role("heading", level=1)).to_have_text(TITLE)
    # The article's own URL is a link to itself, its payload quoted away.
    url_link = page.locator("p.meta a[target=_blank]")
    expect(url_link).to_have_text(live_server.url + URL_PATH)
    assert url_link.get_attribute("href") == live_server.url + URL_PATH


def _site_titles_articles(live_server, title: str, text: str) -> None:
    """The site's CMS pushes every article's text under ``title``: only a title the site
    gives (never a reader's) reaches the public log, so a hostile one must come this way."""
    with live_server.app.app_context():
        site = db.session.scalar(select(Site).filter_by(public_key=live_server.site_key))
        for url in db.session.scalars(select(Article.url).filter_by(site_id=site.id)).all():
            revisions.record_verified_text(site, url, title, text, RevisionSource.CMS)
        db.session.commit()
        db.session.remove()


def _fix_all_and_publish(live_server) -> None:
    """Mark every report fixed (readers who asked get their notice) and publish the
    demo site's corrections log."""
    with live_server.app.app_context():
        site = db.session.scalar(select(Site).filter_by(public_key=live_server.site_key))
        site.settings = {**(site.settings or {}), "corrections_public": True}
        for head in db.session.scalars(
            select(Suggestion).where(Suggestion.duplicate_of_id.is_(None))
        ).all():
            workflow.change_status(head, SuggestionStatus.FIXED, None)
        db.session.commit()
        db.session.remove()


def _mail_bodies(live_server) -> list[tuple[str, str]]:
    with live_server.app.app_context():
        rows = db.session.scalars(select(OutboxMessage).order_by(OutboxMessage.id)).all()
        bodies = [(row.kind.value, row.html_body) for row in rows]
        db.session.remove()
        return bodies


@pytest.fixture
def empty_outbox(live_server):
    def clear():
        with live_server.app.app_context():
            db.session.execute(OutboxMessage.__table__.delete())
            db.session.commit()
            db.session.remove()

    clear()
    yield
    clear()


def test_payloads_stay_text_in_the_mails(browser, live_server, empty_outbox):
    for payload in (IMG, SCRIPT, SVG):
        post_report(
            live_server,
            text=TEXT,
            title=TITLE,
            exact=payload,
            replacement=JS_URL,
            comment=payload,
            reporter={"name": payload, "email": "reader@example.org", "notify": True},
        )
    _fix_all_and_publish(live_server)
    bodies = _mail_bodies(live_server)
    assert {kind for kind, _ in bodies} >= {"instant", "reader"}
    # Shown with no policy at all, as a mail program might: only escaping protects.
    context = browser.new_context(java_script_enabled=True)
    page = context.new_page()
    try:
        for kind, html in bodies:
            page.set_content(html)
            assert page.evaluate("window.__xss") is None, kind
            assert page.locator('img[src="x"], svg, script').count() == 0, kind
            assert page.locator("[onerror], [onload]").count() == 0, kind
            assert page.locator('[href^="javascript:" i]').count() == 0, kind
        instant = next(html for kind, html in bodies if kind == "instant")
        page.set_content(instant)
        expect(page.locator("body")).to_contain_text(IMG)
    finally:
        context.close()


def test_payloads_stay_text_in_the_corrections_log(watched_page: Page, live_server):
    page = watched_page
    for payload in (IMG, SCRIPT, SVG):
        post_report(live_server, text=TEXT, title=TITLE, exact=payload, replacement=JS_URL)
    _site_titles_articles(live_server, TITLE, TEXT)
    _fix_all_and_publish(live_server)
    response = page.goto(f"{live_server.url}/sites/{live_server.site_key}/corrections")
    assert response is not None
    assert response.ok
    policy = response.headers.get("content-security-policy", "")
    assert "script-src 'self'" in policy
    main = page.locator("body")
    for payload in (IMG, SCRIPT, SVG, TITLE):
        expect(main).to_contain_text(payload)
    assert page.evaluate("window.__xss") is None
    assert page.locator('img[src="x"], svg, script').count() == 0
    assert not page.problems, page.problems

    # The Atom feed carries the words as text: a feed reader shows them, never runs them.
    feed = page.request.get(f"{live_server.url}/sites/{live_server.site_key}/corrections.atom")
    root = ElementTree.fromstring(feed.body())  # noqa: S314 - our own feed, in a test
    atom = "{http://www.w3.org/2005/Atom}"
    contents = root.findall(f"{atom}entry/{atom}content")
    assert len(contents) == 3
    assert {content.get("type") for content in contents} == {"text"}
    assert any(IMG in (content.text or "") for content in contents)
