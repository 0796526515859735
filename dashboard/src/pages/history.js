// Placeholder: the page is built in its own change.
import { html } from "../html.js";

export function HistoryPage() {
  return html`<section><h1>Run history</h1><p>This page is being built.</p></section>`;
}
