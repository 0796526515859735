// Sign in with the tenant's API key. The key is checked with one API call and kept in this
// browser session only; the form never submits (no key in a URL or a server log).
import { html, useState } from "../html.js";
import { api, ApiError, signIn } from "../api.js";

export function SignIn({ onSignedIn }) {
  const [key, setKey] = useState("");
  const [error, setError] = useState(null);
  const [busy, setBusy] = useState(false);

  async function submit(event) {
    event.preventDefault();
    setError(null);
    const trimmed = key.trim();
    if (!trimmed) {
      setError("Enter your API key.");
      return;
    }
    setBusy(true);
    try {
      await api.get("/plan", { key: trimmed });
      signIn(trimmed);
      onSignedIn();
    } catch (err) {
      setError(err instanceof ApiError && err.status === 401
        ? "That API key was not accepted. Check it and try again."
        : `Could not reach feedsync: ${err.message}`);
    } finally {
      setBusy(false);
    }
  }

  return html`
    <section class="signin">
      <h1>Sign in to feedsync</h1>
      <form onSubmit=${submit} novalidate>
        <label for="api-key">API key</label>
        <input id="api-key" name="api-key" type="password" autocomplete="current-password"
          value=${key} onInput=${(e) => setKey(e.target.value)}
          aria-describedby=${error ? "signin-error" : "api-key-help"} aria-invalid=${error ? "true" : undefined} />
        <p id="api-key-help" class="help">Your key stays in this browser tab until you sign out or close it.</p>
        ${error && html`<p id="signin-error" class="error" role="alert">${error}</p>`}
        <button type="submit" disabled=${busy}>${busy ? "Signing in…" : "Sign in"}</button>
      </form>
    </section>
  `;
}
