"""Groups are right: one mistake is one group (and one instant mail) whatever text each
reader saw, near-duplicates join, close reports with another fix are flagged, the
regroup command merges old groups with a history, and a fix moves the whole group."""

from __future__ import annotations

from sqlalchemy import func, select

from feedback import grouping
from feedback.extensions import db
from feedback.mail import mailer
from feedback.models import (
    AuditAction,
    AuditEvent,
    HeldNotice,
    NotifySetting,
    OutboxMessage,
    Suggestion,
    SuggestionStatus,
)
from tests.grouping.conftest import TEXT
from tests.mail.conftest import add_member

EDITORS_NOTE = (
    "Editor's note: this article was updated on Tuesday with the harbour master's reply "
    "to the questions our readers sent.\n"
)


def count(model) -> int:
    return db.session.scalar(select(func.count()).select_from(model))


def fresh(report: Suggestion) -> Suggestion:
    db.session.expire_all()
    return db.session.get(Suggestion, report.id)


def history(report: Suggestion) -> list[tuple[str, str]]:
    events = db.session.scalars(
        select(AuditEvent)
        .where(AuditEvent.suggestion_id == report.id)
        .order_by(AuditEvent.created_at, AuditEvent.id)
    )
    return [(event.action.value, event.detail) for event in events]


def test_same_words_after_a_cms_edit_are_one_group_and_one_mail(site, report, push_article, inbox):
    """ "encompase → encompass": the CMS adds a line above it, a second reader reports
    the same words in the new text. Their positions differ; their place does not."""
    add_member(site, "ann@example.com", NotifySetting.INSTANT)
    first = report("encompase", "encompass")
    assert len(inbox.messages) == 1

    assert push_article(EDITORS_NOTE + TEXT).status_code == 201
    assert fresh(first).anchor_start == first.start + len(EDITORS_NOTE)
    second = report("encompase", "encompass", text=EDITORS_NOTE + TEXT)
    assert second.start != first.start  # the same words, elsewhere in another text

    assert second.duplicate_of_id == first.id
    assert fresh(first).report_count == 2
    assert len(inbox.messages) == 1
    assert count(OutboxMessage) == 1
    assert count(HeldNotice) == 0  # not a second group held back by the throttle either


def test_without_a_site_text_readers_texts_are_compared_by_quote_and_context(site, report, inbox):
    """No text from the site: two readers whose pages differ in a paragraph above the
    words report one mistake; the same words in another sentence are another one."""
    add_member(site, "ann@example.com", NotifySetting.INSTANT)
    first = report("encompase", "encompass")
    later_page = EDITORS_NOTE + TEXT.replace("rebuilt twice", "rebuilt three times")
    second = report("encompase", "encompass", text=later_page)
    assert second.duplicate_of_id == first.id
    assert len(inbox.messages) == 1

    elsewhere = TEXT + "\nA reader wrote that the new timetable would encompase the old quay."
    other = report("encompase", "encompass", text=elsewhere)
    # The first "encompase" of that text is the one reported already.
    assert other.duplicate_of_id == first.id
    body_text = elsewhere
    start = body_text.rindex("encompase")
    third = report(
        "encompase",
        "encompass",
        text=body_text,
        quote={
            "exact": "encompase",
            "prefix": body_text[start - 32 : start],
            "suffix": body_text[start + 9 : start + 41],
            "start": start,
            "end": start + 9,
        },
    )
    assert third.start == start
    assert third.duplicate_of_id is None  # the same words, another place: two groups


def test_near_duplicates_join_one_group(site, report, inbox):
    add_member(site, "ann@example.com", NotifySetting.INSTANT)
    then = report("then", "than")
    faster_then = report("faster then", "faster than")
    year = report("1968", "1966")
    built_in = report("built in 1968", "built in 1966")

    assert faster_then.duplicate_of_id == then.id
    assert built_in.duplicate_of_id == year.id
    assert (fresh(then).report_count, fresh(year).report_count) == (2, 2)
    # One instant mail per group: the first one; the second group's is held back by
    # the throttle, and neither duplicate adds one.
    assert count(OutboxMessage) + count(HeldNotice) == 2


def test_close_reports_with_another_text_are_flagged_not_joined(
    site, report, editor, editor_client
):
    then = report("then", "than")
    other_fix = report("faster then", "quicker than")  # overlaps, gives another text
    next_word = report("the timetable", "the schedule")  # 1 character after "then"
    far = report("eleven", "twelve")  # 24 characters before

    assert other_fix.duplicate_of_id is None
    assert other_fix.possible_duplicate_of_id == then.id
    assert next_word.duplicate_of_id is None
    assert next_word.possible_duplicate_of_id == then.id
    assert far.possible_duplicate_of_id is None

    client = editor_client(editor)
    queue = client.get("/editor/").get_data(as_text=True)
    assert queue.count('class="badge possible-duplicate"') == 2
    assert f'data-possible-duplicate="{then.id}"' in queue
    assert 'possible duplicate of <span class="possible-of">“then” → “than”</span>' in queue

    page = client.get(f"/editor/suggestions/{other_fix.id}").get_data(as_text=True)
    assert 'id="possible-duplicate"' in page
    assert f'href="/editor/suggestions/{then.id}"' in page
    first_page = client.get(f"/editor/suggestions/{then.id}").get_data(as_text=True)
    assert 'id="possibly-repeated"' in first_page
    assert "“faster then” → “quicker than”" in first_page

    # Once an editor puts them in one group, the flag has done its work.
    client.post(f"/editor/suggestions/{other_fix.id}/duplicate", {"of": str(then.id)})
    page = client.get(f"/editor/suggestions/{other_fix.id}").get_data(as_text=True)
    assert 'id="possible-duplicate"' not in page
    assert client.get("/editor/").get_data(as_text=True).count("badge possible-duplicate") == 1


def test_a_report_joining_an_accepted_group_moves_with_it(site, report, editor, editor_client):
    first = report("then", "than")
    client = editor_client(editor)
    client.post(f"/editor/suggestions/{first.id}/status", {"status": "accepted"})
    second = report("faster then", "faster than")
    assert second.duplicate_of_id == first.id
    assert second.status == SuggestionStatus.ACCEPTED
    assert history(second) == [("status", "new → accepted: joined its group")]


def split_apart(*reports: Suggestion) -> None:
    """Groups as the old rule left them: each report on its own."""
    for stored in reports:
        stored.duplicate_of_id = None
        stored.report_count = 1
    db.session.commit()


def test_regroup_merges_the_groups_the_rule_joins_and_records_it(site, report, run_cli):
    then = report("then", "than")
    faster_then = report("faster then", "faster than")
    again = report("then", "than")
    year = report("1968", "1966")
    other = report("then", "that")
    split_apart(faster_then, again)
    other.possible_duplicate_of_id = None
    db.session.commit()

    dry = run_cli("reports", "regroup", "--site", "example-key", "--dry-run")
    assert dry.exit_code == 0, dry.output
    assert dry.output.splitlines()[-1] == (
        "would merge 2 groups, would flag 1 possible duplicates (dry run: nothing changed)"
    )
    assert fresh(faster_then).duplicate_of_id is None
    assert fresh(other).possible_duplicate_of_id is None

    result = run_cli("reports", "regroup", "--site", "example-key")
    assert result.exit_code == 0, result.output
    assert result.output.splitlines() == [
        f"merged {faster_then.id} into {then.id}",
        f"merged {again.id} into {then.id}",
        "merged 2 groups, flagged 1 possible duplicates",
    ]
    assert fresh(faster_then).duplicate_of_id == fresh(again).duplicate_of_id == then.id
    assert fresh(then).report_count == 3
    assert fresh(year).duplicate_of_id is None
    assert fresh(other).possible_duplicate_of_id == then.id
    # The history says who merged what, on both sides.
    assert history(faster_then) == [("duplicate", str(then.id))]
    assert history(then) == [
        ("duplicate", "1 joined this group: the same mistake (regroup)"),
        ("duplicate", "1 joined this group: the same mistake (regroup)"),
    ]
    assert (
        db.session.scalar(
            select(AuditEvent.user_id).where(AuditEvent.action == AuditAction.DUPLICATE).limit(1)
        )
        is None
    )  # the service did it

    again_run = run_cli("reports", "regroup")
    assert again_run.output.splitlines() == ["merged 0 groups, flagged 0 possible duplicates"]


def test_regroup_keeps_an_accepted_decision(site, report, editor, editor_client, run_cli):
    then = report("then", "than")
    faster_then = report("faster then", "faster than")
    split_apart(faster_then)
    editor_client(editor).post(
        f"/editor/suggestions/{faster_then.id}/status", {"status": "accepted"}
    )

    assert run_cli("reports", "regroup").exit_code == 0
    assert fresh(faster_then).duplicate_of_id == then.id
    assert fresh(then).status == fresh(faster_then).status == SuggestionStatus.ACCEPTED
    assert (
        "status",
        "new → accepted: merged with an accepted group: the same mistake (regroup)",
    ) in history(then)


def test_regroup_refuses_an_unknown_site_in_one_line(site, report, run_cli):
    then = report("then", "than")
    faster_then = report("faster then", "faster than")
    split_apart(faster_then)
    result = run_cli("reports", "regroup", "--site", "nope")
    assert result.exit_code != 0
    assert result.output.strip().splitlines() == ["Error: no site has the key 'nope'"]
    assert fresh(faster_then).duplicate_of_id is None
    assert history(then) == []


def test_a_fix_in_a_new_site_text_moves_the_whole_group_and_is_logged_once(
    client, site, report, editor, editor_client, push_article, inbox
):
    site.settings = {"corrections_public": True}
    db.session.commit()
    reader = {"name": "Rita", "email": "rita@example.net", "notify": True}
    then = report("then", "than", reporter=reader)
    faster_then = report("faster then", "faster than", reporter=reader)
    # An editor saw "then → that" was meant as the same mistake and grouped it.
    that = report("then", "that", reporter=reader)
    editor_client(editor).post(f"/editor/suggestions/{that.id}/duplicate", {"of": str(then.id)})
    assert fresh(that).duplicate_of_id == then.id
    inbox.clear()

    # The site fixes it ("than", not "that") and corrects the minutes before it too.
    fixed_text = TEXT.replace("faster then", "faster than").replace("eleven", "twelve")
    assert push_article(fixed_text).status_code == 201
    mailer.deliver()

    group = [fresh(r) for r in (then, faster_then, that)]
    assert [r.status for r in group] == [SuggestionStatus.FIXED] * 3
    revision = group[0].fixed_revision
    assert all(r.fixed_revision_id == revision.id for r in group)
    # Each report moved through the transition table, with the history to show it.
    for member in group:
        assert history(member)[-1] == (
            "status",
            f"new → fixed: fixed in revision {revision.number}",
        )
    assert len(inbox.to("rita@example.net")) == 3  # each report's reader is told

    page = client.get(f"/sites/{site.public_key}/corrections").get_data(as_text=True)
    assert page.count("<ins>") == 1  # one entry for the one fix
    assert "<del>then</del><ins>than</ins>" in page
    # Its context is the site's corrected text, not what the readers saw.
    assert "twelve minutes later, a minute faster </span><del>then</del>" in page
    feed = client.get(f"/sites/{site.public_key}/corrections.atom").get_data(as_text=True)
    assert feed.count("<entry>") == 1


def test_regroup_compares_in_the_site_text(site, report, push_article):
    first = report("encompase", "encompass")
    assert push_article(EDITORS_NOTE + TEXT).status_code == 201
    second = report("encompase", "encompass", text=EDITORS_NOTE + TEXT)
    split_apart(second)
    summary = grouping.regroup(site.id)
    db.session.commit()
    assert summary.merged == 1
    assert fresh(second).duplicate_of_id == first.id


def test_the_report_page_shows_each_members_own_change(site, report, editor, editor_client):
    then = report("then", "than")
    report("faster then", "faster than")
    page = editor_client(editor).get(f"/editor/suggestions/{then.id}").get_data(as_text=True)
    assert "The same report from 2 readers" in page
    assert (
        '<span class="member-change"><span class="diff">faster <del>then</del><ins>than</ins>'
        in page
    )


def test_regroup_leaves_apart_what_an_editor_split(site, report, editor, editor_client, run_cli):
    then = report("then", "than")
    faster_then = report("faster then", "faster than")
    client = editor_client(editor)
    client.post(f"/editor/suggestions/{faster_then.id}/split")
    assert fresh(faster_then).duplicate_of_id is None

    result = run_cli("reports", "regroup")
    assert result.output.splitlines() == ["merged 0 groups, flagged 0 possible duplicates"]
    assert fresh(faster_then).duplicate_of_id is None
    assert fresh(then).report_count == 1


def test_in_the_site_text_near_duplicates_join_and_close_ones_are_flagged(
    site, report, push_article
):
    assert push_article(TEXT).status_code == 201  # the site's own text: verified
    then = report("then", "than")
    faster_then = report("faster then", "faster than")
    next_words = report("the timetable", "the schedule")
    far = report("encompase", "encompass")
    older_copy = TEXT.replace("rebuilt twice since", "rebuilt since")  # a stale page
    stale = report("faster then", "faster than", text=older_copy)

    assert then.revision.source.verified  # each stands in the site's text
    assert faster_then.duplicate_of_id == stale.duplicate_of_id == then.id
    assert (next_words.duplicate_of_id, next_words.possible_duplicate_of_id) == (None, then.id)
    assert (far.duplicate_of_id, far.possible_duplicate_of_id) == (None, None)
