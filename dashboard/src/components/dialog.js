// A modal <dialog>: focus moves into it when it opens and back to what opened it when it
// closes (Escape closes it, as the browser's own dialog does).
import { html, useEffect, useRef } from "../html.js";

export function Dialog({ open, title, onClose, children, labelId }) {
  const ref = useRef(null);
  const opener = useRef(null);
  useEffect(() => {
    const dialog = ref.current;
    if (!dialog) return;
    if (open && !dialog.open) {
      opener.current = document.activeElement;
      dialog.showModal();
      const first = dialog.querySelector("input:checked, input, select, textarea, button");
      if (first) first.focus();
    } else if (!open && dialog.open) {
      dialog.close();
    }
  }, [open]);
  useEffect(() => {
    const dialog = ref.current;
    const closed = () => {
      // Back to what opened it, unless the page has already moved focus on (e.g. to the run
      // a Start began) or what opened it has gone or been disabled meanwhile.
      const lost = !document.activeElement || document.activeElement === document.body || dialog.contains(document.activeElement);
      if (lost && opener.current && document.contains(opener.current) && !opener.current.disabled) opener.current.focus();
      onClose();
    };
    dialog.addEventListener("close", closed);
    return () => dialog.removeEventListener("close", closed);
  }, [onClose]);
  return html`
    <dialog ref=${ref} aria-labelledby=${labelId}>
      <h2 id=${labelId}>${title}</h2>
      ${open ? children : null}
    </dialog>`;
}
