// A profile's runs, newest first, a page at a time (?limit=&cursor=; the cursors seen are
// kept so Previous needs no backward paging from the API).
import { html, useEffect, useState } from "../html.js";
import { api, query } from "../api.js";
import { count, duration, when } from "../format.js";
import { statusLabel } from "../components/status.js";
import { Pager } from "../components/pager.js";

export const HISTORY_PAGE = 20;

function took(run) {
  if (!run.started_at || !run.finished_at) return "";
  return duration((new Date(run.finished_at) - new Date(run.started_at)) / 1000);
}

function countsText(counts) {
  const parts = [["updated", "updated"], ["failed", "failed"], ["not_found", "not found"], ["row_errors", "row errors"]]
    .filter(([key]) => counts[key])
    .map(([key, label]) => `${count(counts[key])} ${label}`);
  return parts.length ? parts.join(", ") : "no changes";
}

export function HistoryPage({ params, search }) {
  const profileId = params.profile_id;
  const limit = Number(search.get("limit")) || HISTORY_PAGE;
  const [profile, setProfile] = useState(null);
  const [cursors, setCursors] = useState([null]);
  const [page, setPage] = useState(0);
  const [body, setBody] = useState(null);
  const [error, setError] = useState(null);
  useEffect(() => {
    api.get(`/profiles/${profileId}`).then(setProfile, () => {});
  }, [profileId]);
  useEffect(() => {
    setBody(null);
    api.get(`/profiles/${profileId}/runs${query({ limit, cursor: cursors[page] })}`)
      .then((b) => { setBody(b); setError(null); }, (e) => setError(e.message));
  }, [profileId, page]);
  const next = () => {
    if (!body || !body.next) return;
    setCursors([...cursors.slice(0, page + 1), body.next]);
    setPage(page + 1);
  };
  return html`
    <section>
      <p><a href="#/">Back to your profiles</a></p>
      <h1>History${profile ? ` of ${profile.name}` : ""}</h1>
      ${error && html`<p class="error" role="alert">${error}</p>`}
      ${!body && !error && html`<p>Loading runs…</p>`}
      ${body && body.runs.length === 0 && page === 0 && html`<p>No runs yet. Start one from <a href="#/">your profiles</a>.</p>`}
      ${body && body.runs.length > 0 && html`
        <div class="table-scroll"><table class="stack-table">
          <caption class="sr-only">Runs, newest first</caption>
          <thead><tr><th scope="col">Started</th><th scope="col">Status</th><th scope="col">Trigger</th>
            <th scope="col">Duration</th><th scope="col">Result</th></tr></thead>
          <tbody>${body.runs.map((run) => html`<tr>
            <td data-label="Started"><a href=${`#/runs/${run.run_id}`}>${when(run.started_at || run.created_at)}</a></td>
            <td data-label="Status" class=${`status-text status-${run.status}`}>${statusLabel(run.status)}</td>
            <td data-label="Trigger">${run.trigger}</td><td data-label="Duration">${took(run)}</td>
            <td data-label="Result">${countsText(run.counts || {})}</td></tr>`)}
          </tbody>
        </table></div>`}
      ${body && html`<${Pager} label="History pages" page=${page} hasNext=${Boolean(body.next)}
        onPrevious=${() => setPage(page - 1)} onNext=${next} />`}
    </section>`;
}
