// Normalisation and the quote's selectors, as the server computes them
// (feedback/anchoring.py; shared cases in tests/vectors/normalisation.json).

// Whitespace as the server defines it: an explicit list, not JS \s (another set).
const RUN = /[\t\v\f \x85\xa0\u1680\u2000-\u200a\u202f\u205f\u3000\ufeff\n\r\u2028\u2029]+/g;
const LINE_BREAK = /[\n\r\u2028\u2029]/;

/** NFC, and each whitespace run as one "\n" (when it holds a line break) or one space. */
export const collapse = (s) => s.normalize('NFC').replace(RUN, (run) => (LINE_BREAK.test(run) ? '\n' : ' '));

/** The server's normalisation: collapse, then trim one separator at either end. */
export const norm = (s) => collapse(s).replace(/^[ \n]|[ \n]$/g, '');

/** Length in code points, as Python counts a str. */
export const codePoints = (s) => [...s].length;

/**
 * Selectors of raw[a:b] in text = norm(raw). An offset maps to the normalised length of
 * the text before it: a whitespace run is one character wherever it is cut.
 */
export function quoteOf(raw, text, a, b) {
  const to = (k) => Math.min(text.length, collapse(raw.slice(0, k)).replace(/^[ \n]/, '').length);
  let s = to(a);
  let e = Math.max(s, to(b));
  while (s < e && /[ \n]/.test(text[s])) s++;
  while (e > s && /[ \n]/.test(text[e - 1])) e--;
  const exact = text.slice(s, e);
  const start = codePoints(text.slice(0, s));
  return (
    exact && {
      exact,
      prefix: [...text.slice(Math.max(0, s - 64), s)].slice(-32).join(''),
      suffix: [...text.slice(e, e + 64)].slice(0, 32).join(''),
      start,
      end: start + codePoints(exact),
    }
  );
}
