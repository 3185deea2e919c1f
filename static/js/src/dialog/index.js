// The dialog chunk: loaded by the loader on first use (shared/interface.js has the contract).
import { HOST_KEY, INTERFACE } from '../shared/interface.js';
import { HOST_ATTRIBUTE, pageTitle } from '../shared/extract.js';
import { codePoints } from '../shared/text.js';
import { articleUrl, place, placeable } from './article.js';
import { offer, withdraw } from './float.js';
import { present } from './present.js';
import { loadStrings, pickLang } from './strings/index.js';
import { STYLE } from './style.js';
import { dialogFor, markCodes, markField, showPreview } from './view.js';

const w = window;
const d = document;
const me = d.currentScript;
const host = me && me[HOST_KEY];

const MAX_QUOTE = 1000;
// Screens narrower than this, in screen pixels, get the dialog as a bottom sheet.
const SHEET_WIDTH = 600;
// The site's theme from the tag's data- attributes, each checked as CSS would take it.
const THEME = { accent: 'color', font: 'font-family', radius: 'border-radius', accentText: 'color' };
const THEME_PROPERTY = { accent: 'accent', font: 'font', radius: 'radius', accentText: 'accent-text' };
// A plain address, as the server will want it: it still has the final word.
const EMAIL = /^[^\s@]+@[^\s@]+\.[^\s@]+$/;

let shadow, ui, current, returnTo;

/** The tag's theme on a shadow host of ours; each value checked as CSS would take it. */
function applyTheme(el) {
  for (const [key, property] of Object.entries(THEME)) {
    const value = host.dataset[key];
    if (value && CSS.supports(property, value)) el.style.setProperty(`--reader-feedback-${THEME_PROPERTY[key]}`, value);
  }
}

/** The shadow root, on an element of its own appended to <html>, with the site's theme. */
function root() {
  if (shadow) return shadow;
  const el = d.createElement('div');
  // Never read as article text, here or by the server's fetcher.
  el.setAttribute(HOST_ATTRIBUTE, '');
  el.setAttribute('data-feedback-ignore', '');
  applyTheme(el);
  shadow = el.attachShadow({ mode: 'open' });
  shadow.innerHTML = `<style>${STYLE}</style>`;
  // Not in <body>, which the page and its frameworks own.
  d.documentElement.append(el);
  return shadow;
}

/** The language for a report about `node`: the tag's data-lang, else the article's, else the page's. */
const langOf = (node) => {
  const el = node && (node.nodeType == 1 ? node : node.parentElement);
  const marked = el && el.closest('[lang]');
  return pickLang(host.dataset.lang, marked && marked.lang, d.documentElement.lang);
};

/** The dialog in `lang`, made anew when the language changes (a page of several stories). */
async function build(lang) {
  const strings = await loadStrings(lang, me.src);
  const sr = root();
  if (ui && ui.dlg.lang == lang) return ui;
  if (ui) {
    // The old dialog goes with the backdrop present() gave it.
    const before = ui.dlg.previousElementSibling;
    if (before && before.className == 'backdrop') before.remove();
    ui.dlg.remove();
  }
  ui = dialogFor(strings, lang);
  ui.x.onclick = ui.v.onclick = ui.z.onclick = () => ui.dlg.close();
  ui.o.onsubmit = send;
  ui.r.oninput = () => {
    markField(ui, 'r', '');
    if (current && current.quote) showPreview(ui, current.quote.exact);
  };
  for (const id of ['c', 'n', 'e']) ui[id].oninput = () => markField(ui, id, '');
  ui.y.onchange = () => markField(ui, 'e', '');
  ui.dlg.addEventListener('close', restoreFocus);
  ui.dlg.onkeydown = (e) => {
    // Keys typed here are not for the page.
    e.stopPropagation();
    if (e.key == 'Enter' && (e.ctrlKey || e.metaKey) && !ui.o.hidden) {
      e.preventDefault();
      ui.s.click();
    }
    trap(e);
  };
  sr.append(ui.dlg);
  return ui;
}

// Tab and Shift+Tab stay inside the dialog.
function trap(e) {
  if (e.key != 'Tab') return;
  const focusable = [...ui.dlg.querySelectorAll('select,textarea,input,button')].filter(
    (x) => x.tabIndex >= 0 && !x.disabled && x.getClientRects().length,
  );
  const i = focusable.indexOf(shadow.activeElement) + (e.shiftKey ? -1 : 1);
  if (!focusable[i]) {
    e.preventDefault();
    focusable[i < 0 ? focusable.length - 1 : 0].focus();
  }
}

// Where the reader was: the focused element, else the selection (focusing a field in the
// dialog takes the selection away). Put back on close, however the dialog closes.
function rememberFocus(range, opener) {
  const own = (el) => (el && el != d.body && el != d.documentElement && !(shadow && el == shadow.host) ? el : null);
  returnTo = { element: own(d.activeElement) || own(opener), range };
}

function restoreFocus() {
  // The close event comes a task after the dialog closed: if the reader opened it again
  // in between, focus and its way back belong to that opening.
  if (ui.dlg.open) return;
  const { element, range } = returnTo || {};
  returnTo = null;
  if (element && element.isConnected) element.focus({ preventScroll: true });
  else if (range) {
    const selection = d.getSelection();
    selection.removeAllRanges();
    selection.addRange(range);
  }
}

// The bottom sheet on a small screen, and the dialog at its size in screen pixels even on
// a page the phone shows scaled down (one without <meta name=viewport>).
function fitScreen() {
  const scale = (w.visualViewport && w.visualViewport.scale) || 1;
  ui.dlg.classList.toggle('sheet', innerWidth * Math.min(scale, 1) < SHEET_WIDTH);
  ui.dlg.style.zoom = scale < 1 ? 1 / scale : '';
}

let opening = false;

async function open(range, element) {
  if ((ui && ui.dlg.open) || opening) return;
  opening = true;
  // What the reader selected, taken now: the strings may take a moment to come.
  const here = place(range, element);
  rememberFocus(range, element);
  try {
    await build(langOf((range && range.commonAncestorContainer) || here.root));
  } finally {
    opening = false;
  }
  current = here;
  const q = current.quote;
  const { L } = ui;
  ui.o.reset();
  for (const id of ['k', 'r', 'c', 'n', 'e']) markField(ui, id, '');
  ui.dlg.classList.remove('sent');
  ui.dlg.setAttribute('aria-describedby', 'q');
  // A selection outside any article is said so, never quietly turned into a note.
  ui.m.textContent = current.placed ? '' : L.unplaced;
  withdraw();
  ui.d.hidden = true;
  ui.o.hidden = false;
  ui.l.hidden = !q;
  // A note about the whole article is seldom a typo.
  ui.k.value = q ? 'typo' : 'other';
  ui.q.textContent = q ? '' : d.title;
  if (q) {
    const mark = d.createElement('mark');
    mark.textContent = q.exact;
    ui.q.append((q.start > 32 ? '…' : '') + q.prefix, mark, q.suffix + (codePoints(q.suffix) > 31 ? '…' : ''));
    ui.r.value = q.exact;
    showPreview(ui, q.exact);
    if (q.end - q.start > MAX_QUOTE) ui.m.textContent = L.long;
  }
  ui.s.disabled = !!q && q.end - q.start > MAX_QUOTE;
  fitScreen();
  present(ui.dlg);
  (q ? ui.r : ui.c).focus();
}

const hex = (buffer) => [...new Uint8Array(buffer)].map((x) => (x | 256).toString(16).slice(1)).join('');

/** What the reader got wrong before anything is sent, as the API's field codes. */
function ownCheck() {
  const email = ui.e.value.trim();
  if (ui.y.checked && !email) return { 'reporter.email': 'email_needed' };
  if (email && !EMAIL.test(email)) return { 'reporter.email': 'invalid_email' };
  return null;
}

// Fields at fault: said at each field, the first one focused.
function refuse(codes) {
  const first = markCodes(ui, codes);
  ui.m.textContent = first ? ui.L.fix : ui.L.failed;
  (first || ui.s).focus();
}

async function send(ev) {
  ev.preventDefault();
  const { L } = ui;
  const wrong = ownCheck();
  if (wrong) return refuse(wrong);
  const { root: article, text, quote } = current;
  const value = (k) => ui[k].value.trim() || undefined;
  const email = value('e');
  ui.s.disabled = true;
  const body = {
    id: crypto.randomUUID(),
    site: host.dataset.site,
    kind: ui.k.value,
    quote: quote || undefined,
    replacement: quote ? ui.r.value : undefined,
    comment: value('c'),
    website: ui.w.value,
    reporter: (value('n') || email) && { name: value('n'), email, notify: ui.y.checked },
    article: {
      url: articleUrl(article),
      title: pageTitle(d),
      text,
      sha256: hex(await crypto.subtle.digest('SHA-256', new TextEncoder().encode(text))),
    },
  };
  const r = await host.submit(body);
  const ok = r.st == 200 || r.st == 201;
  if (!ok && !(r.kept && (!r.st || r.st == 429 || r.st >= 500))) {
    ui.s.disabled = false;
    const error = (r.j && r.j.error) || {};
    // For the site's developers: the server's own words.
    if (error.message) console.warn(`Reader feedback: ${error.message}`);
    return refuse(error.field_codes);
  }
  // Sent, or kept to be sent later: the thank-you, and what happens next.
  ui.m.textContent = ok ? L.thanks : r.st == 429 ? L.busy : L.later;
  ui.dn.textContent = L.next;
  ui.dm.textContent = email && ui.y.checked ? L.mail.replace('{email}', email) : '';
  ui.dm.hidden = !ui.dm.textContent;
  ui.dlg.classList.add('sent');
  ui.dlg.setAttribute('aria-describedby', 'm dn dm');
  ui.o.hidden = true;
  ui.d.hidden = false;
  ui.z.focus();
}

// Touch: the button for a selection in an article.
async function selectionChanged() {
  const range = host.touch() && !(ui && ui.dlg.open) && selected();
  if (!range) return withdraw();
  const { L, dlg } = await build(langOf(range.commonAncestorContainer));
  // The button has a shadow root of its own: the page's --reader-feedback-* reach it, and
  // the tag's theme is put on it here.
  applyTheme(offer(range, L.title, open, dlg.lang, L.dir));
}

const selected = (s = d.getSelection(), r = s.rangeCount && !s.isCollapsed && s.getRangeAt(0)) =>
  r && placeable(r) ? r.cloneRange() : null;

if (host) {
  host.connect({
    v: INTERFACE,
    open,
    isOpen: () => !!(ui && ui.dlg.open),
    selectionChanged,
  });
  // This chunk comes on the reader's first selection: fetch the page's language now, so
  // that it is here by the time they ask for the dialog.
  loadStrings(pickLang(host.dataset.lang, d.documentElement.lang), me.src);
}
