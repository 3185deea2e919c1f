"""The one rule for "the same mistake": which reports form one group, which are only
possibly the same, and the command that applies the rule to the groups already open.

Two reports are compared where they stand in one text, never by positions taken from
two different texts:

- where the article has a verified revision (from the site itself), in that text: each
  report's span as re-anchoring placed it there (a report not carried there yet is
  placed as re-anchoring would place it);
- where it has none, or a report cannot be placed in it, by the quote with its context:
  the two readers' windows (prefix + exact + suffix, normalised) are laid over each
  other where they read the same, and the spans compared in that shared stretch.

In that shared text, spans that overlap and whose suggested changes give the same
resulting text are the same mistake ("then → than" and "faster then → faster than"), so
the reports join one group. Spans that overlap, or lie within ``NEAR_CHARS`` of each
other, but give different texts are only flagged as a *possible duplicate*: an editor
decides. Reports without a suggested change are the same only on the same words.
"""

from __future__ import annotations

import enum
import functools
import itertools
import uuid
from collections.abc import Iterable
from dataclasses import dataclass

from sqlalchemy import Select, Text, and_, func, literal, or_, select

from feedback import anchoring, revisions, workflow
from feedback.extensions import db
from feedback.models import ArticleRevision, AuditAction, AuditEvent, Suggestion
from feedback.models.core import OPEN_STATUSES, AnchorState

# Spans this close (in characters) that give different texts may be one mistake.
NEAR_CHARS = 10
# Candidate reports read at a time while looking for a new report's group.
CANDIDATE_BATCH = 50
# Where no verified text exists, two readers' windows must read the same for at least
# this many characters either side of the spans (or to the start or end of the text).
SHARED_CONTEXT_CHARS = anchoring.QUOTE_CONTEXT_CHARS // 2


class Likeness(enum.Enum):
    SAME = "same"  # one mistake: one group
    NEAR = "near"  # close by with another fix: flagged, an editor decides
    APART = "apart"


@dataclass(frozen=True)
class Standing:
    """What the rule needs of a report: its quote, its fix and, when it has one, its
    span in the article's verified text."""

    exact: str
    prefix: str
    suffix: str
    replacement: str | None
    verified_span: tuple[int, int] | None

    @functools.cached_property
    def window(self) -> str:
        """The quote with its context, as the reader's text has it."""
        return self.prefix + self.exact + self.suffix


def _flat(text: str) -> str:
    """Whitespace runs as one space: a selection that took a space along changes nothing."""
    return " ".join(text.split())


def _judge(text: str, a: tuple[int, int], a_fix, b: tuple[int, int], b_fix) -> Likeness:
    """Two spans of one text with their suggested changes (None: no change suggested)."""
    (a_start, a_end), (b_start, b_end) = a, b
    gap = max(a_start, b_start) - min(a_end, b_end)
    if gap > NEAR_CHARS:
        return Likeness.APART
    if gap < 0:  # they overlap
        if a_fix is None or b_fix is None:
            same = a_fix is b_fix and text[a_start:a_end] == text[b_start:b_end]
        else:
            low, high = min(a_start, b_start), max(a_end, b_end)
            same = _flat(text[low:a_start] + a_fix + text[a_end:high]) == _flat(
                text[low:b_start] + b_fix + text[b_end:high]
            )
        if same:
            return Likeness.SAME
    return Likeness.NEAR


def _window(report: Standing) -> tuple[str, int, int]:
    return report.window, len(report.prefix), len(report.prefix) + len(report.exact)


def _offsets(a: Standing, b: Standing) -> list[int]:
    """Where b's window may lie in a's (b's position + offset = a's position): at each
    place one's words stand in the other's window."""
    a_text, a_start, _ = _window(a)
    b_text, b_start, _ = _window(b)
    offsets = []
    at = a_text.find(b.exact)
    while at != -1:
        offsets.append(at - b_start)
        at = a_text.find(b.exact, at + 1)
    at = b_text.find(a.exact)
    while at != -1:
        offsets.append(a_start - at)
        at = b_text.find(a.exact, at + 1)
    return sorted(set(offsets), key=abs)


def _edge_ok(margin: int, limits: list[str]) -> bool:
    """Whether the shared stretch reaches far enough on one side: SHARED_CONTEXT_CHARS, or
    to where the window ending it stops because its reader's text does (its context on
    that side is shorter than a quote's context)."""
    return margin >= SHARED_CONTEXT_CHARS or any(
        len(context) < anchoring.QUOTE_CONTEXT_CHARS for context in limits
    )


def _compare_by_context(a: Standing, b: Standing) -> Likeness:
    """The quote-with-context rule, for reports with no span in one verified text."""
    a_text, a_start, a_end = _window(a)
    b_text, b_start, b_end = _window(b)
    for offset in _offsets(a, b):
        b_stop = offset + len(b_text)  # where b's window ends, in a's positions
        shared_start, shared_end = max(0, offset), min(len(a_text), b_stop)
        if shared_start >= shared_end:
            continue
        if a_text[shared_start:shared_end] != b_text[shared_start - offset : shared_end - offset]:
            continue
        low, high = min(a_start, b_start + offset), max(a_end, b_end + offset)
        if low < shared_start or high > shared_end:
            continue
        left = [w.prefix for w, at in ((a, 0), (b, offset)) if at == shared_start]
        right = [w.suffix for w, at in ((a, len(a_text)), (b, b_stop)) if at == shared_end]
        if not (_edge_ok(low - shared_start, left) and _edge_ok(shared_end - high, right)):
            continue
        # One text holding both windows, each part read from the window that has it.
        merged = b_text[: max(0, -offset)] + a_text + b_text[max(0, len(a_text) - offset) :]
        shift = max(0, -offset)
        return _judge(
            merged,
            (a_start + shift, a_end + shift),
            a.replacement,
            (b_start + offset + shift, b_end + offset + shift),
            b.replacement,
        )
    return Likeness.APART


def compare(a: Standing, b: Standing, verified_text: str | None) -> Likeness:
    """THE rule: whether two reports on one article are one mistake."""
    if verified_text is not None and a.verified_span and b.verified_span:
        return _judge(verified_text, a.verified_span, a.replacement, b.verified_span, b.replacement)
    if b.exact not in a.window and a.exact not in b.window:
        return Likeness.APART  # neither window holds the other's words: no common place
    return _compare_by_context(a, b)


# --- Reports as they are stored ------------------------------------------------------


def span_in(
    report: Suggestion | anchoring.Quote,
    revision_id: int,
    replacement: str | None,
    verified: ArticleRevision,
) -> tuple[int, int] | None:
    """Where a report stands in the verified revision: where re-anchoring placed it, or,
    not carried there yet, where it would place its words unchanged. None when they are
    not there (gone, changed, already fixed)."""
    if isinstance(report, Suggestion):
        if report.anchor_revision_id == verified.id:
            if report.anchor_state == AnchorState.ORPHANED or report.anchor_start is None:
                return None
            return report.anchor_start, report.anchor_end
        if report.anchor_revision_id is None and revision_id == verified.id:
            return report.start, report.end
        if report.anchor_revision_id is not None and report.anchor_start is not None:
            base, start, end = report.anchor_revision_id, report.anchor_start, report.anchor_end
            quote = anchoring.quote_at(db.session.get(ArticleRevision, base).text, start, end)
        else:
            quote = anchoring.Quote(
                report.exact, report.prefix or "", report.suffix or "", report.start, report.end
            )
    else:
        if revision_id == verified.id:
            return report.start, report.end
        quote = report
    found = anchoring.reanchor(verified.text, quote, replacement, quote.start)
    if found.outcome is not anchoring.AnchorOutcome.ANCHORED:
        return None
    return found.start, found.end


def standing_of(report: Suggestion, verified: ArticleRevision | None) -> Standing:
    return Standing(
        exact=report.exact,
        prefix=report.prefix or "",
        suffix=report.suffix or "",
        replacement=report.replacement,
        verified_span=(
            span_in(report, report.revision_id, report.replacement, verified)
            if verified is not None
            else None
        ),
    )


def lock_article(article_id: int) -> None:
    """Until the commit, let no other report of the article look for its group, so two
    readers reporting one mistake at once (in the same or in overlapping words) form
    one group. SQLite writers take turns already (BEGIN IMMEDIATE); PostgreSQL takes a
    transaction-level advisory lock on the article."""
    if db.session.get_bind().dialect.name == "postgresql":
        db.session.execute(select(func.pg_advisory_xact_lock(article_id, 0)))


def _open_quoted_query(article_id: int, *conditions):
    """The article's open reports of a span (that meet ``conditions``), oldest first."""
    return (
        select(Suggestion)
        .where(
            Suggestion.article_id == article_id,
            Suggestion.status.in_(OPEN_STATUSES),
            Suggestion.exact.is_not(None),
            *conditions,
        )
        .order_by(Suggestion.created_at, Suggestion.id)
    )


def _open_quoted(article_id: int, *conditions) -> list[Suggestion]:
    return list(db.session.scalars(_open_quoted_query(article_id, *conditions)))


def _holds(haystack, needle):
    """SQL: whether ``needle`` stands in ``haystack``, as a plain substring."""
    if db.session.get_bind().dialect.name == "postgresql":
        return func.strpos(haystack, needle) > 0
    return func.instr(haystack, needle) > 0


def _candidates(article_id: int, new: Standing, verified: ArticleRevision | None) -> Select:
    """The open reports the rule can find like ``new``, read from the database without
    the others (an article may have a thousand open reports): in the verified text, those
    near its span, those not placed there yet, and those gone from it whose window shares
    words with its own; else those whose window shares words with its own (a necessary
    condition of the quote-with-context rule)."""
    window = Suggestion.prefix + Suggestion.exact + Suggestion.suffix
    shares_words = or_(
        _holds(window, new.exact), _holds(literal(new.window, Text), Suggestion.exact)
    )
    if verified is None or new.verified_span is None:
        return _open_quoted_query(article_id, shares_words)
    low, high = new.verified_span[0] - NEAR_CHARS, new.verified_span[1] + NEAR_CHARS
    placed = Suggestion.anchor_revision_id == verified.id
    own = and_(Suggestion.anchor_revision_id.is_(None), Suggestion.revision_id == verified.id)
    elsewhere = or_(
        and_(
            Suggestion.anchor_revision_id.is_not(None), Suggestion.anchor_revision_id != verified.id
        ),
        and_(Suggestion.anchor_revision_id.is_(None), Suggestion.revision_id != verified.id),
    )
    return _open_quoted_query(
        article_id,
        or_(
            and_(placed, Suggestion.anchor_start <= high, Suggestion.anchor_end >= low),
            and_(own, Suggestion.start <= high, Suggestion.end >= low),
            elsewhere,
            and_(placed, Suggestion.anchor_start.is_(None), shares_words),
        ),
    )


@dataclass(frozen=True)
class GroupMatch:
    """Where a new report belongs."""

    head: Suggestion | None  # the group it joins
    possible: Suggestion | None  # else the group it may repeat (flagged, not joined)


def find_group(revision: ArticleRevision, quote: anchoring.Quote, replacement) -> GroupMatch:
    """The open group a new report (``quote`` over ``revision``, the text its reader
    saw) belongs to by the rule; call ``lock_article`` first."""
    verified = revisions.current_verified_revision(revision.article_id)
    new = Standing(
        quote.exact,
        quote.prefix,
        quote.suffix,
        replacement,
        span_in(quote, revision.id, replacement, verified) if verified is not None else None,
    )
    text = verified.text if verified is not None else None
    possible = None
    # Read in pages and stop at the first match: on a much-reported article most
    # candidates repeat a mistake whose group is found among the oldest few.
    candidates = _candidates(revision.article_id, new, verified)
    for offset in itertools.count(0, CANDIDATE_BATCH):
        page = db.session.scalars(candidates.limit(CANDIDATE_BATCH).offset(offset)).all()
        for other in page:
            likeness = compare(new, standing_of(other, verified), text)
            if likeness is Likeness.SAME:
                return GroupMatch(workflow.group_head(other), None)
            if likeness is Likeness.NEAR and possible is None:
                possible = workflow.group_head(other)
        if len(page) < CANDIDATE_BATCH:
            break
    return GroupMatch(None, possible)


@dataclass
class RegroupSummary:
    merges: list[tuple[Suggestion, Suggestion]]  # (group folded in, the group it joined)
    flagged: int  # group heads newly flagged as possible duplicates

    @property
    def merged(self) -> int:
        return len(self.merges)


def _pairs_to_compare(standings: list[Standing]):
    """(i, j), i < j: the pairs of reports the rule may find alike. Those placed in the
    verified text pair only with those near them there (a sweep in span order); the
    others with every report."""
    placed = sorted(
        (standing.verified_span, index)
        for index, standing in enumerate(standings)
        if standing.verified_span is not None
    )
    for at, ((_, end), index) in enumerate(placed):
        for (start, _), other in placed[at + 1 :]:
            if start > end + NEAR_CHARS:
                break
            yield min(index, other), max(index, other)
    unplaced = {index for index, standing in enumerate(standings) if standing.verified_span is None}
    for index in sorted(unplaced):
        for other in range(len(standings)):
            if other != index and (other not in unplaced or other < index):
                yield min(index, other), max(index, other)


def _split_pairs(report_ids: list) -> set[tuple]:
    """(a, b) and (b, a) for every report an editor split off from another: what an
    editor took apart, regrouping leaves apart."""
    events = db.session.execute(
        select(AuditEvent.suggestion_id, AuditEvent.detail).where(
            AuditEvent.action == AuditAction.SPLIT, AuditEvent.suggestion_id.in_(report_ids)
        )
    )
    pairs = set()
    for report_id, other in events:
        try:
            other_id = uuid.UUID(other)
        except ValueError:
            continue
        pairs |= {(report_id, other_id), (other_id, report_id)}
    return pairs


def regroup_article(article_id: int, *, dry_run: bool = False) -> RegroupSummary:
    """Apply the rule to the article's open groups: fold each group it joins into the
    oldest (every merge recorded in the history, by the service) and flag possible
    duplicates not flagged yet. Groups an editor split apart stay apart. Does not commit."""
    summary = RegroupSummary([], 0)
    reports = _open_quoted(article_id)
    if len(reports) < 2:
        return summary
    verified = revisions.current_verified_revision(article_id)
    text = verified.text if verified is not None else None
    heads = {workflow.group_head(report).id: workflow.group_head(report) for report in reports}
    age = {head_id: (head.created_at, str(head_id)) for head_id, head in heads.items()}
    # Each report as (its group's head id, what the rule needs of it), oldest first.
    items = [(workflow.group_head(report).id, standing_of(report, verified)) for report in reports]
    folded_into: dict = {}  # a group's head id -> the head id of the group it joins
    members: dict = {}  # a group's head id -> its reports' ids
    for report in reports:
        members.setdefault(workflow.group_head(report).id, set()).add(report.id)
    split = _split_pairs([report.id for report in reports])

    def root(head_id):
        while head_id in folded_into:
            head_id = folded_into[head_id]
        return head_id

    def split_apart(first, second) -> bool:
        """Whether an editor split a report of one group off from the other."""
        return any((x, y) in split for x in members[first] for y in members[second])

    near: dict = {}  # a group's head id -> the head id of an older group it may repeat
    for earlier_index, later_index in _pairs_to_compare([standing for _, standing in items]):
        (earlier_head, earlier), (later_head, later) = items[earlier_index], items[later_index]
        first, second = root(earlier_head), root(later_head)
        if first == second:
            continue
        likeness = compare(earlier, later, text)
        if likeness is Likeness.APART or split_apart(first, second):
            continue
        if age[second] < age[first]:
            first, second = second, first
        if likeness is Likeness.SAME:
            folded_into[second] = first
            members[first] |= members.pop(second)
        else:
            near.setdefault(second, first)

    for fold in sorted(folded_into, key=age.__getitem__):
        summary.merges.append((heads[fold], heads[root(fold)]))
    flags = {}
    for later, earlier in near.items():
        later, earlier = root(later), root(earlier)
        if later != earlier and heads[later].possible_duplicate_of_id is None:
            flags[later] = earlier
    summary.flagged = len(flags)
    if not dry_run:
        for later, earlier in flags.items():
            heads[later].possible_duplicate_of_id = earlier
        for fold, keep in summary.merges:
            workflow.merge_groups(fold, keep, "the same mistake (regroup)")
    return summary


def articles_with_open_groups(site_id: int | None) -> Iterable[int]:
    """Articles with at least two open groups of a span: the only ones regrouping can touch."""
    query = (
        select(Suggestion.article_id)
        .where(
            Suggestion.status.in_(OPEN_STATUSES),
            Suggestion.exact.is_not(None),
            Suggestion.duplicate_of_id.is_(None),
        )
        .group_by(Suggestion.article_id)
        .having(func.count() > 1)
        .order_by(Suggestion.article_id)
    )
    if site_id is not None:
        query = query.where(Suggestion.site_id == site_id)
    return list(db.session.scalars(query))


def regroup(site_id: int | None = None, *, dry_run: bool = False) -> RegroupSummary:
    """regroup_article over every article (of one site, or all). Does not commit."""
    total = RegroupSummary([], 0)
    for article_id in articles_with_open_groups(site_id):
        part = regroup_article(article_id, dry_run=dry_run)
        total.merges.extend(part.merges)
        total.flagged += part.flagged
    return total


def possibly_repeating(head: Suggestion) -> list[Suggestion]:
    """The open groups (their first reports) flagged as possibly repeating the group of
    ``head``, oldest first."""
    flagged = db.session.scalars(
        select(Suggestion)
        .where(
            Suggestion.possible_duplicate_of_id.in_([m.id for m in workflow.group_members(head)]),
            Suggestion.duplicate_of_id.is_(None),
            Suggestion.status.in_(OPEN_STATUSES),
        )
        .order_by(Suggestion.created_at, Suggestion.id)
    )
    return [other for other in flagged if other.may_repeat is head]
