// One run: its phases as they happen, progress with an ETA, the summary, the per-row log
// (filtered by status at the API, searched by SKU here), CSV download, Cancel, for a
// previewed or held run its changes with Apply, and for a finished one Retry and Revert
// (each a new run, whose page links back to this one).
import { html, useCallback, useEffect, useRef, useState } from "../html.js";
import { ApiError, api, query } from "../api.js";
import { count, duration, when } from "../format.js";
import { PHASES, ProgressBar, isActive, needsReview, statusLabel } from "../components/status.js";
import { Dialog } from "../components/dialog.js";
import { Pager } from "../components/pager.js";
import { usePolling } from "../components/polling.js";
import { saveResponse } from "../components/csv.js";
import { WriteGate } from "../components/gate.js";
import { ConfirmDialog } from "../components/confirm.js";
import { navigate } from "../router.js";

const POLL_MS = 2000;
const LOG_PAGE = 50;
const SEARCH_DELAY_MS = 300; // a search is sent once typing pauses
const SUMMARY = [
  ["updated", "Updated"],
  ["failed", "Failed"],
  ["not_found", "Not found"],
  ["duplicates", "Duplicates"],
  ["gone", "Gone from the store"],
  ["row_errors", "Row errors"],
  ["unchanged", "Unchanged"],
  ["rows", "Rows in the file"],
];
// Runs that send stored changes rather than read a file (their log is written all the same).
const FROM_CHANGES = ["retry", "revert", "reapply"];
const LOG_STATUSES = [
  ["", "All rows"],
  ["failed", "Failed"],
  ["row_error", "Row errors"],
  ["updated", "Updated"],
  ["not_found", "Not found"],
  ["duplicate", "Duplicates"],
  ["unchanged", "Unchanged"],
  ["gone", "Gone"],
  ["stale", "Changed in the store"],
  ["not_applied", "Not sent"],
];

// Seconds left from the progress seen so far on this page (items per second since the
// first sample with a known total); null until there are two samples.
export function estimateSecondsLeft(samples) {
  if (samples.length < 2) return null;
  const first = samples[0];
  const last = samples[samples.length - 1];
  const rate = (last.done - first.done) / ((last.at - first.at) / 1000);
  if (!(rate > 0)) return null;
  return (last.total - last.done) / rate;
}

function Phases({ run }) {
  const at = PHASES.findIndex(([name]) => name === run.status);
  const finished = at === -1;
  const finalClass = run.status === "failed" || run.status === "cancelled" ? "failed" : "done";
  return html`
    <ol class="phases" aria-label="Phases">
      ${PHASES.map(([name, label], i) => {
        // A run waiting for review has sent nothing: its Updating phase is still to come.
        const done = finished ? !(name === "updating" && needsReview(run.status)) : i < at;
        const current = i === at;
        return html`<li class=${done ? "done" : ""} aria-current=${current ? "step" : undefined}>
          ${label}<span class="sr-only">${done ? " (done)" : current ? " (now)" : " (to come)"}</span></li>`;
      })}
      <li class=${finished ? finalClass : ""} aria-current=${finished ? "step" : undefined}>
        ${finished ? statusLabel(run.status) : "Done"}</li>
    </ol>`;
}

// A run that sent stored changes read no file: its "rows in the file" (0) is not shown.
function Summary({ counts, fromChanges }) {
  return html`
    <dl class="summary">
      ${SUMMARY.filter(([key]) => key in counts && !(fromChanges && key === "rows")).map(([key, label]) => html`
        <div><dt>${label}</dt><dd>${count(counts[key])}</dd></div>`)}
    </dl>`;
}

function ChangesCell({ text }) {
  if (!text) return "";
  return html`<ul class="change-list">${text.split("; ").map((part) => html`<li>${part}</li>`)}</ul>`;
}

// What the table holds: the count when one page holds them all, else which rows.
function rangeText(page, shown, more) {
  if (shown === 0) return page === 0 ? "No rows match." : "No more rows.";
  if (page === 0 && !more) return `${count(shown)} ${shown === 1 ? "row" : "rows"}`;
  const first = page * LOG_PAGE + 1;
  return `Rows ${count(first)}–${count(first + shown - 1)}${more ? "" : " (the last)"}`;
}

// The log is paged, filtered and searched by the API (a run can log a million rows: never
// loaded whole into the page); Previous goes back through the cursors already seen.
function RunLog({ run }) {
  const [status, setStatus] = useState("");
  const [sku, setSku] = useState("");
  const [search, setSearch] = useState("");
  const [lines, setLines] = useState(null);
  const [next, setNext] = useState(null);
  const [cursors, setCursors] = useState([null]); // the cursor of each page seen so far
  const [error, setError] = useState(null);
  const [saving, setSaving] = useState(null);
  // A run that stopped before reading its file has no log: not asked for (the API's 404).
  // A retry, revert or reapply reads no file: its log is that of the changes it sent.
  const readRows = (run.counts && run.counts.rows > 0) || FROM_CHANGES.includes(run.trigger);
  useEffect(() => {
    const timer = setTimeout(() => setSearch(sku.trim()), SEARCH_DELAY_MS);
    return () => clearTimeout(timer);
  }, [sku]);
  useEffect(() => setCursors([null]), [status, search]);
  const page = cursors.length - 1;
  useEffect(() => {
    if (!readRows) return undefined;
    let current = true;
    setError(null);
    const asked = { format: "json", limit: LOG_PAGE, status, q: search, cursor: cursors[page] };
    api.get(`/runs/${run.run_id}/log${query(asked)}`)
      .then((body) => { if (current) { setLines(body.lines); setNext(body.next); } })
      .catch((e) => current && setError(e.message));
    return () => { current = false; };
  }, [run.run_id, status, search, cursors, readRows]);
  if (!readRows) {
    return html`
      <section aria-labelledby="log-title">
        <h2 id="log-title">Log</h2>
        <p>This run read no rows from the file, so it has no log.</p>
      </section>`;
  }
  const download = async () => {
    setSaving("Preparing the file…");
    try {
      await saveResponse(await api.download(`/runs/${run.run_id}/log${query({ status })}`), `${run.run_id}.csv`);
      setSaving("Downloaded.");
    } catch (e) {
      setSaving(e.message);
    }
  };
  const shown = lines ? lines.length : 0;
  return html`
    <section aria-labelledby="log-title">
      <h2 id="log-title">Log</h2>
      <div class="filters">
        <div>
          <label for="log-status">Show</label>
          <select id="log-status" value=${status} onChange=${(e) => setStatus(e.target.value)}>
            ${LOG_STATUSES.map(([value, label]) => html`<option value=${value}>${label}</option>`)}
          </select>
        </div>
        <div>
          <label for="log-sku">Search by SKU</label>
          <input id="log-sku" type="search" value=${sku} onInput=${(e) => setSku(e.target.value)} />
        </div>
        <div>
          <button type="button" class="secondary" onClick=${download}>Download CSV</button>
          <p class="help" aria-live="polite">${saving}</p>
        </div>
      </div>
      ${error && html`<p class="error" role="alert">${error}</p>`}
      ${lines === null && !error ? html`<p>Loading the log…</p>` : null}
      ${lines !== null && html`
        <p class="help" aria-live="polite">${rangeText(page, shown, Boolean(next))}</p>
        ${shown > 0 && html`
          <div class="table-scroll">
            <table class="stack-table">
              <caption class="sr-only">The run's rows</caption>
              <thead><tr><th scope="col">Row</th><th scope="col">SKU</th><th scope="col">Status</th>
                <th scope="col">Old -> new</th><th scope="col">Error</th></tr></thead>
              <tbody>
                ${lines.map((line) => html`<tr>
                  <td data-label="Row">${line.row}</td><td data-label="SKU">${line.key}</td>
                  <td data-label="Status">${(line.status || "").replace("_", " ")}</td>
                  <td data-label="Old -> new"><${ChangesCell} text=${line.changes} /></td>
                  <td data-label="Error">${line.error}</td></tr>`)}
              </tbody>
            </table>
          </div>`}
        ${(page > 0 || next) && html`<${Pager} label="Log pages" page=${page} hasNext=${Boolean(next)}
          onPrevious=${() => setCursors(cursors.slice(0, -1))} onNext=${() => setCursors([...cursors, next])} />`}`}
    </section>`;
}

function Review({ run, onApplied }) {
  const [changes, setChanges] = useState(null);
  const [error, setError] = useState(null);
  const [busy, setBusy] = useState(false);
  useEffect(() => {
    api.get(`/runs/${run.run_id}/changes${query({ status: "pending", limit: 50 })}`)
      .then((body) => setChanges(body), (e) => setError(e.message));
  }, [run.run_id, run.status]);
  const pending = (run.change_counts && run.change_counts.status && run.change_counts.status.pending) || 0;
  const apply = async () => {
    setBusy(true);
    setError(null);
    try {
      await api.send("POST", `/runs/${run.run_id}/apply`, {});
      onApplied();
    } catch (e) {
      setError(e instanceof ApiError ? e.message : String(e));
    }
    setBusy(false);
  };
  return html`
    <section aria-labelledby="review-title">
      <h2 id="review-title">Waiting for your review</h2>
      ${run.held_reasons && run.held_reasons.length > 0 && html`
        <p class="notice">Held because it breaks a safety limit: ${run.held_reasons.map((r) => r.rule.replaceAll("_", " ")).join(", ")}.</p>`}
      <p>${count(pending)} ${pending === 1 ? "change is" : "changes are"} waiting. Nothing was sent to the store yet.
        ${run.plan_expires_at && ` They can be applied until ${when(run.plan_expires_at)}.`}</p>
      ${changes && changes.changes.length > 0 && html`
        <div class="table-scroll"><table class="stack-table">
          <caption class="sr-only">Changes waiting (first 50)</caption>
          <thead><tr><th scope="col">Row</th><th scope="col">SKU</th><th scope="col">Field</th>
            <th scope="col">Store now</th><th scope="col">New value</th></tr></thead>
          <tbody>${changes.changes.map((c) => html`<tr><td data-label="Row">${c.row}</td><td data-label="SKU">${c.key}</td>
            <td data-label="Field">${c.field}</td><td data-label="Store now">${String(c.store_value ?? "(empty)")}</td>
            <td data-label="New value">${String(c.new_value ?? "(empty)")}</td></tr>`)}</tbody>
        </table></div>`}
      ${error && html`<p class="error" role="alert">${error}</p>`}
      <${WriteGate} what="Applying changes">
        <div class="actions"><button type="button" disabled=${busy || pending === 0} onClick=${apply}>Apply all changes</button></div>
      <//>
    </section>`;
}

function changeCount(run, status) {
  return (run.change_counts && run.change_counts.status && run.change_counts.status[status]) || 0;
}

// Which of Retry and Revert the API would take for this run, read from the run itself (as
// core/review.py decides): a finished run (not active, not waiting for review); Retry while
// it has failed changes and its plan is kept, Revert while it updated values, is not itself
// a revert and its before-image is kept. `expired` names what is offered no more, and why.
export function undoOffers(run, now = Date.now()) {
  const none = { retry: 0, revert: 0, expired: [] };
  if (isActive(run.status) || needsReview(run.status)) return none;
  const failed = changeCount(run, "failed");
  const updated = run.trigger === "revert" ? 0 : changeCount(run, "updated");
  const planKept = now < Date.parse(run.plan_expires_at);
  const imageKept = now < Date.parse(run.before_image_expires_at);
  const expired = [];
  if (failed > 0 && !planKept) expired.push("Its failed changes can no longer be retried: a run's plan is kept 7 days.");
  if (updated > 0 && !imageKept) expired.push("It can no longer be reverted: what a run replaced is kept 30 days.");
  return { retry: planKept ? failed : 0, revert: imageKept ? updated : 0, expired };
}

function plural(n, one, many) {
  return `${count(n)} ${n === 1 ? one : many}`;
}

// The run a retry or revert started from.
function ParentLink({ run }) {
  if (!run.parent_run_id) return null;
  const link = html`<a href=${`#/runs/${run.parent_run_id}`}>run ${run.parent_run_id}</a>`;
  const words = run.trigger === "revert" ? html`This run puts back what ${link} replaced.`
    : run.trigger === "retry" ? html`This run sends again the failed changes of ${link}.`
      : html`Started from ${link}.`;
  return html`<p class="parent-run">${words}</p>`;
}

// Retry and Revert: each asks first, then starts a new run and opens its page.
function UndoActions({ run }) {
  const [asking, setAsking] = useState(null); // "retry" | "revert" | null
  const offers = undoOffers(run);
  if (!offers.retry && !offers.revert && offers.expired.length === 0) return null;
  const opened = (started) => navigate(`/runs/${started.run_id}`);
  const base = `/runs/${encodeURIComponent(run.run_id)}`;
  return html`
    <section aria-labelledby="undo-title" class="undo">
      <h2 id="undo-title">Retry or revert</h2>
      ${offers.expired.map((words) => html`<p class="help">${words}</p>`)}
      ${(offers.retry > 0 || offers.revert > 0) && html`<p class="help">${[
        offers.retry > 0 && `Retry sends the ${plural(offers.retry, "failed change", "failed changes")} again`,
        offers.revert > 0 && `Revert puts back the ${plural(offers.revert, "value", "values")} this run replaced`,
      ].filter(Boolean).join("; ")}.</p>`}
      ${(offers.retry > 0 || offers.revert > 0) && html`
        <${WriteGate} what="Retrying or reverting a run">
          <div class="actions">
            ${offers.retry > 0 && html`<button type="button" onClick=${() => setAsking("retry")}>Retry failed changes</button>`}
            ${offers.revert > 0 && html`<button type="button" class="secondary" onClick=${() => setAsking("revert")}>Revert this run</button>`}
          </div>
        <//>`}
      <${ConfirmDialog} open=${asking === "retry"} title="Retry failed changes" labelId="retry-title" danger=${false}
        confirmText="Retry failed changes" keepText="Not now"
        action=${() => api.send("POST", `${base}/retry`, { only: "failed" })} onDone=${opened} onClose=${() => setAsking(null)}>
        <p>A new run sends the ${plural(offers.retry, "change", "changes")} that failed in this run again, with the values
          this run meant to write. Each is checked against the store as it is now: a value changed in the store since is
          left as it is.</p>
      <//>
      <${ConfirmDialog} open=${asking === "revert"} title="Revert this run" labelId="revert-title"
        confirmText="Revert this run" keepText="Keep its changes"
        action=${() => api.send("POST", `${base}/revert`)} onDone=${opened} onClose=${() => setAsking(null)}>
        <p>A new run puts back the ${plural(offers.revert, "value", "values")} this run replaced, where the store still
          holds what this run wrote. A value changed in the store since is left as it is, and descriptions are not put back.</p>
      <//>
    </section>`;
}

export function RunPage({ params }) {
  const runId = params.run_id;
  const [run, setRun] = useState(null);
  const [error, setError] = useState(null);
  const [confirmCancel, setConfirmCancel] = useState(false);
  const [cancelError, setCancelError] = useState(null);
  const samples = useRef([]);
  const load = useCallback(async () => {
    try {
      const body = await api.get(`/runs/${runId}`);
      setRun(body);
      setError(null);
      const { progress } = body;
      if (body.status === "updating" && progress.percent !== null && progress.total > 0) {
        samples.current = [...samples.current, { at: Date.now(), done: progress.done, total: progress.total }].slice(-20);
      }
      return body;
    } catch (e) {
      setError(e.message);
      return null;
    }
  }, [runId]);
  const refresh = usePolling(load, (body) => (body && !isActive(body.status) ? 3600000 : POLL_MS), [runId]);

  const cancel = async () => {
    setCancelError(null);
    try {
      await api.send("POST", `/runs/${runId}/cancel`);
      setConfirmCancel(false);
      refresh();
    } catch (e) {
      setCancelError(e.message);
    }
  };

  if (!run) {
    return html`<section><h1>Run</h1>${error ? html`<p class="error" role="alert">${error}</p>` : html`<p>Loading the run…</p>`}</section>`;
  }
  const active = isActive(run.status);
  const left = active ? estimateSecondsLeft(samples.current) : null;
  const eta = left !== null ? `about ${duration(left)} left` : null;
  const took = run.started_at && run.finished_at ? (new Date(run.finished_at) - new Date(run.started_at)) / 1000 : null;
  return html`
    <section>
      <p><a href=${`#/profiles/${run.profile_id}/runs`}>History of this profile</a></p>
      <h1>Run ${run.run_id}</h1>
      <p class="help">${run.trigger} · ${run.mode} · started ${when(run.started_at || run.created_at)}
        ${took !== null ? ` · took ${duration(took)}` : ""}</p>
      <${ParentLink} run=${run} />
      <div aria-live="polite">
        <p class=${`status-text status-${run.status}`}>Status: ${statusLabel(run.status)}${run.cancel_requested_at && active ? " (cancelling)" : ""}</p>
        <${Phases} run=${run} />
        ${active && html`<${ProgressBar} progress=${run.progress} label="Run progress" eta=${eta} />`}
      </div>
      ${run.error && html`<p class="error">Error: ${run.error}</p>`}
      ${run.reason && html`<p class="notice">${run.reason}</p>`}
      ${active && !run.cancel_requested_at && html`
        <${WriteGate} what="Cancelling a run">
          <div class="actions"><button type="button" class="danger" onClick=${() => setConfirmCancel(true)}>Cancel run</button></div>
        <//>`}
      <h2>Summary</h2>
      <${Summary} counts=${run.counts || {}} fromChanges=${FROM_CHANGES.includes(run.trigger)} />
      ${needsReview(run.status) && html`<${Review} run=${run} onApplied=${refresh} />`}
      <${UndoActions} run=${run} />
      ${!active && html`<${RunLog} run=${run} />`}
      <${Dialog} open=${confirmCancel} title="Cancel this run?" labelId="cancel-title" onClose=${() => setConfirmCancel(false)}>
        <p>The run stops at its next step or batch. What was already sent to the store stays.</p>
        ${cancelError && html`<p class="error" role="alert">${cancelError}</p>`}
        <div class="actions">
          <button type="button" class="danger" onClick=${cancel}>Cancel run</button>
          <button type="button" class="secondary" onClick=${() => setConfirmCancel(false)}>Keep running</button>
        </div>
      <//>
    </section>`;
}
