// Placeholder: the page is built in its own change.
import { html } from "../html.js";

export function EditorPage() {
  return html`<section><h1>Profile settings</h1><p>This page is being built.</p></section>`;
}
