// Placeholder: the page is built in its own change.
import { html } from "../html.js";

export function RunPage() {
  return html`<section><h1>Run</h1><p>This page is being built.</p></section>`;
}
