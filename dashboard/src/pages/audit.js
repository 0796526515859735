// Who did what in this workspace (owners only), newest first, a page at a time
// (`GET /audit?limit=&cursor=`; the cursors seen are kept so Previous needs no backward paging).
import { html, useEffect, useState } from "../html.js";
import { api, problemText, query } from "../api.js";
import { when } from "../format.js";
import { Pager } from "../components/pager.js";

export const AUDIT_PAGE = 25;

function detailText(detail) {
  if (detail === null || detail === undefined || detail === "") return "";
  if (typeof detail !== "object") return String(detail);
  return Object.entries(detail).map(([k, v]) => `${k}: ${typeof v === "object" ? JSON.stringify(v) : v}`).join(", ");
}

export function AuditPage({ search }) {
  const limit = Number(search.get("limit")) || AUDIT_PAGE;
  const [cursors, setCursors] = useState([null]);
  const [page, setPage] = useState(0);
  const [body, setBody] = useState(null);
  const [error, setError] = useState(null);
  useEffect(() => {
    setBody(null);
    api.get(`/audit${query({ limit, cursor: cursors[page] })}`)
      .then((b) => { setBody(b); setError(null); }, (e) => setError(problemText(e)));
  }, [page]);
  const next = () => {
    if (!body || !body.next) return;
    setCursors([...cursors.slice(0, page + 1), body.next]);
    setPage(page + 1);
  };
  return html`
    <section>
      <h1>Audit</h1>
      <p class="help">Sign-ins, keys, users, stores, profiles and runs: who did what, and when.</p>
      ${error && html`<p class="error" role="alert">${error}</p>`}
      ${!body && !error && html`<p>Loading events…</p>`}
      ${body && body.events.length === 0 && page === 0 && html`<p>Nothing recorded yet.</p>`}
      ${body && body.events.length > 0 && html`
        <div class="table-scroll"><table class="stack-table audit">
          <caption class="sr-only">Events, newest first</caption>
          <thead><tr><th scope="col">When</th><th scope="col">Who</th><th scope="col">What</th>
            <th scope="col">On</th><th scope="col">Detail</th></tr></thead>
          <tbody>${body.events.map((e) => html`<tr>
            <td data-label="When">${when(e.at)}</td>
            <td data-label="Who">${e.actor}</td>
            <td data-label="What"><code>${e.action}</code></td>
            <td data-label="On" class="wrap">${e.target || ""}</td>
            <td data-label="Detail" class="wrap">${detailText(e.detail)}</td></tr>`)}
          </tbody>
        </table></div>`}
      ${body && html`<${Pager} label="Audit pages" page=${page} hasNext=${Boolean(body.next)}
        onPrevious=${() => setPage(page - 1)} onNext=${next} />`}
    </section>`;
}
