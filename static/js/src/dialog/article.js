// Which element holds the article a report is about, and its URL.
const d = document;

/** The article roots: the marked ones, else the first article, else main, else body. */
export const roots = (marked = d.querySelectorAll('[data-feedback-article]')) =>
  marked.length ? [...marked] : [d.querySelector('article') || d.querySelector('main') || d.body];

/** The root for a selection `range`, else the one holding `element`, else the first. */
export function rootFor(range, element) {
  const all = roots();
  return (range && all.find((x) => range.intersectsNode(x))) || all.find((x) => x.contains(element)) || all[0];
}

/** Whether `range` reaches into an article at all. */
export const inArticle = (range) => !!range && roots().some((x) => range.intersectsNode(x));

/** The URL sent as the article's. */
export const articleUrl = (root) =>
  new URL(root.dataset.feedbackUrl || (d.querySelector('link[rel=canonical]') || location).href, d.baseURI).href;
