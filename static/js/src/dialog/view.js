// The dialog's markup in one language, and how it shows field errors and the preview.
import { wordChange } from './preview.js';

const KINDS = ['typo', 'factual', 'unclear', 'other'];

// The API's field paths (README: Field codes) and the controls that hold them.
export const FIELD_CONTROLS = {
  kind: 'k',
  replacement: 'r',
  comment: 'c',
  'reporter.name': 'n',
  'reporter.email': 'e',
  'reporter.notify': 'e',
};

// Text goes in through textContent, or escaped here: strings and labels are ours, but
// keep the markup safe whatever a translation holds.
const esc = (text) => text.replace(/[&<>"]/g, (c) => `&#${c.charCodeAt(0)};`);

const field = (id, label, control) =>
  `<div class=fd><label for=${id}>${esc(label)}</label>${control}<p class=er id=${id}-er></p></div>`;

/** The <dialog> for strings `L` in language `lang`; answers it with its parts by id. */
export function dialogFor(L, lang) {
  const kinds = L.kinds.map((label, i) => `<option value=${KINDS[i]}>${esc(label)}`).join('');
  const box = document.createElement('dialog');
  box.lang = lang;
  box.dir = L.dir;
  box.setAttribute('aria-modal', 'true');
  box.setAttribute('aria-labelledby', 't');
  box.setAttribute('aria-describedby', 'q');
  box.innerHTML =
    `<div class=hd><h2 id=t>${esc(L.title)}</h2><button type=button id=x aria-label="${esc(L.close)}">×</button></div>` +
    `<p id=m role=status></p>` +
    `<form id=o novalidate><p id=q dir=auto></p>` +
    field('k', L.kind, `<select id=k>${kinds}</select>`) +
    `<div class=fd id=l><label for=r>${esc(L.correction)}</label><textarea id=r maxlength=2000 dir=auto aria-describedby="r-er p"></textarea>` +
    `<p class=er id=r-er></p><p class=pv id=p dir=auto></p></div>` +
    field('c', L.comment, `<textarea id=c maxlength=5000 dir=auto></textarea>`) +
    `<div class=two>${field('n', L.name, `<input id=n maxlength=200 autocomplete=name>`)}` +
    `${field('e', L.email, `<input id=e type=email maxlength=254 autocomplete=email dir=ltr>`)}</div>` +
    `<label class=ck><input id=y type=checkbox> ${esc(L.notify)}</label>` +
    `<input id=w class=h tabindex=-1 aria-hidden=true autocomplete=off>` +
    `<div class=ac><button type=button id=v>${esc(L.cancel)}</button><button id=s class=pr>${esc(L.send)}</button></div></form>` +
    `<div class=done id=d hidden><p id=dn></p><p id=dm dir=auto></p><div class=ac><button type=button id=z class=pr>${esc(L.close)}</button></div></div>`;
  const ui = { dlg: box, L };
  for (const node of box.querySelectorAll('[id]')) ui[node.id.replace('-', '_')] = node;
  return ui;
}

/** Show `message` at control `id` (or clear it with ''), tied to it for screen readers. */
export function markField(ui, id, message) {
  const control = ui[id];
  ui[`${id}_er`].textContent = message;
  if (message) control.setAttribute('aria-invalid', 'true');
  else control.removeAttribute('aria-invalid');
  const described = (control.getAttribute('aria-describedby') || '').split(' ').filter((x) => x && x != `${id}-er`);
  if (message) described.unshift(`${id}-er`);
  if (described.length) control.setAttribute('aria-describedby', described.join(' '));
  else control.removeAttribute('aria-describedby');
}

/**
 * Show the API's `field_codes` at their controls in the dialog's language; answers the
 * first control marked, or null when no field at fault is one the reader can change.
 */
export function markCodes(ui, codes) {
  let first = null;
  for (const [path, code] of Object.entries(codes || {})) {
    const id = FIELD_CONTROLS[path];
    if (!id || (id == 'r' && ui.l.hidden)) continue;
    markField(ui, id, ui.L.codes[code] || ui.L.codes.invalid);
    first = first || ui[id];
  }
  return first;
}

/** The preview of the correction: the quote's words that go, and the ones that come. */
export function showPreview(ui, quote) {
  const change = wordChange(quote, ui.r.value);
  const p = ui.p;
  p.textContent = '';
  const label = document.createElement('b');
  label.textContent = `${ui.L.preview}: `;
  if (!change) {
    p.textContent = ui.L.unchanged;
    return;
  }
  p.append(label, change.lead);
  if (change.removed.trim()) p.append(Object.assign(document.createElement('del'), { textContent: change.removed }));
  if (change.removed.trim() && change.added.trim()) p.append(' ');
  if (change.added.trim()) p.append(Object.assign(document.createElement('ins'), { textContent: change.added }));
  p.append(change.trail);
}
