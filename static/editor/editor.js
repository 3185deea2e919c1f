// Keyboard triage for the queue and the report page. Loaded as a file, never inline,
// so the pages keep a Content Security Policy without 'unsafe-inline' scripts.
(() => {
  'use strict';
  const KEY_STATUS = { a: 'accepted', f: 'fixed', r: 'rejected', s: 'spam' };
  const csrf = document.querySelector('meta[name="csrf-token"]')?.content || '';
  const dialog = document.getElementById('shortcuts');
  const table = document.getElementById('queue');
  const rows = table ? [...table.querySelectorAll('tbody tr')] : [];
  const selectAll = document.getElementById('select-all');
  const selectedCount = document.getElementById('selected-count');
  const search = document.getElementById('search');
  // The cursor is remembered per list (the page's own URL), so it stays on its row
  // after a reload or a bulk action, which come back to the same URL.
  const cursorKey = `queue-cursor:${window.location.pathname}${window.location.search}`;
  let current = -1;

  const announcer = document.createElement('p');
  announcer.className = 'announce';
  announcer.setAttribute('role', 'status');
  announcer.setAttribute('aria-live', 'polite');
  document.querySelector('main')?.prepend(announcer);

  function announce(message, isError) {
    announcer.textContent = message;
    announcer.classList.toggle('error', Boolean(isError));
  }

  // --- undo: the last decision can be taken back while its toast shows ---------------
  const toast = document.getElementById('undo-toast');
  const toastForm = toast?.querySelector('form');
  let toastTimer = null;

  function hideToast() {
    if (!toast) return;
    toast.hidden = true;
    clearTimeout(toastTimer);
  }

  // The toast goes a moment before the server's window closes, so an Undo pressed at
  // the last instant still arrives in time.
  function showToast(offer) {
    if (!toast || !offer || offer.seconds <= 0.5) return;
    toast.querySelector('.toast-message').textContent = offer.message;
    toastForm.action = offer.url;
    toast.hidden = false;
    clearTimeout(toastTimer);
    toastTimer = setTimeout(hideToast, (offer.seconds - 0.5) * 1000);
  }

  async function post(url, fields) {
    const response = await fetch(url, {
      method: 'POST',
      credentials: 'same-origin',
      headers: { 'X-CSRFToken': csrf, Accept: 'application/json' },
      body: new URLSearchParams(fields),
    });
    let data = {};
    try { data = await response.json(); } catch (_) { /* not JSON: keep the generic message */ }
    return { ok: response.ok && Boolean(data.message), data, status: response.status };
  }

  async function undoLast() {
    if (!toast || toast.hidden) return;
    const url = toastForm.action;
    hideToast();
    const { ok, data, status } = await post(url, {});
    if (!ok) {
      announce(data.error?.message || `Could not undo (${status}).`, true);
      return;
    }
    if (!table) {
      // On a report page: back to the report the decision was about, in the same queue.
      const back = data.next_url ? data.next_url + window.location.search : window.location.href;
      window.location.assign(back);
      return;
    }
    const restored = data.reports || [];
    const onPage = restored.map((report) => rows.findIndex((row) => row.dataset.id === report.id));
    if (onPage.includes(-1)) {
      // A bulk action reloaded the page and its reports left the list: show them again.
      window.location.reload();
      return;
    }
    restored.forEach((report, i) => markRow(rows[onPage[i]], report.status, false));
    if (onPage.length) focusRow(onPage[0]);
    announce(data.message, false);
  }

  toastForm?.addEventListener('submit', (event) => {
    event.preventDefault();
    undoLast();
  });
  if (toast && !toast.hidden) {
    showToast({
      message: toast.querySelector('.toast-message').textContent,
      url: toastForm.action,
      seconds: Number(toast.dataset.seconds),
    });
  }

  // Shortcuts stay out of the way of anything that takes typing; a ticked checkbox
  // keeps the focus but takes no text, so the keys go on working after a click on one.
  const NOT_TYPED = ['checkbox', 'radio', 'button', 'submit', 'reset', 'file', 'image'];
  function isTyping(element) {
    if (!element) return false;
    if (element.tagName === 'INPUT') return !NOT_TYPED.includes(element.type);
    return element.isContentEditable || /^(TEXTAREA|SELECT)$/.test(element.tagName);
  }

  function focusRow(index) {
    if (!rows.length) return;
    current = Math.max(0, Math.min(rows.length - 1, index));
    rows.forEach((row, i) => {
      row.classList.toggle('current', i === current);
      row.setAttribute('aria-current', i === current ? 'true' : 'false');
    });
    rows[current].scrollIntoView({ block: 'nearest' });
    try {
      sessionStorage.setItem(cursorKey, JSON.stringify({ id: rows[current].dataset.id, index: current }));
    } catch (_) { /* storage off: the cursor starts at the top next time */ }
  }

  function savedCursor() {
    let saved = null;
    try { saved = JSON.parse(sessionStorage.getItem(cursorKey) || 'null'); } catch (_) { saved = null; }
    if (!saved) return 0;
    const same = rows.findIndex((row) => row.dataset.id === saved.id);
    // Its row has left the list (acted on): the row now in its place.
    return same >= 0 ? same : Math.min(Number(saved.index) || 0, rows.length - 1);
  }

  function updateSelection() {
    const boxes = rows.map((row) => row.querySelector('input[name="ids"]')).filter(Boolean);
    const picked = boxes.filter((box) => box.checked).length;
    if (selectedCount) {
      selectedCount.textContent = picked
        ? `${picked} selected` : 'Select reports with x or the boxes.';
      selectedCount.closest('.bulk-bar')?.classList.toggle('has-selection', picked > 0);
    }
    if (selectAll) selectAll.checked = picked > 0 && picked === boxes.filter((b) => !b.disabled).length;
  }

  async function postStatus(url, status) {
    const { ok, data, status: code } = await post(url, { status });
    const message = data.message || data.error?.message;
    return {
      ok,
      undo: data.undo,
      message: message || `Could not change the status (${code}).`,
    };
  }

  function markRow(row, status, done) {
    const badge = row.querySelector('.status .badge');
    if (badge) {
      badge.textContent = status;
      badge.className = `badge status-${status}`;
    }
    row.className = row.className.replace(/\bstatus-\S+/, `status-${status}`);
    row.classList.toggle('done', done);
  }

  async function assignToMe(url) {
    const { ok, data, status } = await post(url, { assignee: 'me' });
    announce(data.message || data.error?.message || `Could not assign the report (${status}).`, !ok);
    return ok;
  }

  async function assignRowToMe() {
    const row = rows[current];
    if (!row) return;
    if (row.dataset.triage !== 'yes') {
      announce('You may read this site’s reports but not change them.', true);
      return;
    }
    if (await assignToMe(row.dataset.assignUrl)) {
      const who = row.querySelector('.assignee .who');
      if (who) who.textContent = document.querySelector('.topbar .who')?.textContent || 'me';
    }
  }

  async function assignReportToMe() {
    const form = document.querySelector('form[action$="/assign"]');
    if (!form) {
      announce('You may read this report but not change it.', true);
      return;
    }
    if (await assignToMe(form.action)) window.location.reload();
  }

  async function triageRow(status) {
    const row = rows[current];
    if (!row) return;
    if (row.dataset.triage !== 'yes') {
      announce('You may read this site’s reports but not change them.', true);
      return;
    }
    // One request per row at a time; the next key already goes to the next row.
    if (row.dataset.busy) return;
    row.dataset.busy = 'yes';
    focusRow(current + 1);
    const result = await postStatus(row.dataset.statusUrl, status);
    delete row.dataset.busy;
    if (!result.ok) {
      announce(result.message, true);
      return;
    }
    // The toast says what was done, with its Undo.
    announce('', false);
    showToast(result.undo);
    markRow(row, status, true);
  }

  async function triageReport(status) {
    const button = document.querySelector(`#status-form button[data-status="${status}"]`);
    if (!button) {
      announce('That move is not possible from this report’s status.', true);
      return;
    }
    button.click();
  }

  function toggleSelected() {
    const box = rows[current]?.querySelector('input[name="ids"]');
    if (!box || box.disabled) return;
    box.checked = !box.checked;
    updateSelection();
  }

  document.addEventListener('keydown', (event) => {
    if (event.ctrlKey || event.metaKey || event.altKey || event.defaultPrevented) return;
    if (isTyping(event.target)) return;
    if (dialog?.open && event.key !== '?') return;
    const key = event.key;
    if (key === '/' && search) {
      search.focus();
      search.select();
    } else if (key === '?') {
      if (dialog?.open) dialog.close(); else dialog?.showModal();
    } else if (table && (key === 'j' || key === 'k')) {
      focusRow(current + (key === 'j' ? 1 : -1));
    } else if (table && (key === 'o' || (key === 'Enter' && !event.target.closest('a, button, summary')))) {
      if (rows[current]) window.location.assign(rows[current].dataset.url);
    } else if (KEY_STATUS[key]) {
      if (table) triageRow(KEY_STATUS[key]); else triageReport(KEY_STATUS[key]);
    } else if (key === 'z' && toast && !toast.hidden) {
      undoLast();
    } else if (table && key === 'x') {
      toggleSelected();
    } else if (key === 'm') {
      if (table) assignRowToMe();
      else if (document.body.classList.contains('report-page')) assignReportToMe();
    } else if (!table && key === 'u') {
      document.getElementById('back-to-queue')?.click();
    } else if (!table && (key === 'j' || key === 'k')) {
      // The next or previous report of the queue the editor came from.
      const link = document.getElementById(key === 'j' ? 'next-report' : 'previous-report');
      if (link) link.click(); else announce(key === 'j' ? 'This is the last report.' : 'This is the first report.', false);
    } else {
      return;
    }
    event.preventDefault();
  });

  rows.forEach((row, index) => {
    row.addEventListener('click', (event) => {
      if (!event.target.closest('a, input, button')) focusRow(index);
    });
    row.querySelector('input[name="ids"]')?.addEventListener('change', updateSelection);
  });
  selectAll?.addEventListener('change', () => {
    rows.forEach((row) => {
      const box = row.querySelector('input[name="ids"]');
      if (box && !box.disabled) box.checked = selectAll.checked;
    });
    updateSelection();
  });
  // Back from a report: the cursor on that report (its id in the URL's fragment);
  // else where it was on this page before.
  const fromReport = window.location.hash.match(/^#report-([\w-]+)$/);
  const backAt = fromReport ? rows.findIndex((row) => row.dataset.id === fromReport[1]) : -1;
  if (rows.length) focusRow(backAt >= 0 ? backAt : savedCursor());
})();
