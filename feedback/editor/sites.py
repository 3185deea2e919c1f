"""Each site's settings (owners) and stats (members).

Owners change the site's name, allowed origins and options, rotate its server secret
and manage its members; each change is its own POST, and a refused change changes
nothing and re-renders the page (422) with the reason next to the field. Any member
sees the stats.
"""

from __future__ import annotations

from flask import (
    Blueprint,
    abort,
    current_app,
    flash,
    redirect,
    render_template,
    request,
    url_for,
)
from flask_login import login_required
from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import selectinload

from feedback import background, members, sites
from feedback.editor import access
from feedback.editor import stats as site_stats
from feedback.editor.notifications import NOTIFY_LABELS
from feedback.errors import Invalid, OperationError
from feedback.extensions import db
from feedback.models import Membership, NotifySetting, Role, Site, User
from feedback.permissions import Action

blp = Blueprint("sites", __name__, url_prefix="/editor/sites/<int:site_id>")

ROLE_LABELS = {
    Role.OWNER: "Owner: settings and members, and triage",
    Role.EDITOR: "Editor: triage",
    Role.VIEWER: "Viewer: read only",
}


@blp.url_value_preprocessor
def _ids_in_range(_endpoint, values) -> None:
    for key in ("site_id", "member_id"):
        if (values or {}).get(key, 0) > access.MAX_ID:
            abort(404)


@blp.before_request
@login_required
def _signed_in():
    """Every page here needs a signed-in user (Flask-Login redirects the others)."""


# --- settings -------------------------------------------------------------------------


def _owned_site(site_id: int, action: Action = Action.CONFIGURE_SITE) -> Site:
    return access.require_member(site_id, action).site


def script_tag(site: Site) -> str:
    return site.script_tag(current_app.config["BASE_URL"] or request.host_url)


def _members(site_id: int) -> list[Membership]:
    return list(
        db.session.scalars(
            select(Membership)
            .where(Membership.site_id == site_id)
            .join(User, User.id == Membership.user_id)
            .options(selectinload(Membership.user))
            .order_by(Membership.created_at, Membership.id)
        )
    )


def _render(
    site: Site,
    errors: dict[str, str] | None = None,
    form: dict[str, str] | None = None,
    new_secret: str | None = None,
    status: int = 200,
):
    errors = errors or {}
    response = current_app.make_response(
        (
            render_template(
                "editor/site_settings.html",
                site=site,
                members=_members(site.id),
                errors=errors,
                form=form or {},
                new_secret=new_secret,
                script_tag=script_tag(site),
                roles=list(Role),
                role_labels=ROLE_LABELS,
                notify_settings=list(NotifySetting),
                notify_labels=NOTIFY_LABELS,
                default_notify=site.options.default_notify,
                notify_readers_on_reject=site.options.notify_readers_on_reject,
                fetching_service_on=bool(current_app.config["FETCH_PAGES"]),
                fetch_budget=current_app.config["FETCH_BUDGET_PER_HOUR"],
            ),
            status,
        )
    )
    # The secret is shown once: no cache may keep the page (editor.__init__._never_stored).
    return response


def _refuse(site: Site, field: str, message: str, form: dict[str, str] | None = None):
    """Change nothing; show the page again with the reason next to the field."""
    db.session.rollback()
    return _render(site, errors={field: message}, form=form, status=422)


def _saved(site_id: int, message: str):
    flash(message)
    return redirect(url_for(".settings", site_id=site_id), code=303)


@blp.get("/settings")
def settings(site_id: int):
    return _render(_owned_site(site_id))


@blp.post("/settings/name")
def rename(site_id: int):
    site = _owned_site(site_id)
    name = request.form.get("name") or ""
    try:
        sites.rename(site, name)
    except Invalid as error:
        return _refuse(site, "name", error.message_of("name"), {"name": name.strip()})
    db.session.commit()
    return _saved(site_id, "Site name saved.")


@blp.post("/settings/title-suffix")
def save_title_suffix(site_id: int):
    site = _owned_site(site_id)
    raw = request.form.get("title_suffix") or ""
    try:
        suffix = sites.set_title_suffix(site, raw)
    except Invalid as error:
        message = error.message_of("title_suffix")
        return _refuse(site, "title_suffix", message, {"title_suffix": raw})
    db.session.commit()
    return _saved(
        site_id,
        f"Titles are listed without “{suffix}” too." if suffix else "No extra title suffix.",
    )


@blp.post("/settings/origins")
def save_origins(site_id: int):
    site = _owned_site(site_id)
    text = request.form.get("origins") or ""
    try:
        origins = sites.set_origins(site, text.splitlines())
    except Invalid as error:
        return _refuse(site, "origins", error.message_of("origins"), {"origins": text})
    db.session.commit()
    return _saved(
        site_id,
        f"Allowed origins saved ({len(origins)})."
        if origins
        else "Allowed origins saved: none, so no page can send reports now.",
    )


@blp.post("/settings/options")
def save_options(site_id: int):
    site = _owned_site(site_id)
    try:
        notify = NotifySetting(request.form.get("default_notify", ""))
    except ValueError:
        return _refuse(site, "options", "Choose how new members hear of new reports.")
    sites.set_options(
        site,
        corrections_public=request.form.get("corrections_public") == "1",
        notify_readers_on_reject=request.form.get("notify_readers_on_reject") == "1",
        default_notify=notify,
    )
    db.session.commit()
    return _saved(site_id, "Options saved.")


@blp.post("/settings/fetching")
def save_fetching(site_id: int):
    site = _owned_site(site_id)
    on = request.form.get("fetch_pages") == "1"
    sites.set_options(site, fetch_pages=on)
    db.session.commit()
    return _saved(
        site_id,
        "The service reads your article pages to confirm fixes."
        if on
        else "The service no longer reads your pages: only your CMS confirms fixes.",
    )


@blp.post("/settings/secret")
def rotate_secret(site_id: int):
    site = _owned_site(site_id)
    if request.form.get("confirm") != "1":
        # A new secret locks out the CMS at once: never on a stray click.
        return _refuse(
            site,
            "secret",
            "Tick the box to confirm: the current secret stops working at once.",
        )
    secret = site.rotate_secret()
    db.session.commit()
    # Rendered, never flashed or redirected: the secret must not sit in a cookie or a URL.
    return _render(site, new_secret=secret)


# --- members --------------------------------------------------------------------------


def _owned_site_locked(site_id: int) -> Site:
    """The site, locked until commit, once the user is checked again on fresh rows to
    still own it (see members.lock_site)."""
    access.require_member(site_id, Action.MANAGE_MEMBERS)  # 404 or 403 before locking
    members.lock_site(site_id)
    return _owned_site(site_id, Action.MANAGE_MEMBERS)


def _site_member(site_id: int, member_id: int) -> Membership:
    member = db.session.get(Membership, member_id)
    if member is None or member.site_id != site_id:
        abort(404)
    return member


def _role_from_form() -> Role | None:
    try:
        return Role(request.form.get("role", ""))
    except ValueError:
        return None


def _after_own_change(site_id: int, message: str):
    """Back to the settings page, unless the owner just gave up owning the site."""
    member = access.membership(site_id)
    if member is not None and member.may(Action.CONFIGURE_SITE):
        return _saved(site_id, message)
    flash(message)
    return redirect(url_for("editor.queue"), code=303)


@blp.post("/settings/members")
def add_member(site_id: int):
    site = _owned_site(site_id, Action.MANAGE_MEMBERS)
    email = (request.form.get("email") or "").strip().lower()
    name = (request.form.get("name") or "").strip()
    form = {"email": email, "name": name, "role": request.form.get("role", "")}
    role = _role_from_form()
    if role is None:
        return _refuse(site, "add", "Choose owner, editor or viewer.", form)
    try:
        added = members.add_member(site, email, role, name=name)
        db.session.commit()
    except OperationError as error:
        return _refuse(site, "add", error.message, form)
    except IntegrityError:
        # Someone added the same person (to this site or another) at the same moment.
        return _refuse(
            site, "add", f"{email} was added by someone else just now: check the list.", form
        )
    background.send_mail_soon([added.outbox_id] if added.outbox_id is not None else [])
    invited = " An invitation to set a password is on its way." if added.outbox_id else ""
    return _saved(site_id, f"{email} added as {role.value}.{invited}")


@blp.post("/settings/members/<int:member_id>/role")
def change_role(site_id: int, member_id: int):
    site = _owned_site(site_id, Action.MANAGE_MEMBERS)
    role = _role_from_form()
    if role is None:
        return _refuse(site, f"member-{member_id}", "Choose owner, editor or viewer.")
    site = _owned_site_locked(site_id)
    member = _site_member(site_id, member_id)
    who = member.user.display_name
    try:
        changed = members.change_role(member, role)
    except OperationError as error:
        return _refuse(site, f"member-{member_id}", error.message)
    if not changed:
        db.session.rollback()
        return _saved(site_id, f"{who} is already {role.value}.")
    db.session.commit()
    return _after_own_change(site_id, f"{who} is now {role.value}.")


@blp.post("/settings/members/<int:member_id>/remove")
def remove_member(site_id: int, member_id: int):
    site = _owned_site_locked(site_id)
    member = _site_member(site_id, member_id)
    who = member.user.display_name
    site_name = site.name
    try:
        members.remove_member(member)
    except OperationError as error:
        return _refuse(site, f"member-{member_id}", error.message)
    db.session.commit()
    return _after_own_change(site_id, f"{who} is no longer a member of {site_name}.")


# --- stats ----------------------------------------------------------------------------


CHART_WIDTH = 720
CHART_HEIGHT = 160


@blp.get("/stats")
def stats(site_id: int):
    member = access.require_member(site_id, Action.READ)
    days = site_stats.parse_days(request.args.get("days"))
    start, end = site_stats.period(days)
    numbers = site_stats.site_stats(site_id, start, end)
    before = site_stats.site_stats(site_id, *site_stats.previous_period(start, end))
    return render_template(
        "editor/site_stats.html",
        site=member.site,
        member=member,
        days=days,
        periods=site_stats.PERIODS,
        numbers=numbers,
        before=before,
        change=site_stats.change,
        bars=site_stats.chart_bars(numbers.per_day, CHART_WIDTH, CHART_HEIGHT),
        chart_width=CHART_WIDTH,
        chart_height=CHART_HEIGHT,
        highest=max((day.count for day in numbers.per_day), default=0),
        median=site_stats.human_duration(numbers.response.median),
        median_before=site_stats.human_duration(before.response.median),
    )
