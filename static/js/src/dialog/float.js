// On touch screens: the "Report an error" button offered for a selection. It stays the
// same size on the screen whatever the page's zoom (a page without a viewport meta tag is
// shown at about 0.4 on a phone), and sits as a bar at the bottom edge of what the reader
// sees, clear of the phone's own selection handles and menu; at the top edge when the
// selection is down there.
import { HOST_ATTRIBUTE } from '../shared/extract.js';

const d = document;
const w = window;
const TARGET = 48; // screen pixels: above the 44 px touch target
const MARGIN = 12;

const CSS = `:host{all:initial!important}
button{all:initial;position:fixed;z-index:2147483647;box-sizing:border-box;display:flex;align-items:center;justify-content:center;
font-family:var(--reader-feedback-font,system-ui,sans-serif);font-weight:600;color:var(--reader-feedback-accent-text,#fff);background:var(--reader-feedback-accent,#1d4ed8);border-radius:999px;
box-shadow:0 2px 10px rgba(0,0,0,.3);cursor:pointer;touch-action:manipulation;text-align:center;white-space:nowrap}
button:focus-visible{outline:3px solid #93c5fd;outline-offset:2px}
[hidden]{display:none!important}`;

let host, button, range, place;

function build(onTap) {
  host = d.createElement('div');
  host.setAttribute(HOST_ATTRIBUTE, '');
  host.setAttribute('data-feedback-ignore', '');
  const root = host.attachShadow({ mode: 'open' });
  root.innerHTML = `<style>${CSS}</style><button type=button hidden></button>`;
  button = root.lastChild;
  button.onclick = () => onTap(range);
  // Zooming and scrolling move what the reader sees: the bar follows.
  const viewport = w.visualViewport;
  if (viewport) {
    viewport.addEventListener('resize', () => place && place());
    viewport.addEventListener('scroll', () => place && place());
  }
  d.documentElement.appendChild(host);
}

/**
 * Offer the button for `selection` (a Range), labelled `label` in `lang` written `dir`
 * (the dialog's language); tapping it calls onTap(selection). Answers the button's host
 * element, for the site's theme.
 */
export function offer(selection, label, onTap, lang = '', dir = 'ltr') {
  if (!button) build(onTap);
  button.textContent = label;
  button.lang = lang;
  button.dir = dir;
  range = selection;
  place = () => {
    const viewport = w.visualViewport || { scale: 1, offsetLeft: 0, offsetTop: 0, width: innerWidth, height: innerHeight };
    const scale = viewport.scale || 1;
    const px = (screen) => screen / scale; // CSS pixels for so many screen pixels
    const width = Math.min(viewport.width - 2 * px(MARGIN), px(360));
    const box = range.getBoundingClientRect();
    // The selection in the visual viewport's own coordinates (screen pixels / scale).
    const bottomZone = viewport.offsetTop + viewport.height - px(TARGET + 3 * MARGIN);
    const atTop = box.bottom > bottomZone;
    const top = atTop ? viewport.offsetTop + px(MARGIN) : viewport.offsetTop + viewport.height - px(TARGET + MARGIN);
    button.style.cssText =
      `top:${top}px;left:${viewport.offsetLeft + (viewport.width - width) / 2}px;width:${width}px;` +
      `height:${px(TARGET)}px;font-size:${px(17)}px;padding:0 ${px(16)}px`;
    button.hidden = false;
  };
  place();
  return host;
}

/** Take the button away. */
export function withdraw() {
  place = null;
  if (button) button.hidden = true;
}
