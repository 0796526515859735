// Previous / Next over an API's cursor pages: the cursors seen so far are kept, so Previous
// goes back without the API paging backwards.
import { html } from "../html.js";

export function Pager({ page, hasNext, onPrevious, onNext, label = "Pages" }) {
  return html`
    <nav class="pager" aria-label=${label}>
      <button type="button" class="secondary" disabled=${page === 0} onClick=${onPrevious}>Previous</button>
      <span>Page ${page + 1}</span>
      <button type="button" class="secondary" disabled=${!hasNext} onClick=${onNext}>Next</button>
    </nav>`;
}
