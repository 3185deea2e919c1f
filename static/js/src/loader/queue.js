// The outbox: every report is kept in localStorage before it is sent, and retried until
// the server answers (or a week has passed). The stored format, under STORE, is a list of
// {u: API URL, b: request body, n: attempts, t: next attempt (ms), c: created (ms)} and,
// while an attempt is under way, f: until when it counts as in flight (ms). It must stay
// readable by every later snippet: readers' browsers keep it across upgrades.
import { toJson } from '../shared/json.js';

export const STORE = 'readerFeedback.queue';
const WEEK = 6048e5;
// An attempt not answered by then is taken as lost (a closed tab, say).
const IN_FLIGHT = 6e4;

/** Whether a delivery outcome ({st: status, 0 for no answer}) is worth retrying. */
export const retryable = (st) => !st || st == 429 || st >= 500;

/** The queue after an attempt at `item`: it goes, or waits longer (up to an hour). */
export function settle(queue, item, { st, ra }, now) {
  const rest = queue.filter((x) => x.b.id != item.b.id);
  if (retryable(st) && now - item.c < WEEK) {
    const wait = Math.max(ra * 1e3 || 0, Math.min(36e5, 1e4 * 2 ** item.n));
    rest.push({ u: item.u, b: item.b, n: item.n + 1, t: now + wait, c: item.c });
  }
  return rest;
}

/** The outbox of window `w`. */
export function createQueue(w) {
  const deliver = (url, body) =>
    w
      .fetch(url, {
        method: 'POST',
        headers: { 'Content-Type': 'application/json' },
        body: toJson(body),
        credentials: 'omit',
      })
      .then(
        async (r) => ({ st: r.status, ra: +r.headers.get('Retry-After'), j: await r.json().catch(() => 0) }),
        () => ({ st: 0 }),
      );

  const load = () => {
    try {
      const queue = JSON.parse(w.localStorage[STORE] || '[]');
      return Array.isArray(queue) ? queue : [];
    } catch (_) {
      return [];
    }
  };
  // Whether it could be stored (storage may be full or switched off).
  const save = (queue) => {
    try {
      if (queue.length) w.localStorage[STORE] = toJson(queue);
      else delete w.localStorage[STORE];
      return true;
    } catch (_) {
      return false;
    }
  };

  // Reports this tab is sending now; other tabs see their `f`.
  const sending = Object.create(null);
  const inFlight = (item, now) => sending[item.b.id] || item.f > now;

  /** One attempt at `item`, marked in flight meanwhile; answers the outcome. */
  async function attempt(item) {
    const id = item.b.id;
    sending[id] = 1;
    try {
      const outcome = await deliver(item.u, item.b);
      save(settle(load(), item, outcome, Date.now()));
      return outcome;
    } finally {
      delete sending[id];
    }
  }

  let busy, timer;
  /** Send what is due (everything when `all`) and not in flight, then wait for the next. */
  async function flush(all) {
    if (busy) return;
    busy = 1;
    try {
      for (const item of load()) {
        const now = Date.now();
        if ((all || item.t <= now) && !inFlight(item, now)) {
          save(load().map((x) => (x.b.id == item.b.id ? { ...x, f: now + IN_FLIGHT } : x)));
          await attempt(item);
        }
      }
    } finally {
      busy = 0;
    }
    const queue = load();
    w.clearTimeout(timer);
    if (queue.length) {
      const next = Math.min(...queue.map((x) => Math.max(x.t, x.f || 0)));
      timer = w.setTimeout(flush, Math.max(1e3, next - Date.now()));
    }
  }

  /** Keep a report, send it, and answer the outcome ({st, ra, j, kept}). */
  async function submit(url, body) {
    // Kept first: a closed tab or a lost answer loses nothing.
    const now = Date.now();
    const item = { u: url, b: body, n: 0, t: now + 3e4, c: now };
    const kept = save([...load(), { ...item, f: now + IN_FLIGHT }]);
    const outcome = await attempt(item);
    flush();
    return { ...outcome, kept };
  }

  /** The tab is going away: its attempts no longer count as in flight, so that the next
   * page view sends them again (the server stores a report once, whatever its attempts). */
  function release() {
    save(load().map((x) => (sending[x.b.id] ? { u: x.u, b: x.b, n: x.n, t: x.t, c: x.c } : x)));
  }

  return { flush, submit, release, load };
}
