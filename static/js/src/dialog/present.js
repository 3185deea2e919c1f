// Showing the dialog fast on big pages. showModal() makes the rest of the page inert, and
// Chromium pays for that with a style pass over the whole document: 0.3 s and more on a
// 1 MB news page, most of the time from Ctrl+Enter to the dialog. So the dialog is shown
// non-modally, above a backdrop of its own that takes the page's clicks; it keeps
// aria-modal, its focus trap and Escape, and sits above any z-index the page can set
// (same z-index, later in the document: the host is the last child of <html>).
const CSS = `dialog[open]{position:fixed;inset:0;margin:auto;z-index:2147483647;box-sizing:border-box;
max-width:calc(100% - 2em);max-height:calc(100% - 2em);overflow:auto}
.backdrop{position:fixed;inset:0;z-index:2147483646;background:rgba(0,0,0,.35)}
.backdrop[hidden]{display:none}`;

let escape;

/** Show `dialog` (in its shadow root) as a modal one; Escape closes it. */
export function present(dialog) {
  let backdrop = dialog.previousElementSibling;
  if (!backdrop || backdrop.className != 'backdrop') {
    const root = dialog.parentNode;
    const style = document.createElement('style');
    style.textContent = CSS;
    // First, so that the dialog's own styles may override these.
    root.insertBefore(style, root.firstChild);
    backdrop = document.createElement('div');
    backdrop.className = 'backdrop';
    root.insertBefore(backdrop, dialog);
    // Escape closes it wherever the focus is, as for a modal dialog (a disabled button
    // that had the focus leaves it on the page's body).
    escape = (e) => {
      if (e.key == 'Escape' && dialog.open) {
        e.preventDefault();
        e.stopPropagation();
        dialog.close();
      }
    };
    dialog.addEventListener('close', () => {
      backdrop.hidden = true;
      removeEventListener('keydown', escape, true);
    });
  }
  backdrop.hidden = false;
  addEventListener('keydown', escape, true);
  dialog.show();
}
