// "Are you sure?" before an action the merchant cannot take back (remove a user, revoke a key,
// delete a profile, retry or revert a run): a modal dialog whose answer is shown in it, as an
// alert, when the API refuses. `onDone` gets what the action answered (a retry's new run).
import { html, useState } from "../html.js";
import { Dialog } from "./dialog.js";
import { problemText } from "../api.js";

export function ConfirmDialog({
  open, title, labelId, children, action, onDone, onClose,
  confirmText = title, keepText = "Keep it", danger = true,
}) {
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState(null);
  const confirm = async () => {
    setBusy(true);
    setError(null);
    let answer;
    try {
      answer = await action();
    } catch (e) {
      setError(problemText(e));
      setBusy(false);
      return;
    }
    setBusy(false);
    onDone(answer);
  };
  const close = () => { setError(null); onClose(); };
  return html`
    <${Dialog} open=${open} title=${title} labelId=${labelId} onClose=${close}>
      ${children}
      ${error && html`<p class="error" role="alert">${error}</p>`}
      <div class="actions">
        <button type="button" class=${danger ? "danger" : undefined} disabled=${busy} onClick=${confirm}>${confirmText}</button>
        <button type="button" class="secondary" onClick=${close}>${keepText}</button>
      </div>
    <//>`;
}
