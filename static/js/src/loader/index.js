// The loader: what the site's tag loads. At load it only adds listeners; the dialog chunk
// is fetched when the reader first selects text and run when they first ask for it.
import { HOST_KEY, INTERFACE } from '../shared/interface.js';
import { createQueue } from './queue.js';

// Set by the build (scripts/build-snippet.mjs).
/* global __VERSION__, __DIALOG_FILE__, __DIALOG_FALLBACK__ */

const w = window;
const d = document;
// Pasted twice, or no Web Crypto (insecure context): do nothing.
if (!w.ReaderFeedback && w.isSecureContext) {
  const me = d.currentScript; // null after this first run
  const src = me.src;
  const api = new URL('/api/v1/suggestions', src).href;
  const queue = createQueue(w);
  let touch = false;
  let settling; // the timer of the touch button's update
  let dialog; // the connected dialog chunk
  let loading; // the promise of it

  // The chunk's URL next to ours, with our ?v= (so a versioned tag caches both).
  const chunkUrl = (file) => {
    const url = new URL(file, src);
    url.search = new URL(src).search;
    return url.href;
  };
  const inject = (file) =>
    new Promise((resolve, reject) => {
      const script = d.createElement('script');
      script[HOST_KEY] = host;
      script.src = chunkUrl(file);
      script.async = true;
      script.onload = () => (dialog ? resolve(dialog) : reject());
      script.onerror = reject;
      d.head.appendChild(script);
    });
  // The hashed chunk this loader was built with; once the service has moved on and no
  // longer has it, the newest chunk under its stable name.
  const load = () =>
    loading ||
    (loading = inject(__DIALOG_FILE__)
      .catch(() => inject(__DIALOG_FALLBACK__))
      .catch((error) => {
        loading = null; // try again on the next gesture
        throw error;
      }));

  const host = {
    v: INTERFACE,
    version: __VERSION__,
    api,
    dataset: me.dataset,
    submit: (body) => queue.submit(api, body),
    touch: () => touch,
    connect: (chunk) => {
      dialog = chunk;
    },
  };

  const selected = (s = d.getSelection()) =>
    s && s.rangeCount && !s.isCollapsed ? s.getRangeAt(0).cloneRange() : null;
  const open = (range, element) => load().then((chunk) => chunk.open(range, element));
  const isOpen = () => dialog && dialog.isOpen();

  // Capturing on window, before any handler of the page can stop the event.
  const on = (type, fn, target = w) => target.addEventListener(type, fn, true);
  // Plain properties rather than matches() or closest(), which some pages replace.
  const typing = (el) => !!el && (/^(INPUT|TEXTAREA|SELECT)$/.test(el.nodeName) || el.isContentEditable);
  on('keydown', (e) => {
    if (e.key != 'Enter' || !(e.ctrlKey || e.metaKey) || isOpen()) return;
    const range = selected();
    const active = d.activeElement;
    if (range || !typing(active)) {
      e.preventDefault();
      open(range, active);
    }
  });
  on('click', (e) => {
    for (let el = e.target; el && el.getAttribute; el = el.parentNode) {
      if (el.getAttribute('data-feedback-open') != null) {
        e.preventDefault();
        return open(null, el);
      }
    }
  });
  on('pointerdown', (e) => (touch = e.pointerType == 'touch'));
  // The first selection fetches the chunk; on touch it shows its button by the selection,
  // late, so that a tap on that button lands first.
  on(
    'selectionchange',
    () => {
      if (!dialog && !selected()) return;
      load().then(
        (chunk) => {
          // Once the selection rests: dragging a handle fires this many times a second.
          clearTimeout(settling);
          if (touch) settling = setTimeout(chunk.selectionChanged, 250);
        },
        () => {},
      );
    },
    d,
  );
  on('online', () => queue.flush(true));
  on('pagehide', queue.release);
  // Each page view retries every kept report.
  const retry = () => setTimeout(queue.flush, 2e3, true);
  d.readyState == 'complete' ? retry() : on('load', retry);

  w.ReaderFeedback = {
    version: __VERSION__,
    open: (element) => open(selected(), element),
  };
}
