// Placeholder: the page is built in its own change.
import { html } from "../html.js";

export function ProfilesPage() {
  return html`<section><h1>Profiles</h1><p>This page is being built.</p></section>`;
}
