"""Who may open which editor page and do which editor action: one row per route.

Each row (``Case``) names a route, how to build its URL and form for a fresh set of
objects, and the exact status each kind of visitor gets. Which roles may do a site's
action is read from the documented table ("Who may do what" in docs/editors.md), which
must match feedback/permissions.py. The rules (feedback/editor/access.py): anonymous
visitors are sent to the sign-in page; a site the user is not a member of does not
exist for them (404, never 403); a member whose role may not do the action gets 403.
Every refused request changes nothing in the database; every allowed action does what
it says. A test compares the rows with ``app.url_map``, so a new /editor
route without a row fails until someone decides who may use it.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from functools import cached_property
from pathlib import Path

import pytest
import sqlalchemy as sa

from feedback import workflow
from feedback.extensions import db
from feedback.models import (
    AuditAction,
    AuditEvent,
    Decision,
    EditorNote,
    Membership,
    Role,
    Site,
    Suggestion,
    SuggestionStatus,
    User,
)
from feedback.models.outbox import OutboxKind, OutboxMessage, OutboxStatus
from feedback.permissions import PERMISSIONS, Action
from tests.conftest import suggestion_body
from tests.editor.conftest import PASSWORD

ROLES = ("anonymous", "viewer", "editor", "owner", "outsider")
SIGNED_IN = ROLES[1:]
SIGN_IN = "/editor/sign-in"
# Shown in the queue to the site's members only.
QUEUE_COMMENT = "Comment-only-members-see-7d1f"
OTHER_SITE_ORIGIN = "https://other.example.net"
MISSING_INT_ID = 2_147_483_647  # the largest 32-bit id: valid for every database, never used
# Left out of the matrix by design: signing in and out and the password pages, which
# anyone may use (test_auth.py tests them; test_csrf.py their CSRF tokens).
PUBLIC_ENDPOINTS = frozenset(
    {
        "auth.sign_in",
        "auth.forgot_password",
        "auth.set_password",
        "auth.sign_out",
        "auth.sign_out_everywhere",
    }
)
NEW_PASSWORD = "the matrix changed it"


class World:
    """The objects a row's URL and form need, each made the first time it is asked for,
    so every test gets fresh reports."""

    def __init__(self, site: Site, other_site: Site, users: dict[str, User], post_suggestion):
        self.site = site
        self.other_site = other_site
        self.users = users
        self._post = post_suggestion
        # The user making the request (None: anonymous), for rows about their own things.
        self.actor: User | None = None

    def new_report(self, site: Site | None = None, **changes) -> Suggestion:
        origin = "https://news.example.com"
        if site is not None and site.id == self.other_site.id:
            changes.setdefault("site", self.other_site.public_key)
            origin = OTHER_SITE_ORIGIN
        body = suggestion_body(**changes)
        if origin == OTHER_SITE_ORIGIN:
            # A site's article URLs lie on its own origins (else the report is refused).
            body["article"]["url"] = f"{OTHER_SITE_ORIGIN}/2026/ferry-returns"
        response = self._post(body, origin=origin)
        assert response.status_code in (200, 201), response.get_json()
        return db.session.get(Suggestion, uuid.UUID(body["id"]))

    @cached_property
    def report(self) -> Suggestion:
        """An open report on ``site`` quoting "then"."""
        return self.new_report(comment=QUEUE_COMMENT)

    @cached_property
    def other(self) -> Suggestion:
        """Another open report on the same article, quoting "ferry"."""
        found = self.new_report(exact="ferry", replacement="boat")
        assert found.duplicate_of_id is None
        return found

    @cached_property
    def duplicate(self) -> Suggestion:
        """A second reader's "then" → "than": grouped with ``report`` on arrival."""
        head = self.report
        found = self.new_report()
        assert found.duplicate_of_id == head.id
        return found

    @cached_property
    def decision(self) -> Decision:
        """The requesting user's decision (the editor's, for an anonymous visitor) to
        accept ``report``, still within its undo window. A viewer's or an outsider's
        stands for one made before their role or membership changed."""
        user = self.actor or self.users["editor"]
        decision = workflow.start_decision(user)
        workflow.change_status(self.report, SuggestionStatus.ACCEPTED, user, decision)
        db.session.commit()
        return decision

    @cached_property
    def foreign_report(self) -> Suggestion:
        """An open report on ``other_site``."""
        return self.new_report(site=self.other_site)

    def membership_id(self, role: str, site: Site | None = None) -> int:
        site = site or self.site
        return db.session.scalar(
            sa.select(Membership.id).filter_by(user_id=self.users[role].id, site_id=site.id)
        )

    @cached_property
    def failed_mail(self) -> OutboxMessage:
        """A mail of ``site`` that failed for good; owners may send it once more."""
        row = OutboxMessage(
            key=f"test-failed:{uuid.uuid4()}",
            kind=OutboxKind.INSTANT,
            site_id=self.site.id,
            user_id=self.users["editor"].id,
            to_address="editor@example.com",
            subject="New report",
            text_body="A report.",
            html_body="<p>A report.</p>",
            message_id=f"<{uuid.uuid4()}@example.com>",
            status=OutboxStatus.FAILED,
            attempts=8,
            last_error="connection refused",
        )
        db.session.add(row)
        db.session.commit()
        return row


Expected = dict[str, int]


def expect(
    anonymous: int = 302,
    viewer: int | None = None,
    editor: int | None = None,
    owner: int | None = None,
    outsider: int | None = None,
) -> Expected:
    answers = {
        "anonymous": anonymous,
        "viewer": viewer,
        "editor": editor,
        "owner": owner,
        "outsider": outsider,
    }
    assert None not in answers.values(), answers
    return answers


SITE_ROLES = ("viewer", "editor", "owner")
DOCUMENTED_IN = Path(__file__).resolve().parents[2] / "docs" / "editors.md"


def documented_permissions() -> dict[str, dict[str, bool]]:
    """The "Who may do what" table of docs/editors.md: action → role → permitted."""
    table: dict[str, dict[str, bool]] = {}
    for line in DOCUMENTED_IN.read_text(encoding="utf-8").splitlines():
        cells = [cell.strip() for cell in line.strip().strip("|").split("|")]
        if len(cells) != 2 + len(SITE_ROLES) or not cells[0].startswith("`"):
            continue
        answers = cells[2:]
        assert set(answers) <= {"yes", "no"}, line
        table[cells[0].strip("`")] = dict(
            zip(SITE_ROLES, [answer == "yes" for answer in answers], strict=True)
        )
    return table


DOCUMENTED = documented_permissions()
# The documented actions the rows below ask about (each must be asked about).
ASKED: set[str] = set()


def allowed(action: str, ok: int, outsider: int = 404) -> Expected:
    """``ok`` for the roles the documented table lets do ``action``, 403 for the others;
    ``outsider`` for a member of another site."""
    ASKED.add(action)
    permitted = DOCUMENTED[action]  # an action nobody decided on fails here
    answers = {role: ok if permitted[role] else 403 for role in SITE_ROLES}
    return expect(**answers, outsider=outsider)


def read(outsider: int = 404) -> Expected:
    """A page any member of the site may read."""
    return allowed("read", 200, outsider)


# Triage: those who may act are sent back to the page (303); the others get 403.
TRIAGE = allowed("triage", 303)


@dataclass(frozen=True)
class Case:
    name: str
    method: str
    url_factory: Callable[[World], str]
    data_factory: Callable[[World], dict] | None
    expected: Expected
    # The route the URL must reach (checked against app.url_map, so a row cannot lie).
    endpoint: str
    # After an allowed request: assert that it did what it says (actor is the user).
    effect: Callable[[World, User], None] | None = None
    # Roles whose expected answer the app does not give yet: role → reason.
    known_bugs: dict[str, str] = field(default_factory=dict)
    # Triage actions also answer JSON to the keyboard script.
    json: bool = False


def fresh(instance):
    db.session.expire_all()
    return db.session.get(type(instance), instance.id)


def audit_count(suggestion: Suggestion) -> int:
    return db.session.scalar(
        sa.select(sa.func.count()).where(AuditEvent.suggestion_id == suggestion.id)
    )


def notes_count(suggestion: Suggestion) -> int:
    return db.session.scalar(
        sa.select(sa.func.count()).where(EditorNote.suggestion_id == suggestion.id)
    )


def _accepted(w: World, _actor: User) -> None:
    assert fresh(w.report).status == SuggestionStatus.ACCEPTED
    assert audit_count(w.report) >= 1


def _undone(w: World, actor: User) -> None:
    assert fresh(w.report).status == SuggestionStatus.NEW
    undo = db.session.scalar(
        sa.select(AuditEvent).filter_by(suggestion_id=w.report.id, action=AuditAction.UNDO)
    )
    assert undo.user_id == actor.id


def _assigned_to_actor(w: World, actor: User) -> None:
    assert fresh(w.report).assignee_id == actor.id


def _noted(w: World, actor: User) -> None:
    assert notes_count(w.report) == 1
    note = db.session.scalar(sa.select(EditorNote).filter_by(suggestion_id=w.report.id))
    assert note.user_id == actor.id


def _grouped(w: World, _actor: User) -> None:
    assert fresh(w.report).duplicate_of_id == w.other.id
    assert fresh(w.other).report_count == 2


def _split(w: World, _actor: User) -> None:
    assert fresh(w.duplicate).duplicate_of_id is None
    assert fresh(w.report).report_count == 1


def _renamed(w: World, _actor: User) -> None:
    assert fresh(w.site).name == "Renamed by the matrix"


def _origins_saved(w: World, _actor: User) -> None:
    assert fresh(w.site).allowed_origins == ["https://new.example.com"]


def _options_saved(w: World, _actor: User) -> None:
    settings = fresh(w.site).settings
    assert settings["default_notify"] == "daily"
    assert settings["corrections_public"] is True


def _fetching_off(w: World, _actor: User) -> None:
    assert fresh(w.site).settings["fetch_pages"] is False


def _title_suffix_saved(w: World, _actor: User) -> None:
    assert fresh(w.site).settings["title_suffix"] == "· Late Edition"


def _member_added(w: World, _actor: User) -> None:
    user = db.session.scalar(sa.select(User).filter_by(email="newcomer@example.com"))
    assert user is not None
    assert db.session.scalar(
        sa.select(Membership.role).filter_by(user_id=user.id, site_id=w.site.id)
    ) == (Role.VIEWER)


def _viewer_now_editor(w: World, _actor: User) -> None:
    assert db.session.get(Membership, w.membership_id("viewer")).role == Role.EDITOR


def _viewer_removed(w: World, _actor: User) -> None:
    assert w.membership_id("viewer") is None


def _timezone_saved(_w: World, actor: User) -> None:
    assert fresh(actor).timezone == "Europe/Paris"


def _password_changed(_w: World, actor: User) -> None:
    assert fresh(actor).check_password(NEW_PASSWORD)


def _mail_retried(w: World, _actor: User) -> None:
    assert fresh(w.failed_mail).status != OutboxStatus.FAILED


def _report_url(w: World, action: str = "") -> str:
    return f"/editor/suggestions/{w.report.id}" + (f"/{action}" if action else "")


def _with(_made: object, url: str) -> str:
    """``url``, once ``_made`` (a report the page should list) exists."""
    return url


def _site_url(w: World, path: str) -> str:
    return f"/editor/sites/{w.site.id}/{path}"


CASES: list[Case] = [
    # --- pages ----------------------------------------------------------------------
    Case(
        "queue",
        "GET",
        lambda w: _with(w.report, "/editor/"),
        None,
        read(outsider=200),
        "editor.queue",
    ),
    Case(
        "queue-of-site",
        "GET",
        lambda w: f"/editor/?site={w.site.id}",
        None,
        read(),
        "editor.queue",
    ),
    Case(
        "queue-of-other-site",
        "GET",
        lambda w: f"/editor/?site={w.other_site.id}",
        None,
        expect(viewer=404, editor=404, owner=404, outsider=200),
        "editor.queue",
    ),
    Case("report", "GET", _report_url, None, read(), "editor.report"),
    Case(
        "open-in-article",
        "GET",
        lambda w: _report_url(w, "article"),
        None,
        allowed("read", 302),
        "editor.open_in_article",
    ),
    Case(
        "report-duplicate",
        "GET",
        lambda w: f"/editor/suggestions/{w.duplicate.id}",
        None,
        read(),
        "editor.report",
    ),
    Case(
        "report-malformed-id",
        "GET",
        lambda w: "/editor/suggestions/not-a-uuid",
        None,
        expect(viewer=404, editor=404, owner=404, outsider=404),
        "editor.report",
    ),
    Case(
        "article",
        "GET",
        lambda w: f"/editor/articles/{w.report.article_id}",
        None,
        read(),
        "editor.article",
    ),
    Case("stats", "GET", lambda w: _site_url(w, "stats"), None, read(), "sites.stats"),
    Case(
        "export-jsonld",
        "GET",
        lambda w: _with(w.report, _site_url(w, "export.jsonld")),
        None,
        read(),
        "exports.export_jsonld",
    ),
    Case(
        "export-csv",
        "GET",
        lambda w: _with(w.report, _site_url(w, "export.csv")),
        None,
        read(),
        "exports.export_csv",
    ),
    Case(
        "settings",
        "GET",
        lambda w: _site_url(w, "settings"),
        None,
        allowed("configure_site", 200),
        "sites.settings",
    ),
    Case(
        "notifications",
        "GET",
        lambda w: "/editor/notifications",
        None,
        read(outsider=200),
        "notification_settings.show",
    ),
    Case(
        "account",
        "GET",
        lambda w: "/editor/account",
        None,
        read(outsider=200),
        "auth.account",
    ),
    # --- triage ---------------------------------------------------------------------
    Case(
        "status",
        "POST",
        lambda w: _report_url(w, "status"),
        lambda w: {"status": "accepted"},
        TRIAGE,
        "editor.change_status",
        _accepted,
        json=True,
    ),
    Case(
        "status-malformed-id",
        "POST",
        lambda w: "/editor/suggestions/not-a-uuid/status",
        lambda w: {"status": "accepted"},
        expect(viewer=404, editor=404, owner=404, outsider=404),
        "editor.change_status",
    ),
    Case(
        "assign",
        "POST",
        lambda w: _report_url(w, "assign"),
        lambda w: {"assignee": "me"},
        TRIAGE,
        "editor.assign",
        _assigned_to_actor,
        json=True,
    ),
    Case(
        "notes",
        "POST",
        lambda w: _report_url(w, "notes"),
        lambda w: {"note": "Checked with the desk."},
        TRIAGE,
        "editor.add_note",
        _noted,
        json=True,
    ),
    Case(
        "duplicate",
        "POST",
        lambda w: _report_url(w, "duplicate"),
        lambda w: {"of": str(w.other.id)},
        TRIAGE,
        "editor.mark_duplicate",
        _grouped,
        json=True,
    ),
    Case(
        "split",
        "POST",
        lambda w: f"/editor/suggestions/{w.duplicate.id}/split",
        None,
        TRIAGE,
        "editor.split",
        _split,
        json=True,
    ),
    Case(
        "bulk",
        "POST",
        lambda w: "/editor/bulk",
        lambda w: {"action": "accept", "ids": [str(w.report.id)]},
        TRIAGE,
        "editor.bulk",
        _accepted,
        json=True,
    ),
    Case(
        "undo",
        "POST",
        lambda w: f"/editor/decisions/{w.decision.id}/undo",
        None,
        TRIAGE,
        "editor.undo",
        _undone,
        json=True,
    ),
    # --- site settings (owners) -----------------------------------------------------
    Case(
        "rename",
        "POST",
        lambda w: _site_url(w, "settings/name"),
        lambda w: {"name": "Renamed by the matrix"},
        allowed("configure_site", 303),
        "sites.rename",
        _renamed,
    ),
    Case(
        "origins",
        "POST",
        lambda w: _site_url(w, "settings/origins"),
        lambda w: {"origins": "https://new.example.com"},
        allowed("configure_site", 303),
        "sites.save_origins",
        _origins_saved,
    ),
    Case(
        "options",
        "POST",
        lambda w: _site_url(w, "settings/options"),
        lambda w: {"default_notify": "daily", "corrections_public": "1"},
        allowed("configure_site", 303),
        "sites.save_options",
        _options_saved,
    ),
    Case(
        "fetching",
        "POST",
        lambda w: _site_url(w, "settings/fetching"),
        lambda w: {},
        allowed("configure_site", 303),
        "sites.save_fetching",
        _fetching_off,
    ),
    Case(
        "title-suffix",
        "POST",
        lambda w: _site_url(w, "settings/title-suffix"),
        lambda w: {"title_suffix": "· Late Edition"},
        allowed("configure_site", 303),
        "sites.save_title_suffix",
        _title_suffix_saved,
    ),
    Case(
        "rotate-secret",
        "POST",
        lambda w: _site_url(w, "settings/secret"),
        lambda w: {"confirm": "1"},
        # The new secret is shown on the page itself, once.
        allowed("configure_site", 200),
        "sites.rotate_secret",
    ),
    Case(
        "add-member",
        "POST",
        lambda w: _site_url(w, "settings/members"),
        lambda w: {"email": "newcomer@example.com", "name": "New Comer", "role": "viewer"},
        allowed("manage_members", 303),
        "sites.add_member",
        _member_added,
    ),
    Case(
        "change-role",
        "POST",
        lambda w: _site_url(w, f"settings/members/{w.membership_id('viewer')}/role"),
        lambda w: {"role": "editor"},
        allowed("manage_members", 303),
        "sites.change_role",
        _viewer_now_editor,
    ),
    Case(
        "remove-member",
        "POST",
        lambda w: _site_url(w, f"settings/members/{w.membership_id('viewer')}/remove"),
        None,
        allowed("manage_members", 303),
        "sites.remove_member",
        _viewer_removed,
    ),
    Case(
        "change-role-of-missing-member",
        "POST",
        lambda w: _site_url(w, f"settings/members/{MISSING_INT_ID}/role"),
        lambda w: {"role": "editor"},
        # Those who may manage members find no such member.
        allowed("manage_members", 404),
        "sites.change_role",
    ),
    Case(
        # The outsider's membership belongs to other_site: not reachable through site.
        "change-role-of-other-sites-member",
        "POST",
        lambda w: _site_url(
            w, f"settings/members/{w.membership_id('outsider', w.other_site)}/role"
        ),
        lambda w: {"role": "viewer"},
        allowed("manage_members", 404),
        "sites.change_role",
    ),
    Case(
        # The outsider owns other_site, but the viewer's membership is of site.
        "remove-member-of-another-site",
        "POST",
        lambda w: (
            f"/editor/sites/{w.other_site.id}/settings/members/{w.membership_id('viewer')}/remove"
        ),
        None,
        expect(viewer=404, editor=404, owner=404, outsider=404),
        "sites.remove_member",
    ),
    # --- notifications --------------------------------------------------------------
    Case(
        "notifications-save",
        "POST",
        lambda w: "/editor/notifications",
        lambda w: {"timezone": "Europe/Paris"},
        expect(viewer=302, editor=302, owner=302, outsider=302),
        "notification_settings.save",
        _timezone_saved,
    ),
    # --- the account ------------------------------------------------------------------
    Case(
        "change-password",
        "POST",
        lambda w: "/editor/account/password",
        lambda w: {"current_password": PASSWORD, "password": NEW_PASSWORD, "confirm": NEW_PASSWORD},
        expect(viewer=302, editor=302, owner=302, outsider=302),
        "auth.change_password",
        _password_changed,
    ),
    Case(
        "retry-failed-mail",
        "POST",
        lambda w: f"/editor/notifications/failed/{w.failed_mail.id}/retry",
        None,
        allowed("resend_mail", 302),
        "notification_settings.retry",
        _mail_retried,
    ),
]

CASES_BY_NAME = {case.name: case for case in CASES}
assert len(CASES_BY_NAME) == len(CASES), "two rows share a name"


def _params(cases: list[Case], roles=ROLES) -> list:
    params = []
    for case in cases:
        for role in roles:
            marks = []
            if role in case.known_bugs:
                marks.append(pytest.mark.xfail(strict=True, reason=case.known_bugs[role]))
            params.append(pytest.param(case, role, id=f"{case.name}-{role}", marks=marks))
    return params


def db_state() -> dict[str, list[str]]:
    """Every row of every table, to compare before and after a request."""
    db.session.rollback()
    state = {}
    for table in db.metadata.sorted_tables:
        rows = db.session.execute(sa.select(table)).all()
        state[table.name] = sorted(repr(tuple(row)) for row in rows)
    db.session.rollback()
    return state


@pytest.fixture
def world(site, other_site, users, post_suggestion) -> World:
    return World(site, other_site, users, post_suggestion)


def prepare(app, case: Case, w: World) -> tuple[str, dict]:
    """The row's URL and form, after checking that the URL reaches the row's route."""
    url = case.url_factory(w)
    data = case.data_factory(w) if case.data_factory else {}
    path, _, query = url.partition("?")
    endpoint, _args = app.url_map.bind("localhost").match(
        path, method=case.method, query_args=query
    )
    assert endpoint == case.endpoint, f"{url} reaches {endpoint}, not {case.endpoint}"
    return url, data


def send(client, case: Case, url: str, data: dict, **kwargs):
    if case.method == "GET":
        return client.get(url)
    return client.post(url, data, **kwargs)


@pytest.mark.parametrize(("case", "role"), _params(CASES))
def test_access(app, world, editor_client, case, role):
    actor = world.users.get(role)
    client = editor_client(actor)
    world.actor = actor
    # The objects are made (and the user signed in) before the snapshot.
    url, data = prepare(app, case, world)
    before = db_state()

    response = send(client, case, url, data)

    expected = case.expected[role]
    assert response.status_code == expected, (
        f"{case.method} {url} as {role}: {response.status_code}, expected {expected}\n"
        + response.get_data(as_text=True)[:500]
    )
    location = response.headers.get("Location", "")
    if role == "anonymous":
        assert location.startswith(SIGN_IN + "?next="), location
    elif response.status_code in (301, 302, 303, 307, 308):
        assert not location.startswith(SIGN_IN), location
    if role == "anonymous" or response.status_code >= 400:
        assert db_state() == before, f"{case.method} {url} as {role} changed the database"
    elif case.method == "GET":
        assert db_state() == before, f"reading {url} as {role} changed the database"
    else:
        assert db_state() != before, f"{case.method} {url} as {role} changed nothing"
        if case.effect is not None:
            case.effect(world, actor)


JSON_CASES = [case for case in CASES if case.json]


@pytest.mark.parametrize(("case", "role"), _params(JSON_CASES, SIGNED_IN))
def test_triage_answers_json(app, world, editor_client, case, role):
    """The keyboard script's requests (token in a header, JSON answer) obey the same rules."""
    actor = world.users[role]
    client = editor_client(actor)
    world.actor = actor
    url, data = prepare(app, case, world)
    before = db_state()

    response = client.post_json(url, data)

    expected = {303: 200}.get(case.expected[role], case.expected[role])
    assert response.status_code == expected, response.get_data(as_text=True)[:500]
    if expected == 200:
        assert response.is_json
        assert response.get_json()["message"]
        case.effect(world, actor)
    else:
        assert db_state() == before


def test_queue_shows_a_sites_reports_to_its_members_only(world, editor_client, users):
    world.report  # noqa: B018 - made for its side effect
    for role in ("viewer", "editor", "owner"):
        page = editor_client(users[role]).get("/editor/")
        assert page.status_code == 200
        assert QUEUE_COMMENT in page.get_data(as_text=True), role

    page = editor_client(users["outsider"]).get("/editor/")
    assert page.status_code == 200
    assert QUEUE_COMMENT not in page.get_data(as_text=True)
    assert str(world.report.id) not in page.get_data(as_text=True)


def test_queue_of_another_site_shows_nothing_of_it(world, editor_client, users):
    """A member of site asks for the outsider's site: 404, and its report stays hidden."""
    foreign = world.new_report(site=world.other_site, comment="Foreign-comment-c0ffee")
    page = editor_client(users["outsider"]).get("/editor/")
    assert "Foreign-comment-c0ffee" in page.get_data(as_text=True)
    for role in ("viewer", "editor", "owner"):
        client = editor_client(users[role])
        assert client.get(f"/editor/?site={world.other_site.id}").status_code == 404
        assert "Foreign-comment-c0ffee" not in client.get("/editor/").get_data(as_text=True)
        assert client.get(f"/editor/suggestions/{foreign.id}").status_code == 404


@pytest.mark.parametrize("role", ["editor", "owner"])
def test_bulk_with_one_report_of_another_site_changes_nothing(world, editor_client, role):
    """Every selected report is checked before any moves: one foreign id refuses all."""
    client = editor_client(world.users[role])
    own, foreign = world.report, world.foreign_report
    before = db_state()

    response = client.post(
        "/editor/bulk", {"action": "accept", "ids": [str(own.id), str(foreign.id)]}
    )

    assert response.status_code == 404
    assert db_state() == before
    assert fresh(own).status == SuggestionStatus.NEW


@pytest.mark.parametrize("role", ["editor", "owner"])
def test_duplicate_of_another_sites_report_changes_nothing(world, editor_client, role):
    client = editor_client(world.users[role])
    own, foreign = world.report, world.foreign_report
    before = db_state()

    response = client.post(f"/editor/suggestions/{own.id}/duplicate", {"of": str(foreign.id)})

    assert response.status_code == 303
    assert db_state() == before


@pytest.mark.parametrize("case", CASES, ids=lambda case: case.name)
def test_a_deactivated_users_session_lets_nothing_through(app, world, editor_client, case):
    """An owner signed in, then deactivated: every route treats them as anonymous."""
    client = editor_client(world.users["owner"])
    url, data = prepare(app, case, world)
    fresh(world.users["owner"]).active = False
    db.session.commit()
    before = db_state()

    response = send(client, case, url, data)

    assert response.status_code == 302, response.get_data(as_text=True)[:500]
    assert response.headers["Location"].startswith(SIGN_IN + "?next=")
    assert db_state() == before


def test_a_new_role_applies_to_a_signed_in_user_at_once(world, editor_client, users):
    """The role is looked up on every request, not remembered in the session."""
    client = editor_client(users["editor"])
    url = _report_url(world, "status")
    db.session.get(Membership, world.membership_id("editor")).role = Role.VIEWER
    db.session.commit()
    before = db_state()

    assert client.post(url, {"status": "accepted"}).status_code == 403
    assert db_state() == before

    db.session.delete(db.session.get(Membership, world.membership_id("editor")))
    db.session.commit()
    assert client.get(_report_url(world)).status_code == 404
    assert client.post(url, {"status": "accepted"}).status_code == 404
    assert fresh(world.report).status == SuggestionStatus.NEW


@pytest.mark.parametrize("who", ["viewer", "outsider"])
@pytest.mark.parametrize("path", ["assign", "bulk"])
def test_reports_are_only_assigned_to_the_sites_editors(world, editor_client, path, who):
    """An editor cannot hand a report to a viewer or to someone of another site."""
    client = editor_client(world.users["editor"])
    assignee = str(world.users[who].id)
    url = "/editor/bulk" if path == "bulk" else _report_url(world, "assign")
    data = {"action": "assign", "ids": [str(world.report.id)], "assignee": assignee}
    before = db_state()

    response = client.post_json(url, data)

    assert response.status_code == 422, response.get_data(as_text=True)
    assert db_state() == before


def test_notification_form_changes_only_what_the_user_may(world, editor_client, users, site):
    """Each member saves their own settings; only owners set a site's default, and
    nobody reaches a site they are not a member of through the form's field names."""
    site_settings = dict(fresh(site).settings or {})
    form = {
        f"default-{site.id}": "off",
        f"notify-{world.other_site.id}": "off",
        f"hour-{world.other_site.id}": "3",
        f"default-{world.other_site.id}": "off",
    }
    for role in ("viewer", "editor"):
        assert editor_client(users[role]).post("/editor/notifications", form).status_code == 302
    assert (fresh(site).settings or {}) == site_settings
    assert (fresh(world.other_site).settings or {}).get("default_notify") != "off"
    outsider_membership = db.session.get(
        Membership, world.membership_id("outsider", world.other_site)
    )
    assert outsider_membership.digest_hour != 3
    assert outsider_membership.notify.value != "off"


# --- ids that do not exist ------------------------------------------------------------


def _missing_url(rule) -> str:
    values = {}
    for name, converter in rule._converters.items():
        kind = type(converter).__name__
        values[name] = MISSING_INT_ID if kind == "IntegerConverter" else str(uuid.uuid4())
    return rule.build(values)[1]


def _editor_rules(app) -> list:
    return [rule for rule in app.url_map.iter_rules() if rule.rule.startswith("/editor")]


def test_missing_ids_are_not_found(app, users, editor_client):
    """Every route with an id in its path: an id that does not exist is a 404 for every
    signed-in user (and the sign-in page for anonymous visitors)."""
    clients = {role: editor_client(users.get(role)) for role in ROLES}
    wrong = []
    checked = 0
    for rule in _editor_rules(app):
        if not rule.arguments or rule.endpoint in PUBLIC_ENDPOINTS:
            continue
        url = _missing_url(rule)
        for method in sorted(rule.methods - {"HEAD", "OPTIONS"}):
            checked += 1
            for role, client in clients.items():
                response = client.get(url) if method == "GET" else client.post(url, {})
                expected = 302 if role == "anonymous" else 404
                if response.status_code != expected:
                    wrong.append(f"{method} {url} as {role}: {response.status_code}")
    assert checked >= 10
    assert not wrong, "\n".join(wrong)


# Ids no row can have: beyond PostgreSQL's integer column, and beyond any 64-bit integer.
TOO_LARGE = {"int32": 2**31, "int64": 2**63}


@pytest.mark.parametrize("size", list(TOO_LARGE))
def test_ids_too_large_for_the_database_are_not_found(app, users, editor_client, size):
    """/editor/articles/99999999999999999999 is a 404 like any id that does not exist."""
    client = editor_client(users["owner"])
    wrong = []
    for rule in _editor_rules(app):
        if "IntegerConverter" not in {type(c).__name__ for c in rule._converters.values()}:
            continue
        if rule.endpoint in PUBLIC_ENDPOINTS:
            continue
        values = {
            name: TOO_LARGE[size] if type(c).__name__ == "IntegerConverter" else str(uuid.uuid4())
            for name, c in rule._converters.items()
        }
        url = rule.build(values)[1]
        for method in sorted(rule.methods - {"HEAD", "OPTIONS"}):
            response = client.get(url) if method == "GET" else client.post(url, {})
            if response.status_code != 404:
                wrong.append(f"{method} {url}: {response.status_code}")
    assert not wrong, "\n".join(wrong)


_MALFORMED = [
    # (name, method, url builder, form, expected answer)
    ("queue-site", "GET", lambda w: "/editor/?site=²", None, 400),
    ("queue-article", "GET", lambda w: "/editor/?article=²", None, 400),
    ("queue-assignee", "GET", lambda w: "/editor/?assignee=²", None, 400),
    ("queue-site-int32", "GET", lambda w: f"/editor/?site={2**31}", None, 400),
    ("assign-digit", "POST", lambda w: _report_url(w, "assign"), lambda w: {"assignee": "²"}, 422),
    (
        "assign-int32",
        "POST",
        lambda w: _report_url(w, "assign"),
        lambda w: {"assignee": str(2**31)},
        422,
    ),
    (
        "assign-int64",
        "POST",
        lambda w: _report_url(w, "assign"),
        lambda w: {"assignee": str(2**63)},
        422,
    ),
    (
        "bulk-assign-int64",
        "POST",
        lambda w: "/editor/bulk",
        lambda w: {"action": "assign", "assignee": str(2**63), "ids": [str(w.report.id)]},
        422,
    ),
    (
        "notifications-hour",
        "POST",
        lambda w: "/editor/notifications",
        lambda w: {f"hour-{w.site.id}": "²"},
        422,
    ),
]


def _malformed_params() -> list:
    return [
        pytest.param(method, url, form, expected, id=name)
        for name, method, url, form, expected in _MALFORMED
    ]


@pytest.mark.parametrize(("method", "url", "form", "expected"), _malformed_params())
def test_malformed_numbers_are_refused_not_errors(
    world, editor_client, users, method, url, form, expected
):
    """Numbers in query strings and forms that are not plain ASCII digits, or are too
    large for an id, get the route's answer to a bad value, never a 500."""
    client = editor_client(users["editor"])
    target = url(world)
    data = form(world) if form else {}
    before = db_state()

    if method == "GET":
        response = client.get(target)
    else:
        response = client.post_json(target, data) if expected == 422 else client.post(target, data)

    assert response.status_code == expected, response.get_data(as_text=True)[:300]
    if method == "POST":
        assert db_state() == before


# --- every route has a row ------------------------------------------------------------


def test_every_editor_route_is_in_the_matrix(app):
    routes = {
        (rule.endpoint, method)
        for rule in _editor_rules(app)
        for method in rule.methods - {"HEAD", "OPTIONS"}
        if rule.endpoint not in PUBLIC_ENDPOINTS
    }
    covered = {(case.endpoint, case.method) for case in CASES}
    missing = sorted(routes - covered)
    assert not missing, f"/editor routes with no row in CASES (nor public): {missing}"
    stale = sorted(covered - routes)
    assert not stale, f"rows for routes that no longer exist: {stale}"


def test_every_row_names_every_role():
    for case in CASES:
        assert set(case.expected) == set(ROLES), case.name
        assert set(case.known_bugs) <= set(ROLES), case.name


def test_the_documented_table_is_the_permission_map():
    documented = {
        action: {role for role, permitted in roles.items() if permitted}
        for action, roles in DOCUMENTED.items()
    }
    in_code = {
        action.value: {role.value for role, actions in PERMISSIONS.items() if action in actions}
        for action in Action
    }
    assert documented == in_code


def test_every_documented_action_has_a_row():
    assert set(DOCUMENTED) == ASKED
