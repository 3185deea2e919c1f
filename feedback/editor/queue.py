"""The triage queue's query: filters from the URL, and keyset pagination.

One row per report group (its first report). Pages are cut by the last row's sort
key (``after``/``before`` cursors), never by OFFSET, so a page deep in the list costs
what the first one does.
"""

from __future__ import annotations

import base64
import binascii
import json
import uuid
from dataclasses import dataclass, field, replace
from datetime import datetime

from sqlalchemy import Select, bindparam, func, or_, select, tuple_, union_all
from sqlalchemy.orm import aliased, selectinload

from feedback.editor.access import parse_number
from feedback.errors import Invalid
from feedback.extensions import db
from feedback.models import Article, Suggestion, SuggestionKind, SuggestionStatus
from feedback.models.core import OPEN_STATUSES, AnchorState
from feedback.text import folded_for_search

SORTS = {
    "newest": "Newest first",
    "oldest": "Oldest first",
    "most": "Most reported first",
}
ANCHOR_FILTERS = {
    "": "Any",
    "changed": "Text changed since reported",
}
MAX_SEARCH_LENGTH = 200
# On PostgreSQL, a word held by up to this many reports (and titled groups) is looked up
# in the trigram indexes first; a commoner one is checked group by group in the page's
# order, as it fills a page within a few hundred groups, where the look-up would read
# every one of its matches before showing any.
FEW_MATCHES = 5000
# Tab counts stop here: past it the tab says "1,000+" (counting further costs a scan).
COUNT_CAP = 1000


@dataclass(frozen=True)
class Tab:
    label: str
    statuses: tuple[SuggestionStatus, ...]
    # True: only reports whose text is gone; False: only those still in the text;
    # None: either.
    orphaned: bool | None


TABS = {
    "new": Tab("New", (SuggestionStatus.NEW,), orphaned=False),
    "accepted": Tab("Accepted, waiting for the fix", (SuggestionStatus.ACCEPTED,), False),
    "done": Tab(
        "Done",
        (SuggestionStatus.FIXED, SuggestionStatus.REJECTED, SuggestionStatus.SPAM),
        orphaned=None,
    ),
    "gone": Tab("Text gone", tuple(sorted(OPEN_STATUSES)), orphaned=True),
}
DEFAULT_TAB = "new"


@dataclass(frozen=True)
class QueueFilters:
    site: int | None = None
    tab: str = DEFAULT_TAB
    kind: SuggestionKind | None = None
    article: int | None = None
    assignee: str = ""  # "", "me", "none" or a user id
    min_reports: int = 1
    q: str = ""
    anchor: str = ""
    sort: str = "newest"
    errors: dict[str, str] = field(default_factory=dict)

    @property
    def statuses(self) -> tuple[SuggestionStatus, ...]:
        return TABS[self.tab].statuses

    def args(self, **changes) -> dict[str, object]:
        """The URL query for these filters (defaults left out), with ``changes``."""
        current = replace(self, **{k: v for k, v in changes.items() if k in _FIELDS})
        args: dict[str, object] = {}
        if current.site is not None:
            args["site"] = current.site
        if current.tab != DEFAULT_TAB:
            args["tab"] = current.tab
        if current.kind is not None:
            args["kind"] = current.kind.value
        if current.article is not None:
            args["article"] = current.article
        for name in ("assignee", "q", "anchor"):
            if getattr(current, name):
                args[name] = getattr(current, name)
        if current.min_reports > 1:
            args["min_reports"] = current.min_reports
        if current.sort != "newest":
            args["sort"] = current.sort
        args.update({k: v for k, v in changes.items() if k not in _FIELDS})
        return args


_FIELDS = {name for name in QueueFilters.__dataclass_fields__ if name != "errors"}


def parse_filters(args) -> QueueFilters:
    """Read the filters from the query string; a bad value is named in ``errors`` and
    left out, so the page still shows and says what it ignored."""
    errors: dict[str, str] = {}
    values: dict[str, object] = {}
    for name in ("site", "article"):
        raw = args.get(name, "")
        if raw:
            number = parse_number(raw)
            if number is None:
                errors[name] = f"“{raw}” is not a {name} number."
            else:
                values[name] = number
    tab = args.get("tab", "")
    if tab in TABS:
        values["tab"] = tab
    elif tab:
        errors["tab"] = "Unknown tab; choose one of the tabs."
    kind = args.get("kind", "")
    if kind:
        try:
            values["kind"] = SuggestionKind(kind)
        except ValueError:
            errors["kind"] = "Unknown kind; choose from the list."
    assignee = args.get("assignee", "")
    if assignee:
        if assignee in ("me", "none") or parse_number(assignee) is not None:
            values["assignee"] = assignee
        else:
            errors["assignee"] = "Unknown assignee."
    min_reports = args.get("min_reports", "")
    if min_reports:
        number = parse_number(min_reports)
        if number is None:
            errors["min_reports"] = "“Reported by at least” takes a whole number from 1."
        else:
            values["min_reports"] = number
    q = args.get("q", "").strip()
    if len(q) > MAX_SEARCH_LENGTH:
        errors["q"] = f"Search for at most {MAX_SEARCH_LENGTH} characters."
    elif q:
        values["q"] = q
    anchor = args.get("anchor", "")
    if anchor == "orphaned" and not tab:
        values["tab"] = "gone"  # links from before the tabs
    elif anchor in ANCHOR_FILTERS:
        values["anchor"] = anchor
    else:
        errors["anchor"] = "Unknown text filter."
    sort = args.get("sort", "newest")
    if sort in SORTS:
        values["sort"] = sort
    else:
        errors["sort"] = "Unknown order."
    return QueueFilters(**values, errors=errors)


def _escape_like(text: str) -> str:
    return text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")


def _one_of(column, values):
    # "= x" for one value, not "IN (x)": SQLite then reads the heads' index in the page's
    # order and stops after one page (with IN it sorts every matching row first).
    values = list(values)
    return column == values[0] if len(values) == 1 else column.in_(values)


def _matches(search: str):
    """A group matches when any of its reports' quote, fix, comment or reporter's name,
    or its article's title, holds ``search``, in any case of any script: both sides are
    case-folded in Python (``folded_for_search``), as SQL's own folding is ASCII-only
    on SQLite."""
    pattern = f"%{_escape_like(folded_for_search(search))}%"
    if db.session.get_bind().dialect.name == "postgresql" and _held_by_few(pattern):
        return Suggestion.id.in_(_heads_holding(pattern))
    duplicates = aliased(Suggestion)
    # Correlated (EXISTS), not IN (subquery): a word most groups hold fills the page after
    # a few rows, instead of first reading every duplicate and every title.
    in_title = (
        select(Article.id)
        .where(Article.id == Suggestion.article_id)
        .where(Article.search_title.like(pattern, escape="\\"))
        .exists()
    )
    in_group = (
        select(duplicates.id)
        .where(duplicates.duplicate_of_id == Suggestion.id)
        .where(duplicates.search_text.like(pattern, escape="\\"))
        .exists()
    )
    return or_(Suggestion.search_text.like(pattern, escape="\\"), in_title, in_group)


def _held_by_few(pattern: str) -> bool:
    """Whether at most ``FEW_MATCHES`` reports and titled groups hold ``pattern``: cheap
    either way (the trigram index finds a rare word; a common one fills the limit after
    a short scan). Asked once per session (a request): the page and its four tab counts
    share the answer, which only picks the plan, never what is found."""
    known = db.session.info.setdefault("search_held_by_few", {})
    if pattern not in known:
        known[pattern] = _count_holding(pattern) <= FEW_MATCHES
    return known[pattern]


def _count_holding(pattern: str) -> int:
    """How many reports and titled groups hold ``pattern``, counted up to one past
    ``FEW_MATCHES``."""
    reports = aliased(Suggestion)
    heads = aliased(Suggestion)
    titled = select(Article.id).where(Article.search_title.like(pattern, escape="\\"))
    rows = union_all(
        select(reports.id).where(reports.search_text.like(pattern, escape="\\")),
        select(heads.id).where(heads.article_id.in_(titled), heads.duplicate_of_id.is_(None)),
    )
    found = select(func.count()).select_from(rows.limit(FEW_MATCHES + 1).subquery())
    return db.session.scalar(found)


def _heads_holding(pattern: str) -> Select:
    """The ids of the group heads whose group or article title holds ``pattern``, read
    from PostgreSQL's trigram indexes (for 3+ characters; shorter words scan): the
    matching rows first, then their heads, so a rare word costs what it finds, not a
    walk of every group."""
    reports = aliased(Suggestion)
    heads = aliased(Suggestion)
    in_reports = select(func.coalesce(reports.duplicate_of_id, reports.id)).where(
        reports.search_text.like(pattern, escape="\\")
    )
    titled = select(Article.id).where(Article.search_title.like(pattern, escape="\\"))
    in_titles = select(heads.id).where(
        heads.article_id.in_(titled), heads.duplicate_of_id.is_(None)
    )
    return in_reports.union(in_titles)


def filtered(filters: QueueFilters, site_ids: list[int], user_id: int) -> Select:
    """The group heads matching ``filters`` among the sites in ``site_ids``."""
    query = select(Suggestion).where(Suggestion.duplicate_of_id.is_(None))
    if filters.site is not None:
        site_ids = [site_id for site_id in site_ids if site_id == filters.site]
    query = query.where(_one_of(Suggestion.site_id, site_ids))
    tab = TABS[filters.tab]
    query = query.where(_one_of(Suggestion.status, tab.statuses))
    if tab.orphaned is not None:
        wanted = AnchorState.ORPHANED if tab.orphaned else AnchorState.ANCHORED
        query = query.where(Suggestion.anchor_state == wanted)
    if filters.kind is not None:
        query = query.where(Suggestion.kind == filters.kind)
    if filters.article is not None:
        query = query.where(Suggestion.article_id == filters.article)
    if filters.assignee == "me":
        query = query.where(Suggestion.assignee_id == user_id)
    elif filters.assignee == "none":
        query = query.where(Suggestion.assignee_id.is_(None))
    elif filters.assignee:
        query = query.where(Suggestion.assignee_id == int(filters.assignee))
    if filters.min_reports > 1:
        query = query.where(Suggestion.report_count >= filters.min_reports)
    if filters.anchor == "changed":
        query = query.where(Suggestion.text_changed.is_(True))
    if filters.q:
        query = query.where(_matches(filters.q))
    return query


def _sort_columns(sort: str):
    if sort == "most":
        return [Suggestion.report_count, Suggestion.created_at, Suggestion.id]
    return [Suggestion.created_at, Suggestion.id]


def _key_of(row: Suggestion, sort: str) -> list:
    key = [row.created_at.isoformat(), row.id.hex]
    return [row.report_count, *key] if sort == "most" else key


def encode_cursor(row: Suggestion, sort: str) -> str:
    raw = json.dumps(_key_of(row, sort), separators=(",", ":")).encode()
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


def decode_cursor(cursor: str, sort: str) -> list:
    try:
        padded = cursor + "=" * (-len(cursor) % 4)
        values = json.loads(base64.urlsafe_b64decode(padded.encode()))
        if sort == "most":
            count, created, key = values
            if not isinstance(count, int):
                raise ValueError
            return [count, datetime.fromisoformat(created), uuid.UUID(key)]
        created, key = values
        return [datetime.fromisoformat(created), uuid.UUID(key)]
    except (ValueError, TypeError, binascii.Error, UnicodeDecodeError):
        raise Invalid.field(
            "cursor", "This page link is damaged; start from the first page."
        ) from None


@dataclass
class Page:
    rows: list[Suggestion]
    next_cursor: str | None  # rows after the last shown
    prev_cursor: str | None  # rows before the first shown


def page(
    query: Select, sort: str, size: int, after: str | None = None, before: str | None = None
) -> Page:
    """One page of ``query`` in ``sort`` order, after or before a cursor."""
    columns = _sort_columns(sort)
    descending = sort != "oldest"
    backwards = before is not None and after is None
    cursor = before if backwards else after
    # Walking backwards reads the same order reversed, then turns the rows around.
    reading_descending = descending != backwards
    if cursor:
        values = decode_cursor(cursor, sort)
        key = tuple_(*columns)
        pairs = zip(columns, values, strict=True)
        bound = tuple_(*(bindparam(None, value, type_=column.type) for column, value in pairs))
        query = query.where(key < bound if reading_descending else key > bound)
    order = [column.desc() if reading_descending else column.asc() for column in columns]
    query = query.order_by(*order).limit(size + 1)
    query = query.options(
        selectinload(Suggestion.article),
        selectinload(Suggestion.assignee),
        selectinload(Suggestion.site),
        selectinload(Suggestion.possible_duplicate_of),
    )
    rows = list(db.session.scalars(query))
    more = len(rows) > size
    rows = rows[:size]
    if backwards:
        rows.reverse()
        return Page(
            rows,
            next_cursor=encode_cursor(rows[-1], sort) if rows else None,
            prev_cursor=encode_cursor(rows[0], sort) if rows and more else None,
        )
    return Page(
        rows,
        next_cursor=encode_cursor(rows[-1], sort) if rows and more else None,
        prev_cursor=encode_cursor(rows[0], sort) if rows and cursor else None,
    )


def count_tabs(filters: QueueFilters, site_ids: list[int], user_id: int) -> dict[str, int]:
    """How many groups each tab holds under the other filters, each counted up to
    ``COUNT_CAP + 1`` only (a number past the cap reads "1,000+"): every count then
    stops after a bounded walk of an index, however many reports there are."""
    columns = []
    for name in TABS:
        heads = filtered(replace(filters, tab=name), site_ids, user_id)
        capped = heads.with_only_columns(Suggestion.id).limit(COUNT_CAP + 1).subquery()
        columns.append(select(func.count()).select_from(capped).scalar_subquery().label(name))
    # One statement for the four counts: one round trip to the database, not four.
    return dict(db.session.execute(select(*columns)).one()._mapping)


def shown_count(count: int) -> str:
    """A tab's count as shown: "1,000+" past the cap."""
    return f"{COUNT_CAP:,}+" if count > COUNT_CAP else f"{count:,}"


@dataclass(frozen=True)
class Chip:
    """An active filter as the page names it, and the filters without it."""

    label: str
    without: dict[str, object]


def chips(filters: QueueFilters, names: dict[str, dict]) -> list[Chip]:
    """The filters in force besides the tab, each removable on its own. ``names`` maps
    "site", "article" and "assignee" values to what the page calls them."""
    found: list[Chip] = []

    def add(label: str, **reset) -> None:
        found.append(Chip(label, filters.args(**reset)))

    if filters.q:
        add(f"Search: “{filters.q}”", q="")
    if filters.site is not None:
        add(f"Site: {names['site'].get(filters.site, filters.site)}", site=None)
    if filters.article is not None:
        add(f"Article: {names['article'].get(filters.article, filters.article)}", article=None)
    if filters.kind is not None:
        add(f"Kind: {filters.kind.value}", kind=None)
    if filters.assignee:
        who = {"me": "me", "none": "nobody"}.get(filters.assignee)
        who = who or names["assignee"].get(int(filters.assignee), filters.assignee)
        add(f"Assigned to {who}", assignee="")
    if filters.min_reports > 1:
        add(f"Reported by at least {filters.min_reports} readers", min_reports=1)
    if filters.anchor:
        add(ANCHOR_FILTERS[filters.anchor], anchor="")
    return found


def neighbours(query: Select, sort: str, row: Suggestion) -> tuple[Suggestion | None, ...]:
    """The rows just before and just after ``row`` in ``query`` and ``sort`` order (``row``
    itself need not match any more: its sort key is its place)."""
    cursor = encode_cursor(row, sort)
    before = page(query, sort, 1, before=cursor).rows
    after = page(query, sort, 1, after=cursor).rows
    return (before[0] if before else None, after[0] if after else None)
