// The schedule editor: every shape the API takes (models/schedules.py), with black-outs,
// and the next run times before saving (POST /schedule-preview), in the merchant's own
// time zone and the schedule's.
import { html, useEffect, useState } from "../html.js";
import { api } from "../api.js";
import { fieldId, problemFrom, SelectField, TextField } from "./form.js";
import { scheduleBody } from "./draft.js";

const KINDS = [
  ["default", "Your account's schedule (Settings)"],
  ["interval", "Every few minutes or hours"],
  ["automatic", "When the file changes (checked regularly)"],
  ["daily", "Once a day"],
  ["cron", "Advanced (cron expression)"],
  ["after", "After another profile"],
  ["manual", "Only when I click Start"],
];
const EVERY = [[15, "15 minutes"], [30, "30 minutes"], [60, "hour"], [120, "2 hours"], [240, "4 hours"], [360, "6 hours"], [720, "12 hours"], [1440, "day"]];
const WEEKDAYS = ["Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun"];
const TIMED = ["interval", "automatic", "daily", "cron"];
export const NEXT_COUNT = 5;

function zones() {
  try {
    return Intl.supportedValuesOf("timeZone");
  } catch {
    return ["UTC", "Europe/London", "Europe/Berlin", "America/New_York", "America/Los_Angeles", "Australia/Sydney"];
  }
}

const MY_ZONE = Intl.DateTimeFormat().resolvedOptions().timeZone;

function at(iso, timeZone) {
  return new Date(iso).toLocaleString(undefined, { weekday: "short", month: "short", day: "numeric", hour: "2-digit", minute: "2-digit", timeZone });
}

// props: schedule, setSchedule(next), problems, profiles (others, for "after")
export function ScheduleSection({ schedule, setSchedule, problems, profiles }) {
  const set = (patch) => setSchedule({ ...schedule, ...patch });
  const timed = TIMED.includes(schedule.type);
  const change = (type) => {
    const next = { type, timezone: schedule.timezone, blackouts: schedule.blackouts };
    if (type === "interval" || type === "automatic") next.every_minutes = schedule.every_minutes || 60;
    if (type === "daily") next.at = schedule.at || "06:00";
    if (type === "cron") next.expression = schedule.expression || "cron(0 */2 * * ? *)";
    if (type === "after") next.profile_id = schedule.profile_id || (profiles[0] && profiles[0].profile_id) || "";
    setSchedule(next);
  };
  const every = Number(schedule.every_minutes) || 60;
  const everyOptions = EVERY.some(([m]) => m === every) ? EVERY : [...EVERY, [every, `${every} minutes`]];
  return html`
    <section class="card" aria-labelledby="schedule-heading">
      <h2 id="schedule-heading">Schedule</h2>
      <${SelectField} name="schedule.type" label="Runs" value=${schedule.type} options=${KINDS} onValue=${change} problems=${problems} />
      ${schedule.type === "interval" || schedule.type === "automatic" ? html`
        <${SelectField} name="schedule.every_minutes" label=${schedule.type === "automatic" ? "Check the file every" : "Every"}
          value=${String(every)} options=${everyOptions.map(([m, text]) => [String(m), text])}
          onValue=${(v) => set({ every_minutes: Number(v) })} problems=${problems} />` : null}
      ${schedule.type === "daily" ? html`
        <${TextField} name="schedule.at" label="At" type="time" value=${schedule.at}
          onValue=${(v) => set({ at: v })} problems=${problems} />` : null}
      ${schedule.type === "cron" ? html`
        <${TextField} name="schedule.expression" label="Cron expression" value=${schedule.expression}
          onValue=${(v) => set({ expression: v })} problems=${problems}
          help="Six fields, as EventBridge reads them: cron(minutes hours day-of-month month day-of-week year)." />` : null}
      ${schedule.type === "after" ? html`
        <${SelectField} name="schedule.profile_id" label="After this profile succeeds with changes" value=${schedule.profile_id}
          options=${profiles.length ? profiles.map((p) => [p.profile_id, p.name]) : [["", "No other profile yet"]]}
          onValue=${(v) => set({ profile_id: v })} problems=${problems} />` : null}
      ${timed ? html`
        <${SelectField} name="schedule.timezone" label="Time zone" value=${schedule.timezone || ""}
          options=${[["", "Your account's time zone"], ...zones().map((z) => [z, z.replace(/_/g, " ")])]}
          onValue=${(v) => set({ timezone: v || undefined })} problems=${problems} />
        <${Blackouts} windows=${schedule.blackouts || []} setWindows=${(blackouts) => set({ blackouts })} problems=${problems} />` : null}
      <${NextRuns} schedule=${schedule} />
    </section>
  `;
}

function Blackouts({ windows, setWindows, problems }) {
  const update = (i, patch) => setWindows(windows.map((w, j) => (j === i ? { ...w, ...patch } : w)));
  const add = () => {
    setWindows([...windows, { start: "22:00", end: "04:00" }]);
    requestAnimationFrame(() => {
      const input = document.getElementById(fieldId(`schedule.blackouts[${windows.length}].start`));
      if (input) input.focus();
    });
  };
  const remove = (i) => {
    setWindows(windows.filter((_, j) => j !== i));
    requestAnimationFrame(() => document.getElementById("add-quiet-time").focus()); // not lost with its button
  };
  return html`
    <fieldset data-field="schedule.blackouts">
      <legend>Quiet times (no scheduled runs)</legend>
      ${windows.length === 0 ? html`<p class="help">None: it runs at any time of day.</p>` : null}
      ${windows.map((w, i) => {
        const days = w.weekdays || [];
        const name = `schedule.blackouts[${i}]`;
        return html`
          <fieldset class="blackout" data-field=${name}>
            <legend>Quiet time ${i + 1}</legend>
            <div class="row">
              <${TextField} name=${`${name}.start`} label="From" type="time" value=${w.start} onValue=${(v) => update(i, { start: v })} problems=${problems} />
              <${TextField} name=${`${name}.end`} label="Until" type="time" value=${w.end} onValue=${(v) => update(i, { end: v })} problems=${problems}
                help="An end before the start goes past midnight." />
            </div>
            <fieldset class="weekdays" data-field=${`${name}.weekdays`}>
              <legend>On (none ticked: every day)</legend>
              ${WEEKDAYS.map((day, d) => html`
                <span class="day">
                  <input type="checkbox" id=${fieldId(`${name}.weekdays.${d}`)} checked=${days.includes(d)}
                    onChange=${(e) => update(i, { weekdays: e.currentTarget.checked ? [...days, d].sort() : days.filter((x) => x !== d) })} />
                  <label for=${fieldId(`${name}.weekdays.${d}`)}>${day}</label>
                </span>`)}
            </fieldset>
            <button type="button" class="secondary" onClick=${() => remove(i)}>Remove quiet time ${i + 1}</button>
          </fieldset>`;
      })}
      <div class="actions"><button type="button" class="secondary" id="add-quiet-time" onClick=${add}>Add a quiet time</button></div>
    </fieldset>
  `;
}

// The next run times of the schedule as it is now in the form (nothing saved).
function NextRuns({ schedule }) {
  const [state, setState] = useState({ loading: true, answer: null, problem: "" });
  const body = JSON.stringify(scheduleBody(schedule));
  useEffect(() => {
    let stale = false;
    setState((s) => ({ ...s, loading: true }));
    const timer = setTimeout(async () => {
      try {
        const answer = await api.send("POST", "/schedule-preview", { schedule: JSON.parse(body), count: NEXT_COUNT });
        if (!stale) setState({ loading: false, answer, problem: "" });
      } catch (error) {
        const problem = problemFrom(error);
        const where = problem.field ? `${problem.field.replace(/^schedule\./, "")}: ` : "";
        if (!stale) setState({ loading: false, answer: null, problem: `${where}${problem.message}` });
      }
    }, 300);
    return () => { stale = true; clearTimeout(timer); };
  }, [body]);
  const { answer } = state;
  let summary = "";
  if (state.problem) summary = `No run times yet: ${state.problem}`;
  else if (state.loading && !answer) summary = "Working out the next run times…";
  else if (answer && answer.next.length === 0) {
    summary = answer.type === "after" ? "It runs after the other profile, so there are no fixed times."
      : answer.type === "manual" ? "It runs only when you click Start (or upload a file)." : "No free time found for a run.";
  } else if (answer) summary = `The next ${answer.next.length} runs:`;
  const zone = answer && answer.timezone;
  return html`
    <div class="next-runs-box" aria-labelledby="next-runs-heading">
      <h3 id="next-runs-heading">Next runs</h3>
      <p role="status" aria-live="polite" class=${state.problem ? "error" : ""}>${summary}</p>
      ${answer && answer.next.length ? html`
        <ol class="next-runs" aria-label="Next run times">
          ${answer.next.map((iso) => html`<li>
            <time datetime=${iso}>${at(iso, MY_ZONE)}</time> your time
            ${zone && zone !== MY_ZONE ? html` · ${at(iso, zone)} ${zone.replace(/_/g, " ")}` : null}
          </li>`)}
        </ol>` : null}
    </div>
  `;
}
