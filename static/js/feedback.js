/* Reader corrections snippet: docs/snippet.md */
(function (w, d) {
'use strict';
// Pasted twice, or no Web Crypto (insecure context).
if (w.ReaderFeedback || !w.isSecureContext) return;
const me = d.currentScript; // null after this first run
const API = new URL('/api/v1/suggestions', me.src).href;
const STORE = 'readerFeedback.queue';

// One object per language; a missing key falls back to English.
const STRINGS = {
  en: {
    t: 'Report an error', k: 'What is wrong?', K: ['Typo', 'Factual error', 'Unclear', 'Other'],
    r: 'Suggested correction', c: 'Comment', n: 'Your name', e: 'Email', y: 'Tell me what happened to it',
    s: 'Send', x: 'Cancel', z: 'Close', ok: 'Thank you!', later: 'No connection: saved, will be sent later.',
    busy: 'Too many reports: will be sent in a minute.', long: 'Select at most 1000 characters.', err: 'Not sent',
  },
  ru: {
    t: 'Сообщить об ошибке', k: 'Что не так?', K: ['Опечатка', 'Ошибка в фактах', 'Непонятно', 'Другое'],
    r: 'Как правильно', c: 'Комментарий', n: 'Ваше имя', e: 'Эл. почта', y: 'Сообщить мне о результате',
    s: 'Отправить', x: 'Отмена', z: 'Закрыть', ok: 'Спасибо!', later: 'Нет связи: сохранено, отправим позже.',
    busy: 'Много сообщений: отправим через минуту.', long: 'Выделите не больше 1000 знаков.', err: 'Не отправлено',
  },
  uk: {
    t: 'Повідомити про помилку', k: 'Що не так?', K: ['Одруківка', 'Помилка у фактах', 'Незрозуміло', 'Інше'],
    r: 'Як має бути', c: 'Коментар', n: 'Ваше імʼя', e: 'Ел. пошта', y: 'Повідомити мені про результат',
    s: 'Надіслати', x: 'Скасувати', z: 'Закрити', ok: 'Дякуємо!', later: 'Немає звʼязку: збережено, надішлемо пізніше.',
    busy: 'Забагато повідомлень: надішлемо за хвилину.', long: 'Виділіть не більше 1000 знаків.', err: 'Не надіслано',
  },
  be: {
    t: 'Паведаміць пра памылку', k: 'Што не так?', K: ['Апячатка', 'Памылка ў фактах', 'Незразумела', 'Іншае'],
    r: 'Як павінна быць', c: 'Каментарый', n: 'Ваша імя', e: 'Эл. пошта', y: 'Паведаміць мне пра вынік',
    s: 'Адправіць', x: 'Скасаваць', z: 'Закрыць', ok: 'Дзякуй!', later: 'Няма сувязі: захавана, адправім пазней.',
    busy: 'Зашмат паведамленняў: адправім праз хвіліну.', long: 'Вылучыце не больш за 1000 знакаў.', err: 'Не адпраўлена',
  },
};
const pickLang = (...tags) => tags.map((t) => (t || '').toLowerCase().split(/[-_]/)[0]).find((t) => STRINGS[t]) || 'en';

// feedback/anchoring.py's rule exactly (not \s: another set).
const RUN = /[\t\v\f \x85\xa0\u1680\u2000-\u200a\u202f\u205f\u3000\ufeff\n\r\u2028\u2029]+/g;
const collapse = (s) => s.normalize('NFC').replace(RUN, (r) => (/[\n\r\u2028\u2029]/.test(r) ? '\n' : ' '));
const norm = (s) => collapse(s).replace(/^[ \n]|[ \n]$/g, '');
const cps = (s) => [...s].length;

// By tag, not style, so that every reader sends the same text.
const BLOCK = /^(P|H\d|LI|DIV|BR|BLOCKQUOTE|FIGCAPTION|T[RDH]|[OU]L|D[LTD]|SECTION|PRE|TABLE|HR)$/;
const LEFT_OUT = '[data-feedback-ignore],[hidden],[aria-hidden=true],script,style,noscript,template';

// The text of `root`; each point {n, o} of `pts` gets its offset in it, `at`.
function walk(root, pts = []) {
  let raw = '';
  const visit = (n, pre) => {
    const tag = n.nodeName;
    const sep = BLOCK.test(tag) ? '\n' : '';
    if (n.nodeType == 3) {
      for (const p of pts) if (p.n == n) p.at = raw.length + p.o;
      raw += pre ? n.data : n.data.replace(/[\n\r]/g, ' '); // as rendered
    } else if (n != root && n.matches?.(LEFT_OUT)) {
      for (const p of pts) if (n.contains(p.n)) p.at = raw.length;
    } else {
      raw += sep;
      [...n.childNodes, 0].forEach((k, i) => {
        for (const p of pts) if (p.n == n && p.o == i) p.at = raw.length;
        if (k) visit(k, pre || tag == 'PRE');
      });
      raw += sep;
    }
  };
  visit(root);
  return raw;
}

// Selectors of raw[a:b] in text = norm(raw). An offset maps to the normalised length of
// the text before it: a whitespace run is one character wherever cut.
function quoteOf(raw, text, a, b) {
  const to = (k) => Math.min(text.length, collapse(raw.slice(0, k)).replace(/^[ \n]/, '').length);
  let s = to(a);
  let e = Math.max(s, to(b));
  while (s < e && /[ \n]/.test(text[s])) s++;
  while (e > s && /[ \n]/.test(text[e - 1])) e--;
  const exact = text.slice(s, e);
  const start = cps(text.slice(0, s));
  return exact && { exact, prefix: [...text.slice(Math.max(0, s - 64), s)].slice(-32).join(''),
    suffix: [...text.slice(e, e + 64)].slice(0, 32).join(''), start, end: start + cps(exact) };
}

const roots = (m = d.querySelectorAll('[data-feedback-article]')) =>
  m.length ? [...m] : [d.querySelector('article') || d.querySelector('main') || d.body];

// Points outside `root` are never met: that clips the quote.
function capture(root, range) {
  const pts = range ? [{ n: range.startContainer, o: range.startOffset }, { n: range.endContainer, o: range.endOffset }] : [];
  const raw = walk(root, pts);
  const text = norm(raw);
  return { root, text, quote: range && quoteOf(raw, text, pts[0].at ?? 0, pts[1].at ?? raw.length) };
}

const selected = (s = d.getSelection(), r = s.rangeCount && !s.isCollapsed && s.getRangeAt(0)) =>
  r && roots().some((x) => r.intersectsNode(x)) ? r.cloneRange() : null;

const deliver = (url, body) =>
  fetch(url, { method: 'POST', headers: { 'Content-Type': 'application/json' }, body: JSON.stringify(body), credentials: 'omit' }).then(
    async (r) => ({ st: r.status, ra: +r.headers.get('Retry-After'), j: await r.json().catch(() => 0) }),
    () => ({ st: 0 })
  );

const again = (st) => !st || st == 429 || st >= 500;
// After an attempt `it` goes, or waits longer (up to a week); same id, stored once.
function settle(queue, it, { st, ra }, now) {
  const rest = queue.filter((x) => x.b.id != it.b.id);
  if (again(st) && now - it.c < 6048e5) rest.push({ ...it, n: it.n + 1, t: now + Math.max(ra * 1e3 || 0, Math.min(36e5, 1e4 * 2 ** it.n)) });
  return rest;
}
const load = () => {
  try {
    return JSON.parse(localStorage[STORE] || '[]');
  } catch (_) {
    return [];
  }
};
const save = (q) => {
  try {
    q[0] ? (localStorage[STORE] = JSON.stringify(q)) : delete localStorage[STORE];
    return 1;
  } catch (_) {}
};

let busy, timer;
async function flush(all) {
  if (busy) return;
  busy = 1;
  for (const it of load())
    if (all || it.t <= Date.now()) {
      const r = await deliver(it.u, it.b);
      save(settle(load(), it, r, Date.now()));
    }
  busy = 0;
  const q = load();
  clearTimeout(timer);
  if (q[0]) timer = setTimeout(flush, Math.max(1e3, Math.min(...q.map((x) => x.t)) - Date.now()));
}

// :host !important beats the page's !important.
const CSS = `:host{all:initial!important}
dialog,#f{color-scheme:light dark;font-family:system-ui,sans-serif}
dialog{width:30em}
#q{white-space:pre-line}
label{display:block;margin:8px 0}
select,textarea,input,button{font:inherit}
select,textarea,#n,#e{display:block;width:100%;box-sizing:border-box}
.h{position:absolute;left:-9999px}
#f{position:fixed;z-index:2147483647}
[hidden]{display:none!important}`;

let u, L, cur, saved, touch;
function build() {
  if (u) return u;
  const lang = pickLang(me.dataset.lang, d.documentElement.lang);
  L = { ...STRINGS.en, ...STRINGS[lang] };
  const host = d.createElement('div');
  host.dataset.feedbackIgnore = '';
  const sr = host.attachShadow({ mode: 'open' });
  sr.innerHTML = `<style>${CSS}</style><button id=f hidden>${L.t}</button><dialog aria-modal=true aria-labelledby=t aria-describedby=q lang=${lang}><h2 id=t>${L.t}</h2><form id=o>
<p id=q></p><label>${L.k}<select id=k>${L.K.map((x, i) => `<option value=${'typo factual unclear other'.split(' ')[i]}>${x}`).join('')}</select></label>
<label id=l>${L.r}<textarea id=r maxlength=1000></textarea></label><label>${L.c}<textarea id=c></textarea></label>
<label>${L.n}<input id=n></label><label>${L.e}<input id=e type=email></label>
<label><input id=y type=checkbox> ${L.y}</label><input id=w class=h tabindex=-1 aria-hidden=true autocomplete=off>
<button type=button id=x>${L.x}</button> <button id=s>${L.s}</button></form><p id=m role=status></p><button id=z>${L.z}</button></dialog>`;
  u = { sr, dlg: sr.lastChild };
  for (const el of sr.querySelectorAll('[id]')) u[el.id] = el;
  u.f.onclick = () => begin(saved);
  u.x.onclick = u.z.onclick = () => u.dlg.close();
  u.y.onchange = () => (u.e.required = u.y.checked);
  u.o.onsubmit = send;
  // Keys typed here are not for the page.
  u.dlg.onkeydown = (e) => e.stopPropagation() || trap(e);
  // Not in <body>, which the page and its frameworks own.
  d.documentElement.append(host);
  return u;
}

// Focus trap.
function trap(e) {
  const f = [...u.dlg.querySelectorAll('select,textarea,input,button')].filter((x) => x.tabIndex >= 0 && !x.disabled && x.getClientRects().length);
  const i = f.indexOf(u.sr.activeElement) + (e.shiftKey ? -1 : 1);
  if (e.key == 'Tab' && !f[i]) e.preventDefault() || f[i < 0 ? f.length - 1 : 0].focus();
}

function begin(range, el) {
  build();
  if (u.dlg.open) return;
  const all = roots();
  cur = capture((range && all.find((x) => range.intersectsNode(x))) || all.find((x) => x.contains(el)) || all[0], range);
  const q = cur.quote;
  u.o.reset();
  u.m.textContent = '';
  u.f.hidden = u.z.hidden = 1;
  u.o.hidden = 0;
  u.e.required = 0;
  u.l.hidden = !q;
  u.q.textContent = q ? '' : d.title;
  if (q) {
    const mark = d.createElement('mark');
    mark.textContent = q.exact;
    u.q.append((q.start > 32 ? '…' : '') + q.prefix, mark, q.suffix + (cps(q.suffix) > 31 ? '…' : ''));
    u.r.value = q.exact;
    if (q.end - q.start > 1000) u.m.textContent = L.long;
  }
  u.s.disabled = !!u.m.textContent;
  u.dlg.showModal();
  (q ? u.r : u.c).focus();
}

async function send(ev) {
  ev.preventDefault();
  const { root, text, quote } = cur;
  const v = (k) => u[k].value.trim() || undefined;
  u.s.disabled = 1;
  const b = {
    id: crypto.randomUUID(), site: me.dataset.site, kind: u.k.value, quote: quote || undefined,
    replacement: quote ? u.r.value : undefined, comment: v('c'), website: u.w.value,
    reporter: (v('n') || v('e')) && { name: v('n'), email: v('e'), notify: u.y.checked },
    article: {
      url: new URL(root.dataset.feedbackUrl || (d.querySelector('link[rel=canonical]') || location).href, d.baseURI).href,
      title: d.title.slice(0, 500), text,
      sha256: [...new Uint8Array(await crypto.subtle.digest('SHA-256', new TextEncoder().encode(text)))].map((x) => (x | 256).toString(16).slice(1)).join(''),
    },
  };
  // Queued first: a closed tab or lost answer loses nothing.
  const now = Date.now();
  const it = { u: API, b, n: 0, t: now + 3e4, c: now };
  const kept = save([...load(), it]);
  const r = await deliver(API, b);
  save(settle(load(), it, r, Date.now()));
  flush();
  const ok = r.st == 200 || r.st == 201;
  const fine = ok || (again(r.st) && kept);
  // Refused: the API's message names each field at fault (422) or the reason.
  u.m.textContent = ok ? L.ok : fine ? (r.st == 429 ? L.busy : L.later) : `${L.err}: ${r.j?.error?.message || r.st}`;
  if (!fine) return (u.s.disabled = 0);
  u.o.hidden = 1;
  u.z.hidden = 0;
  u.z.focus();
}

// Touch: a button by the selection; late, so a tap on it lands first.
function float() {
  const r = touch && !u?.dlg.open && selected();
  if (u) u.f.hidden = !r;
  if (!r) return;
  const f = build().f;
  const box = r.getBoundingClientRect();
  saved = r;
  f.hidden = 0;
  f.style.cssText = `top:${Math.min(box.bottom + 8, innerHeight - 60)}px;left:${Math.max(8, Math.min(box.left, innerWidth - f.offsetWidth - 8))}px`;
}

// Capturing on window, before any handler of the page can stop the event.
const on = (type, fn, t = w) => t.addEventListener(type, fn, true);
on('keydown', (e) => {
  if (e.key != 'Enter' || !(e.ctrlKey || e.metaKey) || u?.dlg.open) return;
  const r = selected();
  const a = d.activeElement;
  if (r || !a.matches('input,textarea,select,[contenteditable]')) e.preventDefault() || begin(r, a);
});
on('click', (e, t = e.target.closest?.('[data-feedback-open]')) => t && (e.preventDefault(), begin(null, t)));
on('pointerdown', (e) => (touch = e.pointerType == 'touch'));
on('selectionchange', () => touch && setTimeout(float, 250), d);
on('online', () => flush(1));
// Each page view retries all kept reports.
const retry = () => setTimeout(flush, 2e3, 1);
d.readyState == 'complete' ? retry() : on('load', retry);

w.ReaderFeedback = {
  version: '0.1.0',
  open: (el) => begin(selected(), el),
  _test: { STRINGS, pickLang, norm, walk, quoteOf, capture, settle, flush },
};
})(window, document);
