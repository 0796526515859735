// Placeholder: the page is built in its own change.
import { html } from "../html.js";

export function StoresPage() {
  return html`<section><h1>Stores</h1><p>This page is being built.</p></section>`;
}
