// The live preview of a correction: which words of the quote change, and into what.

const CONTEXT_WORDS = 3;
// Words and the spaces between them, the spaces kept as tokens of their own.
const tokens = (text) => text.split(/(\s+)/).filter(Boolean);

/**
 * The change from `before` to `after`, at word level: the words both share at the start
 * and the end are context (at most three words each side), the rest is what goes and
 * what comes. Answers {lead, removed, added, trail}; null when nothing changes.
 */
export function wordChange(before, after) {
  if (before == after) return null;
  const a = tokens(before);
  const b = tokens(after);
  let head = 0;
  while (head < a.length && head < b.length && a[head] == b[head]) head++;
  let tail = 0;
  while (tail < a.length - head && tail < b.length - head && a[a.length - 1 - tail] == b[b.length - 1 - tail]) tail++;
  const context = (list) => list.filter((token) => token.trim()).length;
  let lead = a.slice(0, head);
  while (context(lead) > CONTEXT_WORDS || (lead.length && !lead[0].trim())) lead = lead.slice(1);
  let trail = a.slice(a.length - tail);
  while (context(trail) > CONTEXT_WORDS || (trail.length && !trail[trail.length - 1].trim())) trail = trail.slice(0, -1);
  return {
    lead: (head > lead.length ? '…' : '') + lead.join(''),
    removed: a.slice(head, a.length - tail).join(''),
    added: b.slice(head, b.length - tail).join(''),
    trail: trail.join('') + (tail > trail.length ? '…' : ''),
  };
}
