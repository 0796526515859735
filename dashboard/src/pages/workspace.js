// A signed-in user who belongs to no tenant yet names their workspace: `POST /tenants` makes
// it, on the default plan, with them as its owner.
import { html, useState } from "../html.js";
import { api, ApiError } from "../api.js";

export function WorkspacePage({ me, onCreated, onSignOut }) {
  const [name, setName] = useState("");
  const [error, setError] = useState(null);
  const [busy, setBusy] = useState(false);
  const submit = async (event) => {
    event.preventDefault();
    setError(null);
    if (!name.trim()) {
      setError("Name your workspace (your shop's name will do).");
      return;
    }
    setBusy(true);
    try {
      await api.send("POST", "/tenants", { name: name.trim() });
      onCreated();
    } catch (e) {
      // Already a member (another tab made it): go on to that workspace.
      if (e instanceof ApiError && e.status === 409) onCreated();
      else setError(e.message);
    } finally {
      setBusy(false);
    }
  };
  return html`
    <section class="signin">
      <h1>Create your workspace</h1>
      <p>Signed in as ${me.email || me.actor}. A workspace holds your stores, profiles and team; you will be its owner.</p>
      <form onSubmit=${submit} novalidate>
        <label for="workspace-name">Workspace name</label>
        <input id="workspace-name" value=${name} onInput=${(e) => setName(e.target.value)} autocomplete="organization"
          aria-describedby=${error ? "workspace-error" : undefined} aria-invalid=${error ? "true" : undefined} />
        ${error && html`<p id="workspace-error" class="error" role="alert">${error}</p>`}
        <button type="submit" disabled=${busy}>${busy ? "Creating…" : "Create workspace"}</button>
      </form>
      <ul class="signin-links"><li><button type="button" class="link" onClick=${onSignOut}>Sign out</button></li></ul>
    </section>`;
}
