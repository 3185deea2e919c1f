// The snippet reads pages by the same rules as the server's fetcher
// (feedback/extraction_rules.json): both are tested against tests/vectors/extraction.json.
// The pages are parsed by parse5, which builds the tree as the HTML standard says (as
// browsers and the server's parser do), and adapted to the few DOM properties the snippet
// reads. Run with: node --test tests/js/
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { describe, test } from 'node:test';
import { parse } from 'parse5';
import { articleAround, capture, leftOut, pageArticle, pageTitle, readText } from '../../static/js/src/shared/extract.js';

const VECTORS = JSON.parse(readFileSync(new URL('../vectors/extraction.json', import.meta.url), 'utf8'));
const HTML_NS = 'http://www.w3.org/1999/xhtml';

/** A parse5 tree as DOM-like nodes: nodeType, nodeName, childNodes, parentNode, data, getAttribute. */
function adapt(source, parentNode = null) {
  let node;
  if (source.nodeName === '#text') node = { nodeType: 3, nodeName: '#text', data: source.value };
  else if (source.nodeName === '#comment') node = { nodeType: 8, nodeName: '#comment', data: source.data };
  else if (source.nodeName === '#document') node = { nodeType: 9, nodeName: '#document' };
  else if (source.nodeName === '#documentType') node = { nodeType: 10, nodeName: source.name };
  else {
    const attributes = new Map(source.attrs.map(({ name, value }) => [name, value]));
    node = {
      nodeType: 1,
      nodeName: source.namespaceURI === HTML_NS ? source.tagName.toUpperCase() : source.tagName,
      getAttribute: (name) => (attributes.has(name) ? attributes.get(name) : null),
    };
  }
  node.parentNode = parentNode;
  node.childNodes = (source.childNodes || []).map((child) => adapt(child, node));
  return node;
}

function* elements(node) {
  if (node.nodeType === 1) yield node;
  for (const child of node.childNodes) yield* elements(child);
}

/** Enough of querySelector for what the snippet asks: tag, [attr] and [attr="value"]. */
function matcher(selector) {
  const [, tag, name, value] = selector.match(/^(\w*)(?:\[([\w-]+)(?:=["']?([^"'\]]*)["']?)?\])?$/);
  return (el) =>
    (!tag || el.nodeName.toLowerCase() === tag) &&
    (!name || (el.getAttribute(name) !== null && (value === undefined || el.getAttribute(name) === value)));
}

function documentOf(html, url = 'https://news.example/story') {
  const doc = adapt(parse(html));
  doc.documentElement = doc.childNodes.find((node) => node.nodeType === 1);
  doc.body = [...elements(doc)].find((el) => el.nodeName === 'BODY');
  doc.baseURI = url;
  const title = [...elements(doc)].find((el) => el.nodeName === 'TITLE');
  doc.title = title ? title.childNodes.map((t) => t.data).join('').trim().replace(/\s+/g, ' ') : '';
  doc.querySelector = (selector) => [...elements(doc)].find(matcher(selector)) || null;
  return doc;
}

const label = (el) => el.getAttribute('id') || el.nodeName.toLowerCase();

/** The last text node under `root` that the rules read and that holds a word. */
function lastReadText(root) {
  const visit = (node) => {
    if (node.nodeType === 3) return /\w/.test(node.data) ? node : null;
    if (node !== root && node.nodeType === 1 && leftOut(node)) return null;
    for (const child of [...node.childNodes].reverse()) {
      const found = visit(child);
      if (found) return found;
    }
    return null;
  };
  return visit(root);
}

describe('shared extraction vectors', () => {
  for (const vector of VECTORS.cases) {
    test(vector.name, () => {
      const doc = documentOf(vector.html, vector.page_url);
      if (vector.title !== undefined) assert.equal(pageTitle(doc), vector.title);
      const held = vector.quotes && vector.html.includes(vector.quotes[0].exact);
      if (held) {
        // The server picks the candidate holding the reports' quotes; the snippet picks the
        // one holding the reader's selection of those words: the same.
        const [quote] = vector.quotes;
        const node = [...elements(doc)]
          .flatMap((el) => el.childNodes)
          .find((n) => n.nodeType === 3 && n.data.includes(quote.exact) && n.data.includes(quote.prefix.trim()));
        const at = node.data.indexOf(quote.exact, node.data.indexOf(quote.prefix.trim()));
        const found = articleAround(node, doc);
        assert.equal(label(found.root), vector.container);
        const range = { startContainer: node, startOffset: at, endContainer: node, endOffset: at + quote.exact.length };
        const { text, quote: sent } = capture(found.root, range);
        assert.equal(text, vector.text);
        assert.equal(sent.exact, quote.exact);
        assert.equal(sent.prefix.endsWith(quote.prefix.slice(-8)), true);
        return;
      }
      // Without a selection the snippet chooses as the server does.
      const { root, choice } = pageArticle(doc, { articleUrl: vector.article_url });
      assert.equal(label(root), vector.container);
      assert.equal(choice, vector.choice);
      assert.equal(readText(root), vector.text);
      // A selection inside the chosen candidate finds it from the selection alone.
      if (choice === 'heuristic') {
        const found = articleAround(lastReadText(root), doc);
        assert.equal(found && label(found.root), vector.container);
      }
    });
  }
});

describe('the article is where the selection is', () => {
  const STORY = 'The council met on Tuesday and voted to reopen the harbour ferry next spring. '.repeat(3);
  const find = (doc, words) =>
    [...elements(doc)].flatMap((el) => el.childNodes).find((n) => n.nodeType === 3 && n.data.includes(words));

  test('several stories on one page: each selection its own story', () => {
    const doc = documentOf(
      `<main><article id=one><h2>Bridge</h2><p>${STORY}</p></article><article id=two><h2>Ferry</h2><p>Second: ${STORY}</p></article></main>`,
    );
    assert.equal(label(articleAround(find(doc, 'Second'), doc).root), 'two');
    assert.equal(label(articleAround(find(doc, 'Bridge'), doc).root), 'one');
  });

  test('a teaser in the menu is never the article, nor is the menu', () => {
    const doc = documentOf(
      `<nav><article id=teaser><p>${STORY}</p></article></nav><main id=main><h1>Ferry</h1><p>${STORY}</p></main>`,
    );
    // Its text is chrome: the article found around it leaves the menu out, so no quote.
    const node = find(doc, 'council');
    const found = articleAround(node, doc);
    assert.equal(capture(found.root, { startContainer: node, startOffset: 4, endContainer: node, endOffset: 11 }).quote, null);
    assert.equal(label(articleAround(find(doc, 'Ferry'), doc).root), 'main');
  });

  test('no article or main: the block holding the most paragraph text around the selection', () => {
    const doc = documentOf(
      `<div id=page><div id=menu>${'<a href=/section>Section of the site</a> '.repeat(8)}</div>` +
        `<div id=content><h1>Ferry returns</h1><div class=wrap><p>${STORY}</p><p>More words.</p></div></div>` +
        `<div id=foot>Contact us</div><script>var x = "<script src=x>";</script></div>`,
    );
    const found = articleAround(find(doc, 'More words'), doc);
    assert.equal(label(found.root), 'content');
    assert.equal(found.choice, 'paragraphs');
    assert.equal(readText(found.root), `Ferry returns\n${STORY.trim()}\nMore words.`);
    // Text around no paragraphs at all: the body, as the server reads it.
    assert.equal(articleAround(find(doc, 'Contact'), doc).root, doc.body);
  });

  test('a page with marked articles: a selection outside them is in no article', () => {
    const doc = documentOf(`<p id=intro>${STORY}</p><div data-feedback-article id=m><p>Marked story.</p></div>`);
    assert.equal(articleAround(find(doc, 'council'), doc), null);
    assert.equal(label(articleAround(find(doc, 'Marked'), doc).root), 'm');
  });
});
