"""The `feedback` command: sites, editors, database, demo and servers."""

from __future__ import annotations

import os
import sys
import threading

import click
from flask import current_app
from flask.cli import AppGroup, ScriptInfo, run_command, shell_command
from flask_migrate.cli import db as db_commands
from sqlalchemy import select

from feedback import __version__, create_app, members, signins, sites
from feedback.config import ENV_PREFIX, ConfigurationError
from feedback.errors import Invalid, OperationError
from feedback.extensions import db
from feedback.models import IncomingReport, Role, Site, User
from feedback.permissions import actions_of


def script_tag(site: Site) -> str:
    return site.script_tag(current_app.config["BASE_URL"] or "https://YOUR-FEEDBACK-SERVICE")


@click.group(cls=AppGroup)
@click.version_option(__version__, prog_name="feedback")
def cli():
    """Reader corrections service."""


# Flask's own commands, with the app always built by create_app() from FEEDBACK_* settings.
cli.add_command(run_command, "run")
cli.add_command(shell_command, "shell")
cli.add_command(db_commands, "db")


@cli.group()
def site():
    """Sites that embed the snippet."""


@site.command("add")
@click.argument("name")
@click.option(
    "--origin",
    "origins",
    multiple=True,
    required=True,
    help="Allowed origin, like https://news.example.com or https://*.example.com.",
)
def site_add(name: str, origins: tuple[str, ...]):
    """Add a site; prints its key, its server secret (shown once) and the script tag."""
    try:
        new_site, secret = sites.create_site(name, origins, where="--origin")
    except Invalid as error:
        raise _bad_parameter(error, {"name": "NAME", "origins": "--origin"}) from error
    new_site.allowed_origins = sorted(new_site.allowed_origins)
    db.session.commit()
    click.echo(f"site key:    {new_site.public_key}")
    click.echo(f"site secret: {secret}  (shown once; for the CMS revision API)")
    click.echo("script tag:")
    click.echo(f"  {script_tag(new_site)}")


@site.command("list")
def site_list():
    """List sites: key, name, allowed origins."""
    for row in db.session.scalars(select(Site).order_by(Site.id)):
        click.echo(f"{row.public_key}\t{row.name}\t{' '.join(row.allowed_origins or [])}")


@cli.group()
def editor():
    """People who triage reports."""


@editor.command("add")
@click.argument("email")
@click.option("--site", "site_key", required=True, help="Key of the site to join.")
@click.option(
    "--role",
    type=click.Choice([role.value for role in Role]),
    default="editor",
    show_default=True,
    help="What the member may do: see `feedback editor roles`.",
)
@click.option("--name", default="", help="Display name.")
@click.option("--password-stdin", is_flag=True, help="Read the password from standard input.")
def editor_add(email: str, site_key: str, role: str, name: str, password_stdin: bool):
    """Add an editor to a site (or a site to an existing editor, or change their role)."""
    hints = {"email": "EMAIL", "password": "password", "name": "--name"}
    try:
        email = members.checked_email(email)
    except Invalid as error:
        raise _bad_parameter(error, hints) from error
    member_site = db.session.scalar(select(Site).where(Site.public_key == site_key))
    if member_site is None:
        raise click.BadParameter(f"no site has the key {site_key!r}", param_hint="--site")
    user = db.session.scalar(select(User).where(User.email == email))
    # Asked before the site is locked: nobody waits while someone types.
    password = _read_password(password_stdin) if user is None else None
    members.lock_site(member_site.id)
    existing = members.find_member(member_site.id, user.id) if user is not None else None
    try:
        if existing is not None:
            members.change_role(existing, Role(role))
        else:
            members.add_member(member_site, email, Role(role), name=name, password=password)
    except Invalid as error:
        raise _bad_parameter(error, hints) from error
    except OperationError as error:
        raise click.ClickException(error.message) from error
    db.session.commit()
    click.echo(f"{email} is {role} of {member_site.name}")


@editor.command("sign-out")
@click.argument("email")
def editor_sign_out(email: str):
    """End every sign-in of an editor (a lost laptop, a copied cookie): each browser must
    sign in again."""
    user = db.session.scalar(select(User).where(User.email == email.strip().lower()))
    if user is None:
        raise click.BadParameter(f"no editor has the address {email!r}", param_hint="EMAIL")
    ended = signins.end_all(user)
    db.session.commit()
    click.echo(f"{user.email}: {ended} sign-in{'' if ended == 1 else 's'} ended")


@editor.command("roles")
def editor_roles():
    """What each role may do on a site."""
    for role in Role:
        click.echo(f"{role.value}\t{' '.join(action.value for action in actions_of(role))}")


def _read_password(from_stdin: bool) -> str:
    if from_stdin:
        return sys.stdin.readline().rstrip("\r\n")
    return click.prompt("Password", hide_input=True, confirmation_prompt=True)


def _bad_parameter(error: Invalid, hints: dict[str, str]) -> click.BadParameter:
    """A refused value as click reports it: one line naming the option or argument."""
    field = next(iter(error.fields), "")
    return click.BadParameter(error.message_of(field), param_hint=hints.get(field))


@cli.group()
def article():
    """Article texts, as a CMS would push them (PUT /api/v1/articles does the same)."""


def _site_by_key(site_key: str) -> Site:
    found = db.session.scalar(select(Site).where(Site.public_key == site_key))
    if found is None:
        raise click.BadParameter(f"no site has the key {site_key!r}", param_hint="SITE_KEY")
    return found


@article.command("push")
@click.argument("site_key")
@click.argument("url")
@click.option("--title", default="", help="The article's title.")
@click.option("--text-file", type=click.File("r", encoding="utf-8"), default="-")
def article_push(site_key: str, url: str, title: str, text_file):
    """Store the article's text (from stdin by default) as the site's own, as its CMS
    would, and re-anchor its open reports."""
    from feedback import revisions
    from feedback.errors import OperationError
    from feedback.models import RevisionSource
    from feedback.origins import normalise_article_url

    # Read the text before the database: SQLite's write lock, held while waiting on a pipe,
    # would lock out the `feedback article text` writing into it.
    text = text_file.read()
    try:
        canonical = normalise_article_url(url)
        stored = revisions.record_verified_text(
            _site_by_key(site_key), canonical, title, text, RevisionSource.CMS
        )
    except (ValueError, OperationError) as error:
        raise click.ClickException(str(getattr(error, "message", error))) from error
    db.session.commit()
    number = stored.revision.number
    click.echo(f"revision {number}" + ("" if stored.created else " (text known already)"))
    if revisions.reanchor_soon(stored.revision.article_id):
        click.echo("re-anchoring the open reports")


def _article_by_url(site_key: str, url: str):
    """The site's article at ``url`` (normalised as stored), or None."""
    from feedback.models import Article
    from feedback.origins import normalise_article_url

    try:
        canonical = normalise_article_url(url)
    except ValueError as error:
        raise click.BadParameter(str(error), param_hint="URL") from error
    return db.session.scalar(
        select(Article).filter_by(site_id=_site_by_key(site_key).id, url=canonical)
    )


@article.command("text")
@click.argument("site_key")
@click.argument("url")
def article_text(site_key: str, url: str):
    """Print the article's current verified text (pushed by its CMS or read from its page)."""
    from feedback import revisions

    found = _article_by_url(site_key, url)
    newest = revisions.current_verified_revision(found.id) if found is not None else None
    if newest is None:
        raise click.ClickException(
            "no verified text is stored for this article (readers' texts are only claims;"
            " `feedback article fetch` reads its page)"
        )
    click.echo(newest.text)


@article.command("fetch")
@click.argument("site_key")
@click.argument("url")
def article_fetch(site_key: str, url: str):
    """Read the article's page from the site now and adopt its text if it is plausible
    (within the site's hourly budget); exits 1 when nothing was adopted."""
    from feedback import fetching
    from feedback.models import FetchOutcome

    found = _article_by_url(site_key, url)
    if found is None:
        raise click.ClickException("no such article: it has no reports and no pushed text")
    result = fetching.fetch_article(found.id)
    line = f"{result.outcome.value}: {result.detail}"
    if result.outcome not in (FetchOutcome.ADOPTED, FetchOutcome.UNCHANGED):
        raise click.ClickException(line)
    click.echo(line)


@cli.group()
def intake():
    """Reports accepted by the API and not filed yet (the worker files them)."""


@intake.command("list")
def intake_list():
    """Each waiting report: id, site key, when it arrived, failed attempts, last error."""
    rows = db.session.execute(
        select(IncomingReport, Site.public_key)
        .join(Site, Site.id == IncomingReport.site_id)
        .where(IncomingReport.filed_at.is_(None))
        .order_by(IncomingReport.received_at)
    ).all()
    if not rows:
        click.echo("no report is waiting")
    for report, site_key in rows:
        error = (report.last_error or "").replace("\n", " ")
        click.echo(
            f"{report.id}\t{site_key}\t{report.received_at.isoformat(timespec='seconds')}"
            f"\t{report.attempts}\t{error}"
        )


@intake.command("file")
@click.argument("report_ids", nargs=-1, type=click.UUID)
def intake_file(report_ids):
    """File waiting reports now, however often they failed before (all when no id is
    given). Exits 1 when one still fails; its error is shown and kept."""
    from feedback import suggestions

    waiting = select(IncomingReport.id).where(IncomingReport.filed_at.is_(None))
    if report_ids:
        waiting = waiting.where(IncomingReport.id.in_(report_ids))
    ids = db.session.scalars(waiting.order_by(IncomingReport.received_at)).all()
    unknown = set(report_ids) - set(ids)
    if unknown:
        raise click.BadParameter(
            f"not a waiting report: {', '.join(sorted(map(str, unknown)))}",
            param_hint="REPORT_IDS",
        )
    db.session.rollback()
    failed = 0
    for report_id in ids:
        try:
            suggestions.file_report_noting_failure(report_id)
        except Exception as error:  # noted on the report; the others still get their turn
            failed += 1
            click.echo(f"{report_id}: {type(error).__name__}: {error}", err=True)
    click.echo(f"filed {len(ids) - failed}, failed {failed}")
    if failed:
        sys.exit(1)


@cli.group("reports")
def reports_commands():
    """Filed reports and their groups."""


@reports_commands.command("regroup")
@click.option("--site", "site_key", default=None, help="Only this site's reports (its key).")
@click.option("--dry-run", is_flag=True, help="Say what would merge; change nothing.")
def reports_regroup(site_key: str | None, dry_run: bool):
    """Merge the open groups that are one mistake by today's rule (the same words, or
    overlapping words giving the same text), each merge recorded in the history; flag
    possible duplicates. Prints how many groups were merged."""
    from feedback import grouping

    site_id = None
    if site_key is not None:
        found = db.session.scalar(select(Site).where(Site.public_key == site_key))
        if found is None:
            raise click.ClickException(f"no site has the key {site_key!r}")
        site_id = found.id
    summary = grouping.regroup(site_id, dry_run=dry_run)
    for folded, kept in summary.merges:
        click.echo(f"{'would merge' if dry_run else 'merged'} {folded.id} into {kept.id}")
    if dry_run:
        db.session.rollback()
        click.echo(
            f"would merge {summary.merged} groups, would flag {summary.flagged} "
            "possible duplicates (dry run: nothing changed)"
        )
        return
    db.session.commit()
    click.echo(f"merged {summary.merged} groups, flagged {summary.flagged} possible duplicates")


@cli.group("mail")
def mail_commands():
    """Mail the worker sends on its schedule."""


@mail_commands.command("send-due")
def mail_send_due():
    """Send now what the worker's schedule would: notices the throttle held whose window is
    over, digests of every period that has ended, and unsent mail."""
    from feedback.mail import digests, instant, mailer

    held = instant.release_held_notices()
    db.session.commit()
    queued = digests.queue_due_digests()
    report = mailer.deliver()
    click.echo(
        f"held notices released {len(held)}, digests queued {len(queued)}, "
        f"mails sent {report.sent}, to retry {report.retrying}, failed {report.failed}"
    )
    if report.retrying or report.failed:
        sys.exit(1)


@cli.group()
def privacy():
    """What is kept about readers (FEEDBACK_RETAIN_CONTACT_DAYS, _CLIENT_DAYS)."""


def _reader_address(raw: str) -> str:
    from feedback import privacy as privacy_rules

    try:
        return privacy_rules.reader_address(raw)
    except Invalid as error:
        raise click.BadParameter(error.message_of("email"), param_hint="EMAIL") from error


@privacy.command("forget")
@click.argument("email")
def privacy_forget(email: str):
    """Erase one reader's name, address and notify flag everywhere: their reports, reports
    still waiting to be filed, mail written to them (unsent mail is not sent)."""
    from feedback import privacy as privacy_rules

    erased = privacy_rules.forget_reader(_reader_address(email))
    db.session.commit()
    click.echo(
        f"erased {erased.total}: {erased.reports} reports, {erased.waiting_reports} waiting "
        f"reports, {erased.mails} mails (held notices hold no contact details)"
    )


@privacy.command("export")
@click.argument("email")
def privacy_export(email: str):
    """Print, as JSON, everything held about one reader."""
    import json

    from feedback import privacy as privacy_rules

    data = privacy_rules.reader_data(_reader_address(email))
    click.echo(json.dumps(data, ensure_ascii=False, indent=2))


@privacy.command("apply")
def privacy_apply():
    """Erase now what is past its time (the worker does it each hour)."""
    from feedback import privacy as privacy_rules

    summary = privacy_rules.apply_retention()
    contact, client = summary.contact, summary.client
    click.echo(
        f"contact details erased: {contact.reports} reports, {contact.waiting_reports} waiting "
        f"reports, {contact.mails} mails; user agents and client hashes erased: "
        f"{client.reports} reports, {client.waiting_reports} received reports"
    )


@cli.command("export")
@click.argument("site_key")
@click.option(
    "--format",
    "output_format",
    type=click.Choice(["jsonld", "csv"]),
    default="jsonld",
    show_default=True,
    help="W3C Web Annotation JSON-LD, or CSV.",
)
@click.option(
    "--output", "-o", type=click.File("w", encoding="utf-8"), default="-", help="Default: stdout."
)
def export_reports(site_key: str, output_format: str, output):
    """Export a site's reports (all but spam; nothing about the readers)."""
    import json

    from feedback import export

    chosen = _site_by_key(site_key)
    if output_format == "csv":
        for line in export.csv_lines(export.site_reports(chosen)):
            output.write(line)
        return
    collection = export.annotation_collection(chosen, export.collection_id(chosen))
    json.dump(collection, output, ensure_ascii=False, indent=2)
    output.write("\n")


@cli.command("demo", with_appcontext=False)
@click.option("--host", default="127.0.0.1", show_default=True)
@click.option("--port", default=5000, show_default=True, type=int)
def demo(host: str, port: int):
    """Run the demo: SQLite in the instance folder, a demo site, article and editor."""
    from flask_migrate import upgrade

    from feedback.demo import (
        DEMO_EDITOR_PASSWORD,
        DEMO_THROTTLE_MINUTES,
        seed_demo,
        seed_demo_reports,
        start_scheduled_jobs,
    )

    # Mail is kept for the dev mailbox and the queue runs in-process, so a report's
    # notice shows at /dev/mail/ the moment it is sent, with no worker or SMTP server.
    settings = {
        "DEMO": True,
        "BASE_URL": f"http://{host}:{port}",
        "MAIL_CAPTURE": True,
        "HUEY_IMMEDIATE": True,
    }
    if f"{ENV_PREFIX}_INSTANT_THROTTLE_MINUTES" not in os.environ:
        # The seed reports have just mailed the editor: a newcomer's first report, held by
        # the throttle, should show in the mailbox within a minute or two, not five.
        settings["INSTANT_THROTTLE_MINUTES"] = DEMO_THROTTLE_MINUTES
    app = create_app(settings)
    with app.app_context():
        upgrade()
        origins = {f"http://127.0.0.1:{port}", f"http://localhost:{port}", f"http://{host}:{port}"}
        try:
            seeded = seed_demo(sorted(origins))
        except Invalid as error:
            raise click.BadParameter(error.message_of("origins"), param_hint="--host") from error
        seed_demo_reports(seeded.site, f"http://{host}:{port}")
        click.echo(f"Demo article:  http://{host}:{port}/")
        click.echo(f"Editor queue:  http://{host}:{port}/editor/")
        click.echo(f"Sign in as:    {seeded.editor.email} / {DEMO_EDITOR_PASSWORD}")
        click.echo(f"Mail sent:     http://{host}:{port}/dev/mail/")
        click.echo(f"Database:      {app.config['SQLALCHEMY_DATABASE_URI']}")
        throttle = app.config["INSTANT_THROTTLE_MINUTES"]
        click.echo(
            f"Scheduled jobs run each minute: notices held by the {throttle}-minute throttle, "
            "digests, sweeps."
        )
    stop = threading.Event()
    start_scheduled_jobs(app, stop)
    try:
        app.run(host=host, port=port, threaded=True, use_reloader=False)
    finally:
        stop.set()


@cli.command("worker", with_appcontext=False)
@click.option("--workers", default=2, show_default=True, type=click.IntRange(1, 64))
@click.option(
    "--worker-type", type=click.Choice(["thread", "process"]), default="thread", show_default=True
)
def worker(workers: int, worker_type: str):
    """Run the task queue consumer: sends mail, builds digests, sweeps the outbox."""
    app = click.get_current_context().ensure_object(ScriptInfo).load_app()
    if app.config["HUEY_IMMEDIATE"]:
        raise click.ClickException("HUEY_IMMEDIATE is on: tasks run in the web process already")
    if not app.config["BASE_URL"]:
        # Mail written here (digests, readers' notices) has no request to take a host from.
        raise ConfigurationError(
            "FEEDBACK_BASE_URL is not set; the worker writes links into mail and needs the "
            "service's public address (https://corrections.example.com)"
        )
    huey = app.extensions["huey"]
    click.echo(f"feedback worker: {workers} {worker_type}(s) on {type(huey.storage).__name__}")
    huey.create_consumer(workers=workers, worker_type=worker_type, periodic=True).run()


def main() -> None:
    """Console entry point: a refusal is one line on stderr (exit status 2 for a bad
    configuration or argument, 1 for a failed command)."""
    try:
        cli.main(prog_name="feedback", standalone_mode=False, obj=ScriptInfo(create_app=create_app))
    except ConfigurationError as error:
        click.echo(f"feedback: {error}", err=True)
        sys.exit(2)
    except click.ClickException as error:
        # Not click's usage text: one line that says what was wrong.
        click.echo(f"feedback: {error.format_message()}", err=True)
        sys.exit(error.exit_code)
    except click.Abort:
        click.echo("Aborted.", err=True)
        sys.exit(1)
