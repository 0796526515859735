// The tenant's global schedule (profiles on "default" follow it), the plan with its usage,
// and where run alerts are mailed.
import { html, useEffect, useState } from "../html.js";
import { ApiError, api } from "../api.js";
import { count, minutes } from "../format.js";
import { TwoStepVerification } from "./twostep.js";
import { sessionKind } from "../auth/session.js";
import { WriteGate } from "../components/gate.js";

const KINDS = [
  ["interval", "At a regular interval"],
  ["automatic", "At a regular interval, only when the file changed"],
  ["daily", "Once a day"],
  ["cron", "On a cron timetable"],
  ["manual", "Only when started"],
];
const PRESETS = [15, 60, 240, 1440];

// Only the fields the chosen kind takes (the API refuses any other key).
function scheduleBody(form) {
  const timed = form.timezone ? { timezone: form.timezone } : {};
  if (form.blackouts) timed.blackouts = form.blackouts;
  switch (form.type) {
    case "interval":
    case "automatic":
      return { type: form.type, every_minutes: Number(form.every_minutes), ...timed };
    case "daily":
      return { type: "daily", at: form.at, ...timed };
    case "cron":
      return { type: "cron", expression: form.expression, ...timed };
    default:
      return { type: "manual" };
  }
}

function fieldError(error, name) {
  if (!error || !error.field) return null;
  return error.field === name || error.field.endsWith(`.${name}`) ? error.message : null;
}

function ScheduleForm() {
  const [form, setForm] = useState(null);
  const [error, setError] = useState(null);
  const [saved, setSaved] = useState(null);
  useEffect(() => {
    api.get("/settings/schedule").then(
      (s) => setForm({ every_minutes: 1440, at: "02:00", expression: "cron(0 2 * * ? *)", timezone: "", ...s }),
      (e) => setError({ message: e.message }),
    );
  }, []);
  if (!form) return error ? html`<p class="error" role="alert">${error.message}</p>` : html`<p>Loading…</p>`;
  const set = (name) => (event) => setForm({ ...form, [name]: event.target.value });
  const save = async (event) => {
    event.preventDefault();
    setSaved(null);
    setError(null);
    try {
      const stored = await api.send("PUT", "/settings/schedule", scheduleBody(form));
      setForm({ ...form, ...stored });
      setSaved("Saved. Profiles that follow the global schedule use it from now on.");
    } catch (e) {
      setError(e instanceof ApiError ? { field: e.body.field, message: e.message } : { message: String(e) });
    }
  };
  const problem = (name) => fieldError(error, name);
  const described = (name) => (problem(name) ? `schedule-${name}-error` : undefined);
  return html`
    <form onSubmit=${save} novalidate>
      <${WriteGate} what="Changing the global schedule">
      <label for="schedule-type">Run profiles</label>
      <select id="schedule-type" value=${form.type} onChange=${set("type")}>
        ${KINDS.map(([value, label]) => html`<option value=${value}>${label}</option>`)}
      </select>
      ${(form.type === "interval" || form.type === "automatic") && html`
        <label for="schedule-every">Every (minutes)</label>
        <input id="schedule-every" type="number" min="1" value=${form.every_minutes} onInput=${set("every_minutes")}
          aria-describedby=${described("every_minutes") || "schedule-every-help"} aria-invalid=${problem("every_minutes") ? "true" : undefined} />
        <p id="schedule-every-help" class="help">Common choices: ${PRESETS.map((m) => minutes(m)).join(", ")}.</p>
        ${problem("every_minutes") && html`<p id="schedule-every_minutes-error" class="error">${problem("every_minutes")}</p>`}`}
      ${form.type === "daily" && html`
        <label for="schedule-at">At (hh:mm)</label>
        <input id="schedule-at" value=${form.at} onInput=${set("at")} aria-describedby=${described("at")}
          aria-invalid=${problem("at") ? "true" : undefined} />
        ${problem("at") && html`<p id="schedule-at-error" class="error">${problem("at")}</p>`}`}
      ${form.type === "cron" && html`
        <label for="schedule-expression">Cron expression</label>
        <input id="schedule-expression" value=${form.expression} onInput=${set("expression")} aria-describedby=${described("expression")}
          aria-invalid=${problem("expression") ? "true" : undefined} />
        ${problem("expression") && html`<p id="schedule-expression-error" class="error">${problem("expression")}</p>`}`}
      ${form.type !== "manual" && html`
        <label for="schedule-timezone">Time zone</label>
        <input id="schedule-timezone" value=${form.timezone || ""} placeholder="e.g. Europe/Berlin" onInput=${set("timezone")}
          aria-describedby=${described("timezone")} aria-invalid=${problem("timezone") ? "true" : undefined} />
        ${problem("timezone") && html`<p id="schedule-timezone-error" class="error">${problem("timezone")}</p>`}`}
      ${error && !["every_minutes", "at", "expression", "timezone"].some(problem) && html`<p class="error" role="alert">${error.message}</p>`}
      <div class="actions"><button type="submit">Save schedule</button></div>
      <p class="help" aria-live="polite">${saved}</p>
      <//>
    </form>`;
}

function PlanUsage() {
  const [plan, setPlan] = useState(null);
  const [error, setError] = useState(null);
  useEffect(() => {
    api.get("/plan").then(setPlan, (e) => setError(e.message));
  }, []);
  if (error) return html`<p class="error" role="alert">${error}</p>`;
  if (!plan) return html`<p>Loading…</p>`;
  const { plan: limits, usage } = plan;
  return html`
    <dl class="summary">
      <div><dt>Profiles</dt><dd>${count(usage.profiles)} of ${count(limits.max_profiles)}</dd></div>
      <div><dt>Enabled</dt><dd>${count(usage.profiles_enabled)}</dd></div>
      <div><dt>Held by the plan</dt><dd>${count(usage.held_by_plan)}</dd></div>
      <div><dt>Shortest interval</dt><dd>${minutes(limits.min_interval_minutes)}</dd></div>
      <div><dt>Rows per file</dt><dd>${count(limits.max_rows)}</dd></div>
    </dl>
    ${usage.held_by_plan > 0 && html`<p class="notice">${count(usage.held_by_plan)} profiles are disabled because they are over your plan.
      Delete or disable others, or move to a larger plan, then enable them again.</p>`}`;
}

function Notifications() {
  const [current, setCurrent] = useState(null);
  const [email, setEmail] = useState("");
  const [error, setError] = useState(null);
  const [saved, setSaved] = useState(null);
  useEffect(() => {
    api.get("/settings/notifications").then((n) => { setCurrent(n); setEmail(n.email || ""); }, (e) => setError(e.message));
  }, []);
  const save = async (event) => {
    event.preventDefault();
    setError(null);
    setSaved(null);
    try {
      const n = await api.send("PUT", "/settings/notifications", { email: email.trim() || null });
      setCurrent(n);
      setSaved(n.status === "pending_confirmation" ? "Saved. Follow the link in the mail we sent to confirm the address." : "Saved.");
    } catch (e) {
      setError(e.message);
    }
  };
  const words = { none: "No address yet", pending_confirmation: "Waiting for confirmation", confirmed: "Confirmed", unsubscribed: "Unsubscribed" };
  return html`
    <form onSubmit=${save} novalidate>
      <${WriteGate} what="Changing the alert address">
      <p>Mail when a run fails, is held, or some items fail.${current ? ` Status: ${words[current.status] || current.status}.` : ""}</p>
      <label for="alert-email">Alert address</label>
      <input id="alert-email" type="email" value=${email} onInput=${(e) => setEmail(e.target.value)}
        aria-describedby=${error ? "alert-email-error" : undefined} aria-invalid=${error ? "true" : undefined} />
      ${error && html`<p id="alert-email-error" class="error">${error}</p>`}
      <div class="actions"><button type="submit">Save address</button></div>
      <p class="help" aria-live="polite">${saved}</p>
      <//>
    </form>`;
}

export function SettingsPage() {
  return html`
    <section>
      <h1>Settings</h1>
      <div class="card">
        <h2>Global schedule</h2>
        <p class="help">Profiles whose schedule is "Follows your global schedule" run on this one.</p>
        <${ScheduleForm} />
      </div>
      <div class="card">
        <h2>Your plan</h2>
        <${PlanUsage} />
      </div>
      <div class="card">
        <h2>Notifications</h2>
        <${Notifications} />
      </div>
      ${sessionKind() === "user" && html`
        <div class="card">
          <h2>Two-step verification</h2>
          <${TwoStepVerification} />
        </div>`}
    </section>`;
}
