// The outbox: every report is kept in localStorage before it is sent, and retried until
// the server answers (or a week has passed). The stored format, under STORE, is a list of
// {u: API URL, b: request body, n: attempts, t: next attempt (ms), c: created (ms)}; it
// must stay readable by every later snippet, since readers' browsers keep it across
// upgrades.

export const STORE = 'readerFeedback.queue';
const WEEK = 6048e5;

/** Whether a delivery outcome ({st: status, 0 for no answer}) is worth retrying. */
export const retryable = (st) => !st || st == 429 || st >= 500;

/** The queue after an attempt at `item`: it goes, or waits longer (up to an hour). */
export function settle(queue, item, { st, ra }, now) {
  const rest = queue.filter((x) => x.b.id != item.b.id);
  if (retryable(st) && now - item.c < WEEK) {
    const wait = Math.max(ra * 1e3 || 0, Math.min(36e5, 1e4 * 2 ** item.n));
    rest.push({ ...item, n: item.n + 1, t: now + wait });
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
        body: JSON.stringify(body),
        credentials: 'omit',
      })
      .then(
        async (r) => ({ st: r.status, ra: +r.headers.get('Retry-After'), j: await r.json().catch(() => 0) }),
        () => ({ st: 0 }),
      );

  const load = () => {
    try {
      return JSON.parse(w.localStorage[STORE] || '[]');
    } catch (_) {
      return [];
    }
  };
  // Whether it could be stored (storage may be full or switched off).
  const save = (queue) => {
    try {
      if (queue.length) w.localStorage[STORE] = JSON.stringify(queue);
      else delete w.localStorage[STORE];
      return true;
    } catch (_) {
      return false;
    }
  };

  let busy, timer;
  /** Send what is due (everything when `all`), then wait for the next one due. */
  async function flush(all) {
    if (busy) return;
    busy = 1;
    for (const item of load()) {
      if (all || item.t <= Date.now()) {
        const outcome = await deliver(item.u, item.b);
        save(settle(load(), item, outcome, Date.now()));
      }
    }
    busy = 0;
    const queue = load();
    w.clearTimeout(timer);
    if (queue.length) {
      const next = Math.min(...queue.map((x) => x.t));
      timer = w.setTimeout(flush, Math.max(1e3, next - Date.now()));
    }
  }

  /** Keep a report, send it, and answer the outcome ({st, ra, j, kept}). */
  async function submit(url, body) {
    // Kept first: a closed tab or a lost answer loses nothing.
    const now = Date.now();
    const item = { u: url, b: body, n: 0, t: now + 3e4, c: now };
    const kept = save([...load(), item]);
    const outcome = await deliver(url, body);
    save(settle(load(), item, outcome, Date.now()));
    flush();
    return { ...outcome, kept };
  }

  return { flush, submit, load };
}
