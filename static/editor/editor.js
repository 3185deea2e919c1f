// Keyboard triage for the queue and the report page. Loaded as a file, never inline,
// so the pages keep a Content Security Policy without 'unsafe-inline' scripts.
(() => {
  'use strict';
  const KEY_STATUS = { a: 'accepted', r: 'rejected', s: 'spam' };
  const csrf = document.querySelector('meta[name="csrf-token"]')?.content || '';
  const dialog = document.getElementById('shortcuts');
  const table = document.getElementById('queue');
  const rows = table ? [...table.querySelectorAll('tbody tr')] : [];
  const selectAll = document.getElementById('select-all');
  const selectedCount = document.getElementById('selected-count');
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
  }

  function updateSelection() {
    const boxes = rows.map((row) => row.querySelector('input[name="ids"]')).filter(Boolean);
    const picked = boxes.filter((box) => box.checked).length;
    if (selectedCount) {
      selectedCount.textContent = picked
        ? `${picked} selected` : 'Select reports with x or the boxes.';
    }
    if (selectAll) selectAll.checked = picked > 0 && picked === boxes.filter((b) => !b.disabled).length;
  }

  async function postStatus(url, status) {
    const response = await fetch(url, {
      method: 'POST',
      credentials: 'same-origin',
      headers: { 'X-CSRFToken': csrf, Accept: 'application/json' },
      body: new URLSearchParams({ status }),
    });
    let data = {};
    try { data = await response.json(); } catch (_) { /* not JSON: keep the generic message */ }
    const message = data.message || data.error?.message;
    return {
      ok: response.ok && Boolean(data.message),
      message: message || `Could not change the status (${response.status}).`,
    };
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
    announce(result.message, !result.ok);
    if (!result.ok) return;
    const badge = row.querySelector('.status .badge');
    if (badge) {
      badge.textContent = status;
      badge.className = `badge status-${status}`;
    }
    row.className = row.className.replace(/\bstatus-\S+/, `status-${status}`);
    row.classList.add('done');
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
    if (key === '?') {
      if (dialog?.open) dialog.close(); else dialog?.showModal();
    } else if (table && (key === 'j' || key === 'k')) {
      focusRow(current + (key === 'j' ? 1 : -1));
    } else if (table && (key === 'o' || (key === 'Enter' && !event.target.closest('a, button')))) {
      if (rows[current]) window.location.assign(rows[current].dataset.url);
    } else if (KEY_STATUS[key]) {
      if (table) triageRow(KEY_STATUS[key]); else triageReport(KEY_STATUS[key]);
    } else if (table && key === 'x') {
      toggleSelected();
    } else if (!table && key === 'u') {
      document.getElementById('back-to-queue')?.click();
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
  if (rows.length) focusRow(0);
})();
