// Which element holds the article a report is about, its text, and its URL.
import { articleAround, capture, pageArticle, URL_ATTRIBUTE } from '../shared/extract.js';

const d = document;

// The snippet alone also leaves out what the page's CSS hides (the server cannot see CSS).
const hiddenByCss = (el) => {
  const style = getComputedStyle(el);
  return !!style && style.display == 'none';
};

const withoutFragment = (url) => url.split('#')[0];

/** The URL of the page's article, before any root is known: canonical (when trusted), else the address. */
function pageUrl() {
  const link = d.querySelector('link[rel=canonical]');
  if (link && link.href) {
    try {
      if (new URL(link.href).origin == location.origin) return link.href;
    } catch (_) {}
  }
  return withoutFragment(location.href);
}

/**
 * The URL sent as the article's: data-feedback-url on the root or an element around it;
 * else the canonical link when it is on the page's own origin (the service refuses
 * article URLs off the site's origins, and a canonical pointing elsewhere, a syndicated
 * copy's say, would lose the report); else the page's address without its fragment.
 */
export function articleUrl(root) {
  for (let el = root; el && el.nodeType == 1; el = el.parentNode) {
    const own = el.getAttribute(URL_ATTRIBUTE);
    if (own) return new URL(own, d.baseURI).href;
  }
  return pageUrl();
}

/**
 * What a report is about: for a selection, the article holding it and the quote
 * (`placed` false when the selection is in no article, or only in text an article leaves
 * out: the reader is told, and the report becomes a note about the page's article);
 * without one, the article holding `element`, else the page's article.
 * Answers {root, text, quote, placed}.
 */
export function place(range, element) {
  if (range) {
    const found =
      articleAround(range.commonAncestorContainer, d, hiddenByCss) ||
      articleAround(range.startContainer, d, hiddenByCss) ||
      articleAround(range.endContainer, d, hiddenByCss);
    if (found) {
      const taken = capture(found.root, range, hiddenByCss);
      if (taken.quote) return { ...taken, placed: true };
    }
  }
  const around = element && element != d.body && articleAround(element, d, hiddenByCss);
  const root = (around || pageArticle(d, { articleUrl: pageUrl(), hidden: hiddenByCss })).root;
  return { ...capture(root, null, hiddenByCss), placed: !range };
}

/** Whether a selection `range` is in an article (the touch button is offered only then). */
export const placeable = (range) => {
  const found = articleAround(range.commonAncestorContainer, d, hiddenByCss) || articleAround(range.startContainer, d, hiddenByCss);
  return !!found;
};
