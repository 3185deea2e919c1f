// The dialog chunk: loaded by the loader on first use (shared/interface.js has the contract).
import { HOST_KEY, INTERFACE } from '../shared/interface.js';
import { HOST_ATTRIBUTE, pageTitle } from '../shared/extract.js';
import { codePoints } from '../shared/text.js';
import { articleUrl, place, placeable } from './article.js';
import { offer, withdraw } from './float.js';
import { present } from './present.js';
import { dirOf, pickLang, stringsFor } from './strings/index.js';
import { CSS } from './style.js';

const d = document;
const host = d.currentScript && d.currentScript[HOST_KEY];

const KINDS = ['typo', 'factual', 'unclear', 'other'];
const MAX_QUOTE = 1000;

let ui, L, current;

const selected = (s = d.getSelection(), r = s.rangeCount && !s.isCollapsed && s.getRangeAt(0)) =>
  r && placeable(r) ? r.cloneRange() : null;

function build() {
  if (ui) return ui;
  const lang = pickLang(host.dataset.lang, d.documentElement.lang);
  L = stringsFor(lang);
  const el = d.createElement('div');
  // Never read as article text, here or by the server's fetcher.
  el.setAttribute(HOST_ATTRIBUTE, '');
  el.setAttribute('data-feedback-ignore', '');
  const sr = el.attachShadow({ mode: 'open' });
  const kinds = L.K.map((label, i) => `<option value=${KINDS[i]}>${label}`).join('');
  sr.innerHTML = `<style>${CSS}</style><dialog aria-modal=true aria-labelledby=t aria-describedby=q lang=${lang} dir=${dirOf(lang)}><h2 id=t>${L.t}</h2><form id=o>
<p id=q></p><label>${L.k}<select id=k>${kinds}</select></label>
<label id=l>${L.r}<textarea id=r maxlength=1000></textarea></label><label>${L.c}<textarea id=c></textarea></label>
<label>${L.n}<input id=n></label><label>${L.e}<input id=e type=email></label>
<label><input id=y type=checkbox> ${L.y}</label><input id=w class=h tabindex=-1 aria-hidden=true autocomplete=off>
<button type=button id=x>${L.x}</button> <button id=s>${L.s}</button></form><p id=m role=status></p><button id=z>${L.z}</button></dialog>`;
  ui = { sr, dlg: sr.lastChild };
  for (const node of sr.querySelectorAll('[id]')) ui[node.id] = node;
  ui.x.onclick = ui.z.onclick = () => ui.dlg.close();
  ui.y.onchange = () => (ui.e.required = ui.y.checked);
  ui.o.onsubmit = send;
  // Keys typed here are not for the page.
  ui.dlg.onkeydown = (e) => {
    e.stopPropagation();
    trap(e);
  };
  // Not in <body>, which the page and its frameworks own.
  d.documentElement.append(el);
  return ui;
}

// Tab and Shift+Tab stay inside the dialog.
function trap(e) {
  if (e.key != 'Tab') return;
  const focusable = [...ui.dlg.querySelectorAll('select,textarea,input,button')].filter(
    (x) => x.tabIndex >= 0 && !x.disabled && x.getClientRects().length,
  );
  const i = focusable.indexOf(ui.sr.activeElement) + (e.shiftKey ? -1 : 1);
  if (!focusable[i]) {
    e.preventDefault();
    focusable[i < 0 ? focusable.length - 1 : 0].focus();
  }
}

function open(range, element) {
  build();
  if (ui.dlg.open) return;
  current = place(range, element);
  const q = current.quote;
  ui.o.reset();
  // A selection outside any article is said so, never quietly turned into a note.
  ui.m.textContent = current.placed ? '' : L.unplaced;
  withdraw();
  ui.z.hidden = true;
  ui.o.hidden = false;
  ui.e.required = false;
  ui.l.hidden = !q;
  ui.q.textContent = q ? '' : d.title;
  if (q) {
    const mark = d.createElement('mark');
    mark.textContent = q.exact;
    ui.q.append((q.start > 32 ? '…' : '') + q.prefix, mark, q.suffix + (codePoints(q.suffix) > 31 ? '…' : ''));
    ui.r.value = q.exact;
    if (q.end - q.start > MAX_QUOTE) ui.m.textContent = L.long;
  }
  ui.s.disabled = !!q && q.end - q.start > MAX_QUOTE;
  present(ui.dlg);
  (q ? ui.r : ui.c).focus();
}

const hex = (buffer) => [...new Uint8Array(buffer)].map((x) => (x | 256).toString(16).slice(1)).join('');

async function send(ev) {
  ev.preventDefault();
  const { root, text, quote } = current;
  const value = (k) => ui[k].value.trim() || undefined;
  ui.s.disabled = true;
  const body = {
    id: crypto.randomUUID(),
    site: host.dataset.site,
    kind: ui.k.value,
    quote: quote || undefined,
    replacement: quote ? ui.r.value : undefined,
    comment: value('c'),
    website: ui.w.value,
    reporter: (value('n') || value('e')) && { name: value('n'), email: value('e'), notify: ui.y.checked },
    article: {
      url: articleUrl(root),
      title: pageTitle(d),
      text,
      sha256: hex(await crypto.subtle.digest('SHA-256', new TextEncoder().encode(text))),
    },
  };
  const r = await host.submit(body);
  const ok = r.st == 200 || r.st == 201;
  const fine = ok || (r.kept && (!r.st || r.st == 429 || r.st >= 500));
  // Refused: the API's message names each field at fault (422) or the reason.
  ui.m.textContent = ok ? L.ok : fine ? (r.st == 429 ? L.busy : L.later) : `${L.err}: ${(r.j && r.j.error && r.j.error.message) || r.st}`;
  if (!fine) {
    ui.s.disabled = false;
    return;
  }
  ui.o.hidden = true;
  ui.z.hidden = false;
  ui.z.focus();
}

// Touch: the button for a selection in an article.
function selectionChanged() {
  const range = host.touch() && !(ui && ui.dlg.open) && selected();
  if (!range) return withdraw();
  build();
  offer(range, L.t, open);
}

if (host) {
  host.connect({
    v: INTERFACE,
    open,
    isOpen: () => !!(ui && ui.dlg.open),
    selectionChanged,
  });
}
