// The home page: one tile per profile from one GET /profiles per refresh (every 3 s while a
// profile runs, every 30 s otherwise, nothing while the tab is hidden).
import { html, useCallback, useEffect, useRef, useState } from "../html.js";
import { ApiError, api } from "../api.js";
import { count, duration, minutes, when } from "../format.js";
import { HealthBadge, isActive, liveText, needsReview, statusLabel } from "../components/status.js";
import { Dialog } from "../components/dialog.js";
import { DisclosureMenu } from "../components/menu.js";
import { usePolling } from "../components/polling.js";
import { useWriteGate } from "../components/gate.js";

const FAST_MS = 3000;
const SLOW_MS = 30000;

const SCHEDULE_WORDS = {
  manual: "Only when started",
  default: "Follows your global schedule",
  interval: "At a regular interval",
  automatic: "When the file changes",
  daily: "Once a day",
  cron: "On a custom timetable",
  after: "After another profile",
};

function every(m) {
  if (m === 60) return "Every hour";
  if (m === 1440) return "Every day";
  return `Every ${minutes(m)}`;
}

// The API's own words when it gives them (schedule_text); else said here from the schedule.
export function scheduleWords(profile) {
  if (profile.schedule_text) return profile.schedule_text.charAt(0).toUpperCase() + profile.schedule_text.slice(1);
  const schedule = profile.schedule || {};
  let words = SCHEDULE_WORDS[schedule.type] || schedule.type || "Not set";
  if (schedule.type === "daily" && schedule.at) words = `Every day at ${schedule.at}`;
  if ((schedule.type === "interval" || schedule.type === "automatic") && schedule.every_minutes) {
    words = every(schedule.every_minutes) + (schedule.type === "automatic" ? " when the file changed" : "");
  }
  const blackouts = (schedule.blackouts || []).map((b) => `${b.start}-${b.end}`);
  if (blackouts.length) words += ` except ${blackouts.join(", ")}`;
  if (schedule.timezone) words += `, ${schedule.timezone}`;
  return words;
}

function sourceWords(profile) {
  if (profile.source_summary) return profile.source_summary;
  const source = profile.source || {};
  if (source.type === "upload") return "Uploaded file";
  if (source.url) return source.url;
  if (source.host) return `${source.type.toUpperCase()} ${source.host}${source.path ? ` ${source.path}` : ""}`;
  return source.type || "Not set";
}

function storeWords(profile, stores) {
  if (profile.store_name) return profile.platform ? `${profile.store_name} (${profile.platform})` : profile.store_name;
  const store = stores[profile.store_id];
  return store ? `${store.name} (${store.platform})` : profile.store_id;
}

// What the tile says the profile is doing now: the API's live phase when it gives one, the
// run this page just started, else running / ready.
function liveStatus(profile, started) {
  if (profile.live) {
    const { status, phase_label: phase, percent } = profile.live;
    if (phase) return status === "updating" && percent != null ? `${phase} ${percent} %` : phase;
    return liveText(status, percent);
  }
  if (profile.status === "running") return "Running";
  const last = profile.last_run;
  // Started here, and the list has not caught up with it yet.
  if (started && !(last && last.run_id === started.run_id)) return statusLabel(started.status);
  return "Ready";
}

function lastRunOf(profile) {
  return profile.last_run || null;
}

function StartDialog({ profile, onClose, onStarted }) {
  const [mode, setMode] = useState(profile.mode || "partial");
  const [error, setError] = useState(null);
  const [busy, setBusy] = useState(false);
  const idempotency = useRef(`start-${profile.profile_id}-${Date.now()}-${Math.random().toString(36).slice(2)}`);
  const given = profile.estimate;
  let estimate = null;
  if (given && given.text) estimate = `Estimated time: ${given.text}.`;
  else if (given && given.seconds != null) {
    estimate = `Estimated time: about ${duration(given.seconds)}${given.basis ? ` (${given.basis})` : ""}.`;
  }
  const submit = async (event) => {
    event.preventDefault();
    setBusy(true);
    setError(null);
    try {
      const started = await api.send("POST", `/profiles/${profile.profile_id}/runs`, { mode }, {
        headers: { "Idempotency-Key": idempotency.current },
      });
      onStarted(started);
    } catch (e) {
      setError(e instanceof ApiError ? e.message : String(e));
      setBusy(false);
    }
  };
  const dialogId = `start-${profile.profile_id}`;
  return html`
    <form onSubmit=${submit}>
      <p>Start a sync of <strong>${profile.name}</strong> now?</p>
      <p>This may take a few minutes depending on your product count.</p>
      ${estimate && html`<p>${estimate}</p>`}
      <fieldset>
        <legend>What to send</legend>
        <label class="choice"><input type="radio" name=${`${dialogId}-mode`} value="partial" checked=${mode === "partial"}
          onChange=${() => setMode("partial")} /> Partial: only what changed since the last sync</label>
        <label class="choice"><input type="radio" name=${`${dialogId}-mode`} value="full" checked=${mode === "full"}
          onChange=${() => setMode("full")} /> Full: every item in the file</label>
      </fieldset>
      ${error && html`<p class="error" role="alert">${error}</p>`}
      <div class="actions">
        <button type="submit" disabled=${busy}>Start</button>
        <button type="button" class="secondary" onClick=${onClose}>Cancel</button>
      </div>
    </form>`;
}

function CheckStatus({ profile, onChecked }) {
  const [text, setText] = useState(null);
  const check = async () => {
    setText("Checking…");
    try {
      const store = await api.get(`/stores/${profile.store_id}`);
      if (store.status === "ready") {
        setText(`${store.name} is ready (${count(store.variant_count)} items imported). You can Start now.`);
        onChecked();
      } else if (store.status === "setting_up") {
        setText(`${store.name} is still importing its catalog: ${count(store.variant_count)} items so far.`);
      } else {
        setText(`${store.name}: the catalog import failed${store.error ? `: ${store.error}` : ""}. Open Stores to fix it.`);
      }
    } catch (e) {
      setText(e.message);
    }
  };
  return html`
    <button type="button" class="secondary" onClick=${check}>Check Status</button>
    <p class="help" aria-live="polite">${text}</p>`;
}

function PlanLimits({ plan }) {
  if (!plan) return null;
  const { plan: limits, usage } = plan;
  return html`
    <p class="help">
      Your plan allows ${count(limits.max_profiles)} profiles (${count(usage.profiles)} in use),
      a run every ${minutes(limits.min_interval_minutes)} at the most often, and
      ${count(limits.max_rows)} rows per file. To re-enable this profile, delete or disable another
      one (or move to a larger plan), then turn it on again in Edit Settings.
    </p>`;
}

function Tile({ profile, stores, plan, started, onStart, refresh }) {
  const id = profile.profile_id;
  const last = lastRunOf(profile);
  const health = profile.health || { status: "yellow", reason: "" };
  // A viewer reads everything and changes nothing: Start and Edit Settings are not theirs.
  const gate = useWriteGate("editor");
  const viewer = gate.disabled;
  const blocked = viewer ? { reason: "role", message: gate.hint } : !profile.can_start && profile.start_blocked;
  const blockedId = `blocked-${id}`;
  const menuItems = viewer ? [] : [[`#/profiles/${id}/edit`, "Edit Settings"]];
  if (last) menuItems.push([`#/runs/${last.run_id}`, "View Logs"]);
  menuItems.push([`#/profiles/${id}/runs`, "History"]);
  const runLink = started ? started.run_id : profile.live ? profile.live.run_id : profile.current_run_id;
  const follow = useRef(null);
  useEffect(() => {
    // After Start, focus goes to the new run's link (the Start button is disabled now).
    if (!started) return undefined;
    const timer = setTimeout(() => follow.current && follow.current.focus(), 0);
    return () => clearTimeout(timer);
  }, [started && started.run_id]);
  return html`
    <li class=${`card tile health-${health.status}`} data-profile-id=${id}>
      <div class="tile-head">
        <h2>${profile.name}</h2>
        <${HealthBadge} health=${health} />
      </div>
      <p class="health-reason">${health.reason}</p>
      <dl class="facts">
        <dt>Store</dt><dd>${storeWords(profile, stores)}</dd>
        <dt>Source</dt><dd class="wrap">${sourceWords(profile)}</dd>
        <dt>Schedule</dt><dd>${scheduleWords(profile)}</dd>
        <dt>Status</dt><dd aria-live="polite" class="live-status">${liveStatus(profile, started)}</dd>
        <dt>Last sync</dt><dd>${when(profile.last_sync_at || (last && last.finished_at))}</dd>
        ${profile.last_checked_at ? html`<dt>Last checked</dt><dd>${when(profile.last_checked_at)}</dd>` : null}
        <dt>Next sync</dt><dd>${profile.next_run_at ? when(profile.next_run_at) : "Not scheduled"}</dd>
      </dl>
      ${last && needsReview(last.status) && html`
        <p class="notice">Waiting for your review: <a href=${`#/runs/${last.run_id}`}>see the changes and apply them</a></p>`}
      ${profile.pending_upload && html`<p class="notice">New file ${profile.pending_upload.file_name || ""} uploaded
        ${profile.pending_upload.uploaded_at ? ` ${when(profile.pending_upload.uploaded_at)}` : ""}: click Start to sync it.</p>`}
      ${runLink && (started || profile.status === "running") && html`<p><a ref=${follow} href=${`#/runs/${runLink}`}>Follow this run</a></p>`}
      <div class="actions">
        <button type="button" disabled=${viewer || !profile.can_start} aria-describedby=${blocked ? blockedId : undefined}
          onClick=${() => onStart(profile)}>Start</button>
        <${DisclosureMenu} label="More" id=${`menu-${id}`} items=${menuItems} />
      </div>
      ${blocked && html`
        <div class="blocked">
          <p id=${blockedId} class="help">Start is unavailable: ${blocked.message}</p>
          ${blocked.reason === "store_setting_up" && html`<${CheckStatus} profile=${profile} onChecked=${refresh} />`}
          ${blocked.reason === "profile_disabled" && html`<${PlanLimits} plan=${plan} />`}
        </div>`}
    </li>`;
}

export function ProfilesPage() {
  const gate = useWriteGate("editor");
  const [profiles, setProfiles] = useState(null);
  const [error, setError] = useState(null);
  const [stores, setStores] = useState({});
  const [plan, setPlan] = useState(null);
  const [starting, setStarting] = useState(null);
  const [started, setStarted] = useState({});
  const asked = useRef({ plan: false, stores: false });

  const load = useCallback(async () => {
    try {
      const body = await api.get("/profiles");
      setProfiles(body.profiles);
      setError(null);
      // Looked up once, only when the list needs them (the plan for a profile it holds;
      // store names when the API does not name them).
      if (!asked.current.plan && body.profiles.some((p) => p.start_blocked && p.start_blocked.reason === "profile_disabled")) {
        asked.current.plan = true;
        api.get("/plan").then(setPlan, () => {});
      }
      if (!asked.current.stores && body.profiles.some((p) => !p.store_name)) {
        asked.current.stores = true;
        api.get("/stores").then((s) => setStores(Object.fromEntries(s.stores.map((x) => [x.store_id, x]))), () => {});
      }
      return body.profiles;
    } catch (e) {
      setError(e.message);
      return null;
    }
  }, []);
  const refresh = usePolling(load, (list) =>
    list && list.some((p) => p.status === "running" || (p.live && isActive(p.live.status))) ? FAST_MS : SLOW_MS);

  const onStarted = (profile) => (run) => {
    setStarted({ ...started, [profile.profile_id]: run });
    setStarting(null);
    refresh();
  };

  if (profiles === null) {
    return html`<section><h1>Profiles</h1>${error ? html`<p class="error" role="alert">${error}</p>` : html`<p>Loading your profiles…</p>`}</section>`;
  }
  return html`
    <section>
      <div class="page-head">
        <h1>Profiles</h1>
        ${gate.disabled
          ? html`<span class="help" id="new-profile-blocked">New profile ${gate.hint}</span>`
          : html`<a class="button" href="#/profiles/new">New profile</a>`}
      </div>
      ${error && html`<p class="error" role="alert">Could not refresh: ${error}</p>`}
      ${profiles.length === 0 ? html`
        <div class="card empty">
          <p>You have no profiles yet. A profile reads your supplier's file and keeps a store's prices and stock in line with it.</p>
          <ol>
            <li><a href="#/stores">Connect a store</a></li>
            <li><a href="#/profiles/new">Create a profile</a></li>
          </ol>
        </div>` : html`
        <ul class="tiles" aria-label="Your profiles">
          ${profiles.map((p) => html`<${Tile} key=${p.profile_id} profile=${p} stores=${stores} plan=${plan}
            started=${started[p.profile_id]} onStart=${setStarting} refresh=${refresh} />`)}
        </ul>`}
      <${Dialog} open=${starting !== null} title="Start a sync" labelId="start-dialog-title" onClose=${() => setStarting(null)}>
        ${starting && html`<${StartDialog} profile=${starting} onClose=${() => setStarting(null)} onStarted=${onStarted(starting)} />`}
      <//>
    </section>`;
}
