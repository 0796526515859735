// The workspace's API keys (owners only): for scripts and the CLI. A new key's secret is shown
// once, here, with a copy button; the API keeps only its hash. Revoking ends it at once.
import { html, useEffect, useRef, useState } from "../html.js";
import { api, problemText } from "../api.js";
import { when } from "../format.js";
import { ConfirmDialog } from "../components/confirm.js";
import { RoleSelect } from "./users.js";

function NewKey({ created, onDismiss }) {
  const [copied, setCopied] = useState(null);
  const field = useRef(null);
  useEffect(() => { if (field.current) field.current.focus(); }, [created.id]);
  const copy = async () => {
    try {
      await navigator.clipboard.writeText(created.key);
      setCopied("Copied.");
    } catch {
      // No clipboard permission: the text is selected for Ctrl+C instead.
      field.current.select();
      setCopied("Selected: press Ctrl+C (or Cmd+C) to copy it.");
    }
  };
  return html`
    <div class="card new-key" role="region" aria-labelledby="new-key-title">
      <h2 id="new-key-title">Your new key "${created.name}"</h2>
      <p class="notice" id="new-key-warning"><strong>Copy it now: it will not be shown again.</strong>${" "}
        feedsync keeps only a fingerprint of it. If you lose it, revoke it and create another.</p>
      <label for="new-key-secret">API key (${created.role})</label>
      <input id="new-key-secret" ref=${field} readonly value=${created.key} aria-describedby="new-key-warning"
        onFocus=${(e) => e.target.select()} />
      <div class="actions">
        <button type="button" onClick=${copy}>Copy key</button>
        <button type="button" class="secondary" onClick=${onDismiss}>I have saved it</button>
      </div>
      <p class="help" role="status">${copied}</p>
    </div>`;
}

function CreateForm({ onCreated }) {
  const [name, setName] = useState("");
  const [role, setRole] = useState("editor");
  const [error, setError] = useState(null);
  const [busy, setBusy] = useState(false);
  const submit = async (event) => {
    event.preventDefault();
    setError(null);
    if (!name.trim()) {
      setError("Name the key after what will use it (e.g. \"nightly import script\").");
      return;
    }
    setBusy(true);
    try {
      onCreated(await api.send("POST", "/api-keys", { name: name.trim(), role }));
      setName("");
    } catch (e) {
      setError(problemText(e));
    } finally {
      setBusy(false);
    }
  };
  return html`
    <form class="card" onSubmit=${submit} novalidate>
      <h2>Create a key</h2>
      <div class="row">
        <div>
          <label for="key-name">Name</label>
          <input id="key-name" value=${name} onInput=${(e) => setName(e.target.value)}
            aria-describedby=${error ? "key-error" : undefined} aria-invalid=${error ? "true" : undefined} />
        </div>
        <div><${RoleSelect} id="key-role" value=${role} onChange=${setRole} /></div>
      </div>
      ${error && html`<p id="key-error" class="error" role="alert">${error}</p>`}
      <div class="actions"><button type="submit" disabled=${busy}>${busy ? "Creating…" : "Create key"}</button></div>
    </form>`;
}

export function ApiKeysPage() {
  const [keys, setKeys] = useState(null);
  const [error, setError] = useState(null);
  const [created, setCreated] = useState(null);
  const [revoking, setRevoking] = useState(null);
  const load = () => api.get("/api-keys").then((b) => { setKeys(b.api_keys); setError(null); }, (e) => setError(problemText(e)));
  useEffect(() => { load(); }, []);
  return html`
    <section>
      <h1>API keys</h1>
      <p class="help">Keys let scripts and the feedsync CLI use this workspace. Each has a role, like a person.</p>
      ${created && html`<${NewKey} created=${created} onDismiss=${() => setCreated(null)} />`}
      ${error && html`<p class="error" role="alert">${error}</p>`}
      ${!keys && !error && html`<p>Loading keys…</p>`}
      ${keys && keys.length === 0 && html`<p>No keys yet.</p>`}
      ${keys && keys.length > 0 && html`
        <div class="table-scroll"><table class="stack-table">
          <caption class="sr-only">API keys of this workspace</caption>
          <thead><tr><th scope="col">Name</th><th scope="col">Role</th><th scope="col">Created</th>
            <th scope="col">Created by</th><th scope="col">Last used</th><th scope="col">Actions</th></tr></thead>
          <tbody>${keys.map((k) => html`<tr data-key-id=${k.id}>
            <td data-label="Name">${k.name}</td><td data-label="Role">${k.role}</td>
            <td data-label="Created">${when(k.created_at)}</td><td data-label="Created by">${k.created_by || "—"}</td>
            <td data-label="Last used">${k.last_used_at ? when(k.last_used_at) : "Never"}</td>
            <td data-label="Actions"><button type="button" class="danger" onClick=${() => setRevoking(k)}
              aria-label=${`Revoke ${k.name}`}>Revoke</button></td></tr>`)}
          </tbody>
        </table></div>`}
      <${CreateForm} onCreated=${(key) => { setCreated(key); load(); }} />
      <${ConfirmDialog} open=${revoking !== null} title="Revoke key" labelId="revoke-key-title"
        action=${() => api.send("DELETE", `/api-keys/${encodeURIComponent(revoking.id)}`)}
        onDone=${() => { setRevoking(null); load(); }} onClose=${() => setRevoking(null)}>
        ${revoking && html`<p>Revoke <strong>${revoking.name}</strong>? Anything using it is refused from now on.</p>`}
      <//>
    </section>`;
}
