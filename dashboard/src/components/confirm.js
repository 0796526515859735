// "Are you sure?" for actions that cannot be undone (remove a user, revoke a key): a modal
// dialog whose answer is shown in it when the API refuses.
import { html, useState } from "../html.js";
import { Dialog } from "./dialog.js";
import { problemText } from "../api.js";

export function ConfirmDialog({ open, title, labelId, children, action, onDone, onClose }) {
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState(null);
  const confirm = async () => {
    setBusy(true);
    setError(null);
    try {
      await action();
      onDone();
    } catch (e) {
      setError(problemText(e));
    } finally {
      setBusy(false);
    }
  };
  const close = () => { setError(null); onClose(); };
  return html`
    <${Dialog} open=${open} title=${title} labelId=${labelId} onClose=${close}>
      ${children}
      ${error && html`<p class="error" role="alert">${error}</p>`}
      <div class="actions">
        <button type="button" class="danger" disabled=${busy} onClick=${confirm}>${title}</button>
        <button type="button" class="secondary" onClick=${close}>Keep it</button>
      </div>
    <//>`;
}
