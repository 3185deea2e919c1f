// The snippet under Node. Its pure parts are imported from the source modules
// (static/js/src); the built loader runs in a vm context whose global object is a minimal
// fake window, to check what it does at load and how it talks to the dialog chunk.
// Run with: node --test tests/js/
import assert from 'node:assert/strict';
import { webcrypto } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { describe, test } from 'node:test';
import vm from 'node:vm';
import { createQueue, settle } from '../../static/js/src/loader/queue.js';
import { capture, walk } from '../../static/js/src/shared/extract.js';
import { norm, quoteOf } from '../../static/js/src/shared/text.js';
import { HOST_KEY, INTERFACE } from '../../static/js/src/shared/interface.js';

const ROOT = new URL('../../', import.meta.url);
const BUILT = new URL('static/js/', ROOT);
const LOADER = readFileSync(new URL('feedback.js', BUILT), 'utf8');
const VECTORS = JSON.parse(readFileSync(new URL('tests/vectors/normalisation.json', ROOT), 'utf8'));
const t = { norm, walk, quoteOf, capture, settle };

// Values made in the vm context have its own Array and Object prototypes, which
// deepStrictEqual would count as a difference.
const plain = (value) => JSON.parse(JSON.stringify(value));

/** Run the built loader in a fresh fake window; returns the window and what it saw happen. */
function loadSnippet({ fetch, storage = {}, secure = true, src = 'https://svc.example/static/js/feedback.js?v=1' } = {}) {
  const seen = { listeners: [], timers: [], documentReads: new Set(), scripts: [] };
  const head = { appendChild: (script) => seen.scripts.push(script) };
  const document = new Proxy(
    {
      currentScript: { src, dataset: { site: 'key' } },
      readyState: 'loading',
      head,
      addEventListener: (type, fn) => seen.listeners.push(`document:${type}`) && (window[`on_document_${type}`] = fn),
      createElement: (tag) => ({ tag }),
      getSelection: () => ({ rangeCount: 1, isCollapsed: false, getRangeAt: () => ({ cloneRange: () => 'the range' }) }),
    },
    {
      get(target, name) {
        seen.documentReads.add(String(name));
        return target[name];
      },
    },
  );
  const window = {
    document,
    isSecureContext: secure,
    localStorage: storage,
    fetch: fetch || (() => Promise.reject(new TypeError('no network in this test'))),
    crypto: webcrypto,
    URL,
    TextEncoder,
    clearTimeout,
    setTimeout: (fn, ms) => seen.timers.push({ fn, ms }),
    addEventListener: (type, fn) => seen.listeners.push(type) && (window[`on_${type}`] = fn),
  };
  window.window = window;
  vm.createContext(window);
  vm.runInContext(LOADER, window, { filename: 'feedback.js' });
  return { window, seen, api: window.ReaderFeedback };
}

// --- A minimal DOM: just what the text walker reads ----------------------------------------

class FakeNode {
  constructor(nodeType, nodeName) {
    this.nodeType = nodeType;
    this.nodeName = nodeName;
    this.childNodes = [];
    this.parentNode = null;
    this.attributes = {};
  }

  getAttribute(name) {
    return name in this.attributes ? this.attributes[name] : null;
  }
}

const text = (data) => Object.assign(new FakeNode(3, '#text'), { data });
/** An element: h('p', {hidden: ''}, 'text', h('b', {}, 'bold')). */
function h(tag, attributes = {}, ...children) {
  const element = new FakeNode(1, tag.toUpperCase());
  element.attributes = attributes;
  for (const child of children) {
    const node = typeof child === 'string' ? text(child) : child;
    node.parentNode = element;
    element.childNodes.push(node);
  }
  return element;
}

/** capture() over a fake range from (startNode, startOffset) to (endNode, endOffset). */
function select(root, startContainer, startOffset, endContainer, endOffset) {
  const { text: body, quote } = t.capture(root, { startContainer, startOffset, endContainer, endOffset });
  return plain({ text: body, quote });
}

// --- Normalisation ----------------------------------------------------------------------

describe('normalisation', () => {
  for (const { name, input, output } of VECTORS.cases) {
    test(`shared vector: ${name}`, () => assert.equal(t.norm(input), output));
  }

  test('whitespace is the listed set: not JS \\s, not Python str.isspace()', () => {
    assert.equal(t.norm('a\u0085b'), 'a b'); // not \s in JS, whitespace to the server
    assert.equal(t.norm('a\u200bb'), 'a\u200bb'); // zero width space is not whitespace
    assert.equal(t.norm('a\u180eb'), 'a\u180eb'); // Mongolian vowel separator: kept
    assert.equal(t.norm('a\u001cb'), 'a\u001cb'); // a Python str.split() separator: kept
  });

  test('normalising twice changes nothing', () => {
    for (const { input } of VECTORS.cases) assert.equal(t.norm(t.norm(input)), t.norm(input));
  });
});

// --- The article text ---------------------------------------------------------------------

describe('article text', () => {
  test('block elements and br separate with a line break; inline ones do not', () => {
    const root = h(
      'article',
      {},
      h('h1', {}, 'Title'),
      h('p', {}, 'One ', h('b', {}, 'bold'), h('i', {}, 'ly'), h('br'), 'two'),
      h('ul', {}, h('li', {}, 'a'), h('li', {}, 'b')),
      h('blockquote', {}, 'q'),
      h('figure', {}, h('img'), h('figcaption', {}, 'cap')),
      h('table', {}, h('tr', {}, h('td', {}, 'c1'), h('td', {}, 'c2'))),
      h('div', {}, 'end'),
    );
    assert.equal(t.norm(t.walk(root)), 'Title\nOne boldly\ntwo\na\nb\nq\ncap\nc1\nc2\nend');
  });

  test('line breaks in the HTML source are spaces, except in pre', () => {
    const root = h('article', {}, h('p', {}, 'went back into service on\n      Monday'), h('pre', {}, 'x = 1\ny = 2'));
    assert.equal(t.norm(t.walk(root)), 'went back into service on Monday\nx = 1\ny = 2');
  });

  test('ignored, hidden, script, style, noscript and template content is left out', () => {
    const root = h(
      'main',
      {},
      h('p', {}, 'Kept', h('span', { 'data-feedback-ignore': '' }, ' NOT')),
      h('aside', { hidden: '' }, 'NOT'),
      h('div', { 'aria-hidden': 'true' }, 'NOT'),
      h('div', { 'aria-hidden': 'false' }, 'shown'),
      h('script', {}, 'NOT()'),
      h('style', {}, 'p{}'),
      h('noscript', {}, 'NOT'),
      h('template', {}, 'NOT'),
    );
    assert.equal(t.norm(t.walk(root)), 'Kept\nshown');
  });

  test('the root itself counts even when marked as left out', () => {
    const root = h('div', { 'data-feedback-ignore': '' }, 'body text');
    assert.equal(t.norm(t.walk(root)), 'body text');
  });
});

// --- Selectors ------------------------------------------------------------------------------

describe('quote selectors', () => {
  test('a word inside one text node', () => {
    const p = text('The mayor said so.');
    const root = h('article', {}, h('p', {}, p));
    const { text: body, quote } = select(root, p, 4, p, 9);
    assert.equal(body, 'The mayor said so.');
    assert.deepEqual(quote, { exact: 'mayor', prefix: 'The ', suffix: ' said so.', start: 4, end: 9 });
  });

  test('positions count code points, so emoji outside the BMP are one each', () => {
    const node = text('🔥 Пожар 🏛️ в мэрии, 🇺🇦 вчера');
    const root = h('article', {}, h('p', {}, node));
    const from = node.data.indexOf('мэрии');
    const { text: body, quote } = select(root, node, from, node, from + 5);
    assert.equal(quote.exact, 'мэрии');
    assert.equal([...body].slice(quote.start, quote.end).join(''), 'мэрии');
    assert.equal(quote.start, [...'🔥 Пожар 🏛️ в '].length);
    assert.equal(quote.prefix, '🔥 Пожар 🏛️ в ');
    assert.equal(quote.suffix, ', 🇺🇦 вчера');
  });

  test('positions are over the normalised text: runs collapse, decomposed letters compose', () => {
    const node = text('  Cafe\u0301   au \u00a0\u2028 lait  ');
    const root = h('article', {}, h('p', {}, node));
    const from = node.data.indexOf('lait');
    const { text: body, quote } = select(root, node, from, node, from + 4);
    assert.equal(body, 'Café au\nlait');
    assert.deepEqual(quote, { exact: 'lait', prefix: 'Café au\n', suffix: '', start: 8, end: 12 });
  });

  test('a selection across elements, with element-level boundary points', () => {
    const one = h('p', {}, 'First para.');
    const two = h('p', {}, 'Second ', h('em', {}, 'para'), '.');
    const root = h('article', {}, one, two);
    // Triple-click style: from the start of the first paragraph to the start of the next.
    assert.equal(select(root, root, 0, root, 1).quote.exact, 'First para.');
    // From inside the first paragraph's text to just before <em>.
    const { quote } = select(root, one.childNodes[0], 6, two, 1);
    assert.deepEqual(quote, { exact: 'para.\nSecond', prefix: 'First ', suffix: ' para.', start: 6, end: 18 });
    // Up to after the last child of the article.
    assert.equal(select(root, two, 1, root, 2).quote.exact, 'para.');
  });

  test('edge whitespace is left out of the quote, and a blank selection is no quote', () => {
    const node = text('one   two   three');
    const root = h('article', {}, h('p', {}, node));
    assert.deepEqual(select(root, node, 3, node, 11).quote, {
      exact: 'two', prefix: 'one ', suffix: ' three', start: 4, end: 7,
    });
    assert.equal(select(root, node, 3, node, 6).quote, null);
  });

  test('a selection reaching outside the article is clipped to it', () => {
    const outsideBefore = text('Menu');
    const inside = text('Article body here.');
    const outsideAfter = text('Footer');
    const root = h('article', {}, h('p', {}, inside));
    h('body', {}, h('nav', {}, outsideBefore), root, h('footer', {}, outsideAfter));
    assert.equal(select(root, outsideBefore, 1, inside, 7).quote.exact, 'Article');
    assert.equal(select(root, inside, 8, outsideAfter, 2).quote.exact, 'body here.');
    assert.equal(select(root, outsideBefore, 0, outsideAfter, 6).quote.exact, 'Article body here.');
  });

  test('a boundary inside left-out text stands where that text would have been', () => {
    const before = text('Before ');
    const ignored = text('ignored');
    const after = text(' after');
    const root = h('article', {}, h('p', {}, before, h('span', { 'data-feedback-ignore': '' }, ignored), after));
    assert.equal(select(root, ignored, 3, after, 6).quote.exact, 'after');
    assert.equal(select(root, before, 0, ignored, 2).quote.exact, 'Before');
  });

  test('32 code points of context either side', () => {
    const words = `${'🙂'.repeat(40)} target ${'ж'.repeat(40)}`;
    const node = text(words);
    const root = h('article', {}, h('p', {}, node));
    const from = words.indexOf('target');
    const { quote } = select(root, node, from, node, from + 6);
    assert.equal(quote.prefix, `${'🙂'.repeat(31)} `);
    assert.equal(quote.suffix, ` ${'ж'.repeat(31)}`);
    assert.equal(quote.start, 41);
  });

  test('agrees with normalising the selected raw text, over random texts and offsets', () => {
    // No combining marks here: a cut between a letter and its mark composes differently.
    const alphabet = ['a', 'b', 'ж', 'é', '🔥', ' ', '  ', '\t', '\n', '\r\n', '\u00a0', '\u2028', '\u3000'];
    let seed = 20240601;
    const random = (n) => ((seed = (seed * 1103515245 + 12345) % 2 ** 31) % n);
    for (let round = 0; round < 500; round++) {
      const pieces = Array.from({ length: 1 + random(40) }, () => alphabet[random(alphabet.length)]);
      const raw = pieces.join('');
      // Offsets at piece boundaries never split a surrogate pair.
      const cuts = [0];
      for (const piece of pieces) cuts.push(cuts[cuts.length - 1] + piece.length);
      let [a, b] = [cuts[random(cuts.length)], cuts[random(cuts.length)]];
      if (a > b) [a, b] = [b, a];
      const body = t.norm(raw);
      const quote = plain(t.quoteOf(raw, body, a, b));
      const expected = t.norm(raw.slice(a, b));
      assert.equal(quote ? quote.exact : '', expected, JSON.stringify({ raw, a, b }));
      if (!quote) continue;
      const points = [...body];
      assert.equal(points.slice(quote.start, quote.end).join(''), quote.exact);
      assert.equal(quote.prefix, points.slice(Math.max(0, quote.start - 32), quote.start).join(''));
      assert.equal(quote.suffix, points.slice(quote.end, quote.end + 32).join(''));
    }
  });
});

// --- Retry queue --------------------------------------------------------------------------

const item = (id, extra = {}) => ({ u: 'https://svc.example/api/v1/suggestions', b: { id }, n: 0, t: 0, c: 0, ...extra });

/** The outbox over a fake window with `fetch` and `storage`. */
const queueOf = ({ fetch, storage }) =>
  createQueue({ fetch: fetch || (() => Promise.reject(new TypeError('offline'))), localStorage: storage, setTimeout() {}, clearTimeout() {} });

describe('retry queue', () => {
  test('sent, or refused for good: the report leaves the queue', () => {
    for (const st of [200, 201, 400, 403, 404, 409, 413, 422]) {
      assert.deepEqual(plain(t.settle([item('a'), item('b')], item('a'), { st }, 1000)), [item('b')], `status ${st}`);
    }
  });

  test('no answer, 429 and 5xx: kept, with the same body, and waiting longer each time', () => {
    for (const st of [0, 429, 500, 502, 503]) {
      const [kept] = plain(t.settle([item('a')], item('a'), { st }, 1000));
      assert.deepEqual(kept.b, { id: 'a' }, `status ${st}`);
      assert.equal(kept.n, 1);
      assert.ok(kept.t > 1000);
    }
    const waits = [];
    let current = item('a');
    for (let attempt = 0; attempt < 12; attempt++) {
      [current] = plain(t.settle([current], current, { st: 503 }, 0));
      waits.push(current.t);
    }
    for (let i = 1; i < waits.length; i++) assert.ok(waits[i] >= waits[i - 1], 'the wait never shrinks');
    assert.ok(waits[0] >= 1000, 'not at once');
    assert.equal(waits[waits.length - 1], 3600_000, 'at most an hour');
  });

  test('Retry-After is honoured when it asks for longer', () => {
    const [kept] = plain(t.settle([item('a')], item('a'), { st: 429, ra: 120 }, 5000));
    assert.equal(kept.t, 5000 + 120_000);
  });

  test('a report older than a week is given up', () => {
    const week = 7 * 24 * 3600_000;
    assert.equal(t.settle([item('a')], item('a'), { st: 0 }, week - 1).length, 1);
    assert.equal(t.settle([item('a')], item('a'), { st: 0 }, week + 1).length, 0);
  });

  test('flush sends what is due, keeps what failed, and leaves the rest for later', async () => {
    const sent = [];
    const answers = { due: 201, failing: 503, refused: 422 };
    const fetch = async (url, init) => {
      const body = JSON.parse(init.body);
      sent.push({ url, body, init });
      return { status: answers[body.id], headers: { get: () => null }, json: async () => ({}) };
    };
    const storage = {};
    const fresh = queueOf({ fetch, storage });
    const now = Date.now();
    storage['readerFeedback.queue'] = JSON.stringify(
      [item('due'), item('failing'), item('refused'), item('notyet', { t: now + 3600_000 })].map((x) => ({ ...x, c: now })),
    );
    await fresh.flush();
    assert.deepEqual(sent.map((s) => s.body.id), ['due', 'failing', 'refused']);
    const { init } = sent[0];
    assert.equal(init.method, 'POST');
    assert.equal(init.credentials, 'omit');
    assert.equal(init.headers['Content-Type'], 'application/json');
    const left = JSON.parse(storage['readerFeedback.queue']);
    assert.deepEqual(left.map((x) => x.b.id).sort(), ['failing', 'notyet']);
    assert.equal(left.find((x) => x.b.id === 'failing').n, 1);

    // Coming back online sends everything at once, whatever its wait, with the same id.
    sent.length = 0;
    answers.failing = answers.notyet = 200;
    await fresh.flush(true);
    assert.deepEqual(sent.map((s) => s.body.id).sort(), ['failing', 'notyet']);
    assert.equal(storage['readerFeedback.queue'], undefined);
  });

  test('a flush already running is not run again alongside', async () => {
    const pending = [];
    const fetch = () =>
      new Promise((resolve) => pending.push(() => resolve({ status: 201, headers: { get: () => null }, json: async () => ({}) })));
    const storage = { 'readerFeedback.queue': JSON.stringify([item('one')]) };
    const fresh = queueOf({ fetch, storage });
    const first = fresh.flush();
    const second = fresh.flush();
    await new Promise((resolve) => setImmediate(resolve));
    const calls = pending.length;
    pending.forEach((answer) => answer());
    await Promise.all([first, second]);
    assert.equal(calls, 1);
  });

  test('a report still in flight is not sent again, by this tab or another', async () => {
    const pending = [];
    const fetch = () =>
      new Promise((resolve) => pending.push(() => resolve({ status: 201, headers: { get: () => null }, json: async () => ({}) })));
    const storage = {};
    const tab = queueOf({ fetch, storage });
    const submitted = tab.submit('https://svc.example/api/v1/suggestions', { id: 'slow' });
    await tab.flush(true); // the retry each page view makes, as it came in the old snippet
    await queueOf({ fetch, storage }).flush(true); // another tab's, sharing the storage
    assert.equal(pending.length, 1, 'one request for the report');
    pending[0]();
    const outcome = await submitted;
    assert.equal(outcome.st, 201);
    assert.equal(storage['readerFeedback.queue'], undefined);
  });

  test('a tab closing mid-send hands its report to the next page view', async () => {
    const storage = {};
    const tab = queueOf({ fetch: () => new Promise(() => {}), storage });
    tab.submit('https://svc.example/api/v1/suggestions', { id: 'closing' });
    tab.release(); // pagehide
    const sent = [];
    const fetch = async (url, init) => {
      sent.push(JSON.parse(init.body).id);
      return { status: 201, headers: { get: () => null }, json: async () => ({}) };
    };
    await queueOf({ fetch, storage }).flush(true);
    assert.deepEqual(sent, ['closing']);
  });

  test('an attempt never answered (its tab closed) is retried once its minute is over', async () => {
    const sent = [];
    const fetch = async (url, init) => {
      sent.push(JSON.parse(init.body).id);
      return { status: 201, headers: { get: () => null }, json: async () => ({}) };
    };
    const now = Date.now();
    const storage = {
      'readerFeedback.queue': JSON.stringify([item('lost', { c: now, f: now - 1 }), item('flying', { c: now, f: now + 30_000 })]),
    };
    await queueOf({ fetch, storage }).flush(true);
    assert.deepEqual(sent, ['lost']);
    assert.deepEqual(JSON.parse(storage['readerFeedback.queue']).map((x) => x.b.id), ['flying']);
  });

  test('bodies are JSON whatever the page did to JSON.stringify and Array.prototype', async () => {
    const bodies = [];
    const fetch = async (url, init) => {
      bodies.push(init.body);
      return { status: 201, headers: { get: () => null }, json: async () => ({}) };
    };
    const saved = JSON.stringify;
    Array.prototype.toJSON = function () {
      return 'an array, as an old library has it';
    };
    JSON.stringify = () => '{"broken":true}';
    try {
      await queueOf({ fetch, storage: {} }).submit('https://svc.example/', {
        id: 'x', list: [1, 'a"b\\c\n\u0001', null, true], nested: { skip: undefined, keep: 'é🔥' },
      });
    } finally {
      JSON.stringify = saved;
      delete Array.prototype.toJSON;
    }
    assert.deepEqual(JSON.parse(bodies[0]), { id: 'x', list: [1, 'a"b\\c\n\u0001', null, true], nested: { keep: 'é🔥' } });
  });

  test('storage that is switched off loses the queue, not the page', async () => {
    const storage = new Proxy({}, { get() { throw new Error('denied'); }, set() { throw new Error('denied'); } });
    await queueOf({ storage }).flush();
  });
});

// --- The loader as built ----------------------------------------------------------------

describe('loader', () => {
  test('at load it only adds listeners: no DOM, no network, no global but ReaderFeedback', () => {
    let fetched = false;
    const { window, seen } = loadSnippet({ fetch: () => (fetched = true) });
    assert.deepEqual([...seen.documentReads].sort(), ['addEventListener', 'currentScript', 'readyState']);
    assert.equal(fetched, false);
    assert.deepEqual(seen.timers, [], 'the retry waits for the load event');
    assert.deepEqual(seen.scripts, [], 'the dialog chunk waits for the reader');
    assert.deepEqual(seen.listeners.sort(), ['click', 'document:selectionchange', 'keydown', 'load', 'online', 'pagehide', 'pointerdown']);
    const added = Object.keys(window).filter((name) => !name.startsWith('on_'));
    assert.deepEqual(added.sort(), [
      'ReaderFeedback', 'TextEncoder', 'URL', 'addEventListener', 'clearTimeout', 'crypto', 'document',
      'fetch', 'isSecureContext', 'localStorage', 'setTimeout', 'window',
    ]);
    assert.deepEqual(Object.keys(window.ReaderFeedback).sort(), ['open', 'version']);
    // After load the queue is retried a little later, not at once.
    window.on_load();
    assert.equal(seen.timers.length, 1);
    assert.ok(seen.timers[0].ms >= 1000);
  });

  test('loading twice keeps the first copy', () => {
    const { window } = loadSnippet();
    const first = window.ReaderFeedback;
    vm.runInContext(LOADER, window);
    assert.equal(window.ReaderFeedback, first);
  });

  test('an insecure page, without Web Crypto, gets nothing at all', () => {
    const { window, seen } = loadSnippet({ secure: false });
    assert.equal(window.ReaderFeedback, undefined);
    assert.deepEqual(seen.listeners, []);
  });

  test('the version is the package version, so ?v= URLs change with each release', () => {
    const init = readFileSync(new URL('feedback/__init__.py', ROOT), 'utf8');
    assert.equal(loadSnippet().api.version, init.match(/__version__ = "(.+?)"/)[1]);
  });

  test('the first selection fetches the hashed dialog chunk beside the loader, with its ?v=', () => {
    const { window, seen } = loadSnippet({ src: 'https://svc.example/static/js/feedback.js?v=0.9' });
    window.on_document_selectionchange();
    const [script] = seen.scripts;
    assert.match(script.src, /^https:\/\/svc\.example\/static\/js\/feedback-dialog\.[0-9a-f]{10}\.js\?v=0\.9$/);
    assert.equal(script[HOST_KEY].v, INTERFACE);
    window.on_document_selectionchange();
    assert.equal(seen.scripts.length, 1, 'fetched once');
  });

  test('the dialog chunk connects through the host on its script, and opens', async () => {
    const { window, seen } = loadSnippet();
    const opened = window.ReaderFeedback.open('the element');
    const [script] = seen.scripts;
    const calls = [];
    script[HOST_KEY].connect({ v: INTERFACE, open: (...args) => calls.push(args), isOpen: () => false, selectionChanged() {} });
    script.onload();
    await opened;
    assert.deepEqual(calls, [['the range', 'the element']]);
  });

  test('a chunk the service no longer has: the newest one, under its stable name', async () => {
    const { window, seen } = loadSnippet({ src: 'https://svc.example/static/js/feedback.js?v=0.1' });
    const opened = window.ReaderFeedback.open();
    seen.scripts[0].onerror(); // a 404 after an upgrade
    await new Promise((resolve) => setImmediate(resolve));
    const fallback = seen.scripts[1];
    assert.equal(fallback.src, 'https://svc.example/static/js/feedback-dialog.js?v=0.1');
    let opens = 0;
    fallback[HOST_KEY].connect({ v: INTERFACE + 1, open: () => opens++, isOpen: () => false, selectionChanged() {} });
    fallback.onload();
    await opened;
    assert.equal(opens, 1);
  });

  test('Ctrl+Enter with a selection opens the dialog and keeps the key from the page', () => {
    const { window, seen } = loadSnippet();
    let prevented = false;
    window.on_keydown({ key: 'Enter', ctrlKey: true, preventDefault: () => (prevented = true) });
    assert.ok(prevented);
    assert.equal(seen.scripts.length, 1);
  });
});
