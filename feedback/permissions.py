"""What each role may do on a site: the one map of role to permitted actions.

Views ask ``editor.access.require_member(site_id, action)``, templates ask
``member.may(...)``, the CLI shows it (``feedback editor roles``) and the choice of
who may be assigned a report is read from it. docs/editors.md shows the same table,
and the tests check each against the other and every editor route against it.
"""

from __future__ import annotations

import enum


class Role(enum.StrEnum):
    OWNER = "owner"  # site settings and members, plus everything an editor does
    EDITOR = "editor"  # triage
    VIEWER = "viewer"  # read only


class Action(enum.StrEnum):
    # See the site's queue, reports, articles, stats and exports.
    READ = "read"
    # Change a report's status, group and split reports, assign, write notes, see the
    # readers' addresses; only those who may triage can be assigned a report.
    TRIAGE = "triage"
    # Change the site's name, allowed origins and options, rotate its server secret.
    CONFIGURE_SITE = "configure_site"
    # Add members, change their roles, remove them.
    MANAGE_MEMBERS = "manage_members"
    # See the site's mail that failed for good and send it again.
    RESEND_MAIL = "resend_mail"


PERMISSIONS: dict[Role, frozenset[Action]] = {
    Role.VIEWER: frozenset({Action.READ}),
    Role.EDITOR: frozenset({Action.READ, Action.TRIAGE}),
    Role.OWNER: frozenset(Action),
}


def permits(role: Role, action: Action) -> bool:
    return action in PERMISSIONS[role]


def roles_permitted(action: Action) -> list[Role]:
    """The roles that may do ``action``, for queries over memberships."""
    return [role for role in Role if permits(role, action)]


def actions_of(role: Role) -> list[Action]:
    """What ``role`` may do, in the order the actions are declared."""
    return [action for action in Action if permits(role, action)]
