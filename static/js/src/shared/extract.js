// Reading an article out of the page by the rules the server's fetcher uses too
// (feedback/extraction_rules.json, bundled at build time; cases in
// tests/vectors/extraction.json). Only plain DOM properties are used (nodeType, nodeName,
// childNodes, parentNode, data, getAttribute), never matches() or closest(), which pages
// and old polyfills are known to replace.
import RULES from '../../../../feedback/extraction_rules.json' with { type: 'json' };
import { codePoints, norm, quoteOf } from './text.js';

const lower = (node) => node.nodeName.toLowerCase();
const setOf = (list) => {
  const set = Object.create(null);
  for (const item of list) set[item] = 1;
  return set;
};
const SKIPPED = setOf(RULES.skipped_elements.tags);
const CHROME = setOf(RULES.chrome.tags);
const CHROME_ROLES = setOf(RULES.chrome.roles);
const BLOCKS = setOf(RULES.blocks.tags);
const PRE = setOf(RULES.blocks.preformatted_tags);
const BREAK = RULES.blocks.line_break;
const HIDING = RULES.hidden_by_markup.attributes.concat({ name: RULES.snippet_host.attribute });
const C = RULES.container;
export const MARKER = C.marker_attribute;
export const URL_ATTRIBUTE = C.url_attribute;
export const HOST_ATTRIBUTE = RULES.snippet_host.attribute;

const words = (value) => (value || '').split(/\s+/);
const attr = (node, name) => (node.getAttribute ? node.getAttribute(name) : null);

/** Whether element `node`, with all it holds, is not article text by its markup. */
export function leftOut(node) {
  const tag = lower(node);
  if (SKIPPED[tag] || CHROME[tag]) return true;
  for (const { name, value } of HIDING) {
    const found = attr(node, name);
    if (found != null && (value == null || found == value)) return true;
  }
  return words(attr(node, 'role')).some((role) => CHROME_ROLES[role]);
}

/** Whether element `node` may hold the article (article, main, articleBody, role=main). */
export function isCandidate(node) {
  const tag = lower(node);
  return C.candidates.some((rule) =>
    rule.tag ? tag == rule.tag : words(attr(node, rule.attribute)).indexOf(rule.word) >= 0,
  );
}

const inside = (node, ancestor) => {
  for (; node; node = node.parentNode) if (node == ancestor) return true;
  return false;
};

/**
 * The raw text of `root` by the shared rules (`root` itself is read even when a rule would
 * leave it out). Each boundary point {n: node, o: offset} of `points` gets `at`, its offset
 * in that text; one outside `root` gets none, which clips the quote to the article.
 * `hidden(element)`, when given, leaves out more (the browser's CSS: display none).
 */
export function walk(root, points = [], hidden) {
  let raw = '';
  const visit = (node, pre) => {
    if (node.nodeType == 3) {
      for (const p of points) if (p.n == node) p.at = raw.length + p.o;
      raw += pre ? node.data : node.data.replace(/[\n\r]/g, ' '); // as rendered
      return;
    }
    if (node.nodeType != 1 && node.nodeType != 9 && node.nodeType != 11) return;
    if (node != root && node.nodeType == 1 && (leftOut(node) || (hidden && hidden(node)))) {
      for (const p of points) if (p.at == null && inside(p.n, node)) p.at = raw.length;
      return;
    }
    const tag = node.nodeType == 1 ? lower(node) : '';
    const block = BLOCKS[tag];
    if (block) raw += BREAK;
    const children = node.childNodes;
    const n = children.length;
    for (let i = 0; i <= n; i++) {
      for (const p of points) if (p.n == node && p.o == i) p.at = raw.length;
      if (i < n) visit(children[i], pre || PRE[tag]);
    }
    if (block) raw += BREAK;
  };
  visit(root, false);
  return raw;
}

/** The normalised text of `root` and, for a selection `range`, the quote's selectors in it. */
export function capture(root, range, hidden) {
  const points = range
    ? [{ n: range.startContainer, o: range.startOffset }, { n: range.endContainer, o: range.endOffset }]
    : [];
  const raw = walk(root, points, hidden);
  const text = norm(raw);
  const quote = range ? quoteOf(raw, text, points[0].at ?? 0, points[1].at ?? raw.length) : null;
  return { root, text, quote: quote || null };
}

/** The normalised text of `root` by the shared rules. */
export const readText = (root, hidden) => norm(walk(root, [], hidden));

const textLength = (node, hidden) => codePoints(readText(node, hidden));

/** Elements of the page holding `MARKER`, and the candidates standing in nothing left out. */
function scan(doc, hidden) {
  const marked = [];
  const candidates = [];
  const visit = (node, out, ancestors) => {
    if (node.nodeType != 1) return;
    if (attr(node, MARKER) != null) marked.push(node);
    out = out || leftOut(node) || (hidden && hidden(node));
    if (!out && isCandidate(node)) {
      candidates.push({ node, ancestors });
      ancestors = ancestors.concat(candidates.length - 1);
    }
    const children = node.childNodes;
    for (let i = 0; i < children.length; i++) visit(children[i], out, ancestors);
  };
  visit(doc.documentElement, false, []);
  return { marked, candidates };
}

/**
 * The article of the whole page, as the server chooses it without reports: the marked
 * element (of several, the one whose URL attribute resolves to `articleUrl`, else the
 * first); else the candidate with the most text, then, while one inside it holds
 * `nested_share` of that text, the inner one; else the body. Answers {root, choice}.
 */
export function pageArticle(doc, { articleUrl, hidden } = {}) {
  const { marked, candidates } = scan(doc, hidden);
  if (marked.length) {
    const wanted = articleUrl && articleKey(articleUrl);
    const named = wanted && marked.find((node) => articleKey(attr(node, URL_ATTRIBUTE), doc.baseURI) == wanted);
    return { root: named || marked[0], choice: 'marker' };
  }
  for (const c of candidates) c.length = textLength(c.node, hidden);
  const pool = candidates.filter((c) => c.length >= C.min_chars);
  if (!pool.length) return { root: doc.body, choice: 'body' };
  const largest = (list) => list.reduce((best, c) => (c.length > best.length ? c : best));
  let chosen = largest(pool);
  for (;;) {
    const index = candidates.indexOf(chosen);
    const inner = pool.filter((c) => c.ancestors.indexOf(index) >= 0 && c.length >= C.nested_share * chosen.length);
    if (!inner.length) return { root: chosen.node, choice: 'heuristic' };
    chosen = largest(inner);
  }
}

/** An article URL to compare: absolute, without its fragment or utm_ parameters. */
function articleKey(url, base) {
  try {
    const parsed = new URL(url, base);
    parsed.hash = '';
    for (const key of [...parsed.searchParams.keys()]) if (/^utm_/i.test(key)) parsed.searchParams.delete(key);
    parsed.searchParams.sort();
    return url ? parsed.href : null;
  } catch (_) {
    return null;
  }
}

const elementOf = (node) => (node && node.nodeType != 1 ? node.parentNode : node);

/**
 * The article holding `node` (a selection's boundary, or an element the reader used):
 * the nearest marked ancestor; on a page without markers, the nearest candidate with
 * enough text that stands in nothing left out, else the block around `node` holding the
 * most paragraph text, else (a short page) the nearest candidate or the body. Answers
 * {root, choice}, or null when the page marks its articles and `node` is in none. A
 * selection in text the root leaves out (a menu) then yields no quote.
 */
export function articleAround(node, doc, hidden) {
  const chain = [];
  for (let el = elementOf(node); el && el.nodeType == 1; el = el.parentNode) chain.push(el);
  for (const el of chain) if (attr(el, MARKER) != null) return { root: el, choice: 'marker' };
  if (!chain.length || doc.querySelector(`[${MARKER}]`)) return null;
  // Candidates in a menu or another left-out element are not the story (teasers).
  let first = 0;
  chain.forEach((el, i) => {
    if (leftOut(el) || (hidden && hidden(el))) first = i + 1;
  });
  const candidates = chain.slice(first).filter(isCandidate);
  for (const el of candidates) if (textLength(el, hidden) >= C.min_chars) return { root: el, choice: 'heuristic' };
  // A short page: the nearest candidate however short, else the body, as the server reads it.
  const short = candidates[0] || doc.body;
  return paragraphBlock(chain.slice(first), hidden) || { root: short, choice: short == doc.body ? 'body' : 'heuristic' };
}

/**
 * The content heuristic: of `chain` (ancestors, nearest first) below the body, the one
 * whose own paragraphs (children, or grandchildren through one wrapper, at half weight)
 * hold the most text.
 */
function paragraphBlock(chain, hidden) {
  let best = null;
  let most = 0;
  for (const el of chain) {
    const tag = lower(el);
    if (tag == 'body' || tag == 'html') break;
    let score = 0;
    const count = (parent, weight) => {
      const children = parent.childNodes;
      for (let i = 0; i < children.length; i++) {
        const child = children[i];
        if (child.nodeType != 1 || leftOut(child) || (hidden && hidden(child))) continue;
        const name = lower(child);
        if (name == 'p' || name == 'blockquote' || name == 'pre') score += weight * textLength(child, hidden);
        else if (weight == 1) count(child, 0.5);
      }
    };
    count(el, 1);
    if (score > most) [best, most] = [el, score];
  }
  if (!best || most < C.min_chars) return null;
  // Up to the block that adds only a little to it: the headline and byline, not the menus.
  for (let i = chain.indexOf(best) + 1; i < chain.length && !/^(body|html)$/.test(lower(chain[i])); i++) {
    if (textLength(chain[i], hidden) > 1.25 * textLength(best, hidden)) break;
    best = chain[i];
  }
  return { root: best, choice: 'paragraphs' };
}

/** The page's title for editors, as the server reads it: og:title, else <title>, else h1. */
export function pageTitle(doc) {
  const meta = doc.querySelector('meta[property="og:title"]');
  const h1 = doc.querySelector('h1');
  for (const value of [meta && attr(meta, 'content'), doc.title, h1 && readText(h1)]) {
    const title = norm(value || '').replace(/\n/g, ' ');
    if (title) return [...title].slice(0, 500).join('');
  }
  return '';
}
