"""Reading an article's text out of a page's HTML by the markup rules the reader snippet
follows (``extraction_rules.json``; cases in ``tests/vectors/extraction.json``).

The HTML is parsed by Lexbor (through selectolax), which builds the tree as the WHATWG
HTML standard says, so misnested or unclosed tags end up where a reader's browser puts
them and the text matches what the snippet reads from that browser's DOM.
"""

from __future__ import annotations

import enum
import re
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from urllib.parse import urljoin

from selectolax.lexbor import LexborHTMLParser, LexborNode

from feedback import anchoring
from feedback.anchoring import Quote
from feedback.origins import normalise_article_url

_RULES = anchoring.EXTRACTION_RULES
_SKIPPED_TAGS = frozenset(_RULES["skipped_elements"]["tags"])
_HIDING_ATTRIBUTES = [
    (rule["name"], rule.get("value")) for rule in _RULES["hidden_by_markup"]["attributes"]
]
_HIDING_ATTRIBUTES.append((_RULES["snippet_host"]["attribute"], None))
_CHROME_TAGS = frozenset(_RULES["chrome"]["tags"])
_CHROME_ROLES = frozenset(_RULES["chrome"]["roles"])
_BLOCK_TAGS = frozenset(_RULES["blocks"]["tags"])
_LINE_BREAK = _RULES["blocks"]["line_break"]
_PREFORMATTED_TAGS = frozenset(_RULES["blocks"]["preformatted_tags"])
_CONTAINER = _RULES["container"]
MARKER_ATTRIBUTE: str = _CONTAINER["marker_attribute"]
_URL_ATTRIBUTE: str = _CONTAINER["url_attribute"]
CANDIDATE_MIN_CHARS: int = _CONTAINER["min_chars"]
_NESTED_SHARE: float = _CONTAINER["nested_share"]
TITLE_MAX_CHARS = 500

# The standard's tree building walks the stack of open elements at each of these start
# tags (closing an open <p>), so a page nesting thousands of them costs time quadratic
# in its depth (20,000 nested <div>s: 2 s). The sum of depths at those tags, estimated
# from the tags alone, is capped far above any real page (a deep news page: ~10^5).
_SCOPE_CHECKED_TAGS = (
    "address|article|aside|blockquote|center|details|dialog|dir|div|dl|fieldset|figcaption"
    "|figure|footer|header|hgroup|main|menu|nav|ol|p|search|section|summary|ul|li|dd|dt"
)
_SCOPE_CHECKED = re.compile(rf"<(/?)(?:{_SCOPE_CHECKED_TAGS})[\s/>]", re.IGNORECASE)
MAX_NESTING_COST = 20_000_000


class PageTooComplex(ValueError):
    """The page nests elements so deeply that building its tree would take too long."""


def nesting_cost(html: str) -> int:
    """Estimated work of the tree builder's scope checks: the depth summed over each
    block start tag."""
    depth = cost = 0
    for match in _SCOPE_CHECKED.finditer(html):
        if match.group(1):
            depth = max(0, depth - 1)
        else:
            depth += 1
            cost += depth
    return cost


class ContainerChoice(enum.StrEnum):
    """How the element holding the article was chosen."""

    MARKER = "marker"  # marked data-feedback-article by the site
    QUOTES = "quotes"  # the candidate holding most of the open reports' quotes
    HEURISTIC = "heuristic"  # the candidate with the most text
    BODY = "body"  # no candidate: the whole body


@dataclass(frozen=True)
class ExtractedArticle:
    """An article read from a page: its normalised text and title, and where it stood."""

    text: str
    title: str
    choice: ContainerChoice
    # The container's id, else its tag name ("body" when no candidate qualified).
    container: str


def _words(value: str | None) -> set[str]:
    return set((value or "").split())


def _left_out(node: LexborNode) -> bool:
    """Whether an element and all it holds are not article text."""
    tag = node.tag
    if tag in _SKIPPED_TAGS or tag in _CHROME_TAGS:
        return True
    attributes = node.attributes
    for name, value in _HIDING_ATTRIBUTES:
        if name in attributes and (value is None or attributes[name] == value):
            return True
    return bool(_words(attributes.get("role")) & _CHROME_ROLES)


def _is_candidate(node: LexborNode) -> bool:
    for rule in _CONTAINER["candidates"]:
        if "tag" in rule and node.tag == rule["tag"]:
            return True
        if "attribute" in rule and rule["word"] in _words(node.attributes.get(rule["attribute"])):
            return True
    return False


def _children(node: LexborNode) -> Iterator[LexborNode]:
    child = node.first_child
    while child is not None:
        yield child
        child = child.next


_END_OF_BLOCK = object()


def read_text(root: LexborNode) -> str:
    """The normalised text of ``root`` by the shared rules (``root`` itself is read even
    when a rule would leave it out)."""
    parts: list[str] = []
    # An explicit stack: hostile pages nest elements deeper than Python's recursion limit.
    stack: list = [(root, False, True)]
    while stack:
        item = stack.pop()
        if item is _END_OF_BLOCK:
            parts.append(_LINE_BREAK)
            continue
        node, preformatted, is_root = item
        if node.is_text_node:
            data = node.text_content or ""
            # Source line breaks show as spaces, except in preformatted text.
            parts.append(data if preformatted else data.replace("\r", " ").replace("\n", " "))
            continue
        if not node.is_element_node or (not is_root and _left_out(node)):
            continue
        tag = node.tag
        if tag in _BLOCK_TAGS:
            parts.append(_LINE_BREAK)
            stack.append(_END_OF_BLOCK)
        inner_preformatted = preformatted or tag in _PREFORMATTED_TAGS
        stack.extend(
            (child, inner_preformatted, False) for child in reversed(list(_children(node)))
        )
    return anchoring.normalise("".join(parts))


@dataclass
class _Candidate:
    node: LexborNode
    index: int
    # Indexes of the candidates it stands in.
    ancestors: tuple[int, ...]
    text: str = ""


def _scan(document: LexborNode) -> tuple[list[LexborNode], list[_Candidate]]:
    """Marked elements and container candidates, in document order; candidates inside
    skipped, hidden or chrome elements are not candidates."""
    marked: list[LexborNode] = []
    candidates: list[_Candidate] = []
    stack: list[tuple[LexborNode, bool, tuple[int, ...]]] = [(document, False, ())]
    while stack:
        node, left_out, ancestors = stack.pop()
        if not node.is_element_node:
            continue
        if MARKER_ATTRIBUTE in node.attributes:
            marked.append(node)
        left_out = left_out or _left_out(node)
        if not left_out and _is_candidate(node):
            candidates.append(_Candidate(node, len(candidates), ancestors))
            ancestors = (*ancestors, len(candidates) - 1)
        stack.extend((child, left_out, ancestors) for child in reversed(list(_children(node))))
    return marked, candidates


def _label(node: LexborNode) -> str:
    return node.attributes.get("id") or node.tag


def _marked_for(marked: list[LexborNode], page_url: str | None, article_url: str | None):
    """Of several marked elements, the one naming the article's URL, else the first."""
    if article_url and page_url:
        wanted = _normalised_url(article_url)
        for node in marked:
            named = node.attributes.get(_URL_ATTRIBUTE)
            if named and _normalised_url(urljoin(page_url, named)) == wanted:
                return node
    return marked[0]


def _normalised_url(url: str) -> str | None:
    try:
        return normalise_article_url(url)
    except ValueError:
        return None


def _quotes_held(text: str, quotes: Iterable[Quote]) -> int:
    return sum(1 for quote in quotes if quote.exact and quote.exact in text)


def _largest(pool: list[_Candidate]) -> _Candidate:
    """The candidate with the most text; then, while one inside it holds most of that
    text, the inner one (a <main> around the <article>, say)."""
    chosen = max(pool, key=lambda candidate: len(candidate.text))
    while True:
        inner = [
            candidate
            for candidate in pool
            if chosen.index in candidate.ancestors
            and len(candidate.text) >= _NESTED_SHARE * len(chosen.text)
        ]
        if not inner:
            return chosen
        chosen = max(inner, key=lambda candidate: len(candidate.text))


def page_title(tree: LexborHTMLParser) -> str:
    """The page's title for editors: og:title, else <title>, else the first <h1>."""
    meta = tree.css_first('meta[property="og:title"]')
    for value in (
        meta.attributes.get("content") if meta is not None else None,
        tree.css_first("title").text() if tree.css_first("title") is not None else None,
        tree.css_first("h1").text() if tree.css_first("h1") is not None else None,
    ):
        title = anchoring.normalise(value or "").replace("\n", " ")
        if title:
            return title[:TITLE_MAX_CHARS]
    return ""


def extract_article(
    html: str,
    *,
    page_url: str | None = None,
    article_url: str | None = None,
    quotes: Iterable[Quote] = (),
) -> ExtractedArticle:
    """Read the article out of ``html``: the marked container, else the candidate holding
    most of ``quotes`` (the open reports' selectors), else the largest candidate, else
    the body. Raises PageTooComplex for pathologically nested markup."""
    if nesting_cost(html) > MAX_NESTING_COST:
        raise PageTooComplex("the page nests its elements too deeply to be read")
    tree = LexborHTMLParser(html)
    title = page_title(tree)
    body = tree.body
    if body is None:  # the parser always makes one; an empty page still has no text
        return ExtractedArticle("", title, ContainerChoice.BODY, "body")
    marked, candidates = _scan(tree.root if tree.root is not None else body)
    if marked:
        node = _marked_for(marked, page_url, article_url)
        return ExtractedArticle(read_text(node), title, ContainerChoice.MARKER, _label(node))
    for candidate in candidates:
        candidate.text = read_text(candidate.node)
    qualified = [c for c in candidates if len(c.text) >= CANDIDATE_MIN_CHARS]
    if qualified:
        quotes = list(quotes)
        held = {id(c): _quotes_held(c.text, quotes) for c in qualified}
        most = max(held.values())
        if most:
            holding = [c for c in qualified if held[id(c)] == most]
            chosen = _largest(holding)
            return ExtractedArticle(chosen.text, title, ContainerChoice.QUOTES, _label(chosen.node))
        chosen = _largest(qualified)
        return ExtractedArticle(chosen.text, title, ContainerChoice.HEURISTIC, _label(chosen.node))
    return ExtractedArticle(read_text(body), title, ContainerChoice.BODY, "body")
