"""The `feedback` command."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest
from sqlalchemy import select

from feedback.extensions import db
from feedback.models import Membership, Role, Site, User

FEEDBACK = str(Path(sys.executable).parent / "feedback")


def test_site_add_prints_key_secret_and_tag(run_cli):
    result = run_cli(
        "site",
        "add",
        "Harbour Times",
        "--origin",
        "https://harbour.example.com",
        "--origin",
        "https://*.harbour.example.com",
    )
    assert result.exit_code == 0, result.output
    site = db.session.scalar(select(Site))
    assert site.name == "Harbour Times"
    assert site.allowed_origins == ["https://*.harbour.example.com", "https://harbour.example.com"]
    assert f"site key:    {site.public_key}" in result.output
    secret = next(line for line in result.output.splitlines() if line.startswith("site secret"))
    plain = secret.split()[2]
    assert site.check_secret(plain)
    assert plain not in site.secret_hash
    assert f'data-site="{site.public_key}"' in result.output
    assert "/static/js/feedback.js" in result.output


def test_site_add_refuses_bad_origin_and_stores_nothing(run_cli):
    result = run_cli("site", "add", "Bad", "--origin", "harbour.example.com/path")
    assert result.exit_code == 2
    assert "is not an origin like" in result.output
    assert db.session.scalar(select(Site)) is None


def test_site_list(run_cli, site):
    result = run_cli("site", "list")
    assert result.exit_code == 0
    assert result.output.splitlines() == [
        "example-key\tThe Example News\thttps://news.example.com https://*.example.org"
    ]


def test_editor_add_with_password_stdin(run_cli, site):
    result = run_cli(
        "editor",
        "add",
        "Ed@Example.com",
        "--site",
        "example-key",
        "--role",
        "owner",
        "--password-stdin",
        input="correct horse battery\n",
    )
    assert result.exit_code == 0, result.output
    user = db.session.scalar(select(User))
    assert user.email == "ed@example.com"
    assert user.check_password("correct horse battery")
    assert not user.check_password("wrong")
    assert "correct horse" not in user.password_hash
    membership = db.session.scalar(select(Membership))
    assert (membership.role, membership.site_id) == (Role.OWNER, site.id)


def test_editor_add_with_prompt(run_cli, site):
    result = run_cli(
        "editor",
        "add",
        "ed@example.com",
        "--site",
        "example-key",
        input="long enough pw\nlong enough pw\n",
    )
    assert result.exit_code == 0, result.output
    assert db.session.scalar(select(User)).check_password("long enough pw")


def test_editor_add_refuses_unknown_site_and_short_password(run_cli, site):
    unknown = run_cli(
        "editor",
        "add",
        "ed@example.com",
        "--site",
        "nope",
        "--password-stdin",
        input="long enough pw\n",
    )
    assert unknown.exit_code == 2
    assert "no site has the key 'nope'" in unknown.output
    short = run_cli(
        "editor",
        "add",
        "ed@example.com",
        "--site",
        "example-key",
        "--password-stdin",
        input="short\n",
    )
    assert short.exit_code == 2
    assert db.session.scalar(select(User)) is None


def _environment(tmp_path, **extra) -> dict:
    env = {key: value for key, value in os.environ.items() if not key.startswith("FEEDBACK_")}
    env["FEEDBACK_INSTANCE_PATH"] = str(tmp_path)
    env.update(extra)
    return env


def run_feedback(env: dict, *args: str, timeout: int = 60) -> subprocess.CompletedProcess:
    """Run the installed `feedback` command as a user would."""
    return subprocess.run(
        [FEEDBACK, *args], capture_output=True, text=True, env=env, timeout=timeout, check=False
    )


def test_refuses_to_start_without_secret_key(tmp_path):
    result = run_feedback(_environment(tmp_path), "site", "list")
    assert result.returncode == 2
    assert result.stderr.strip().count("\n") == 0
    assert "FEEDBACK_SECRET_KEY is not set" in result.stderr


def test_db_upgrade_then_commands_work(tmp_path):
    env = _environment(
        tmp_path,
        FEEDBACK_SECRET_KEY="s3cret-for-test",
        FEEDBACK_DATABASE_URL=f"sqlite:///{tmp_path / 'cli.sqlite3'}",
    )
    upgrade = run_feedback(env, "db", "upgrade", timeout=120)
    assert upgrade.returncode == 0, upgrade.stderr
    added = run_feedback(env, "site", "add", "Gazette", "--origin", "https://g.example")
    assert added.returncode == 0, added.stderr
    listed = run_feedback(env, "site", "list")
    assert "\tGazette\thttps://g.example" in listed.stdout
    # A refused argument is one line on stderr, not click's usage text.
    refused = run_feedback(env, "site", "add", "Gazette", "--origin", "not an origin")
    assert refused.returncode == 2
    assert refused.stderr.startswith("feedback: Invalid value for --origin")
    assert refused.stderr.strip().count("\n") == 0


def test_editor_add_holds_passwords_to_the_ui_rule(run_cli, site):
    nine = run_cli(
        "editor", "add", "ed@example.com", "--site", "example-key", "--password-stdin",
        input="ninechars\n",
    )  # fmt: skip
    assert nine.exit_code == 2
    assert "at least 10 characters" in nine.output
    assert db.session.scalar(select(User)) is None


@pytest.mark.parametrize(
    "email", ["two@example.com,three@example.com", "ed@localhost", "ed@example.com\x00"]
)
def test_editor_add_holds_addresses_to_the_ui_rule(run_cli, site, email):
    result = run_cli(
        "editor", "add", email, "--site", "example-key", "--password-stdin",
        input="long enough pw\n",
    )  # fmt: skip
    assert result.exit_code == 2
    assert "not an email address" in result.output
    assert db.session.scalar(select(User)) is None


def test_editor_add_cannot_demote_the_last_owner(run_cli, site):
    add = ("editor", "add", "ed@example.com", "--site", "example-key", "--password-stdin")
    assert run_cli(*add, "--role", "owner", input="long enough pw\n").exit_code == 0
    demoted = run_cli(*add, "--role", "viewer")
    assert demoted.exit_code == 1
    assert "The site needs an owner" in demoted.output
    db.session.expire_all()
    assert db.session.scalar(select(Membership.role)) == Role.OWNER
    second = ("editor", "add", "ann@example.com", "--site", "example-key", "--role", "owner")
    assert run_cli(*second, "--password-stdin", input="long enough pw\n").exit_code == 0
    assert run_cli(*add, "--role", "viewer").exit_code == 0
    db.session.expire_all()
    roles = db.session.execute(select(User.email, Membership.role).join(Membership)).all()
    assert sorted(roles) == [("ann@example.com", Role.OWNER), ("ed@example.com", Role.VIEWER)]


def test_site_add_holds_origins_to_the_ui_limit(run_cli):
    origins = [arg for n in range(101) for arg in ("--origin", f"https://n{n}.example.com")]
    result = run_cli("site", "add", "Too Many", *origins)
    assert result.exit_code == 2
    assert "At most 100 origins" in result.output
    assert db.session.scalar(select(Site)) is None
