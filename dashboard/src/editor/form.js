// Form fields named by the API's own field paths ("source.url", "schedule.at"), so a 422's
// `field` finds the input it is about: the message is shown beside it and focus moves there.
import { html, useEffect, useState } from "../html.js";
import { ApiError } from "../api.js";

// "schedule.blackouts[0].start" -> "f-schedule-blackouts-0-start": an element id.
export function fieldId(name) {
  return `f-${name.replace(/[^A-Za-z0-9]+/g, "-").replace(/-+$/, "")}`;
}

// What went wrong, as { field, message }: the API's 422 names the field; anything else
// is the form's own (field "").
export function problemFrom(error) {
  if (error instanceof ApiError) {
    const body = error.body || {};
    if (error.status === 422 && body.field) {
      const prefix = `${body.field}: `;
      const message = (body.message || "").startsWith(prefix)
        ? body.message.slice(prefix.length)
        : body.message || "refused";
      return keyed({ field: body.field, message });
    }
    return { field: "", message: body.message || error.message };
  }
  return { field: "", message: String((error && error.message) || error) };
}

// Maps whose refusal names the key first ("constants" + "stock: expected a whole number"):
// the problem is the key's own ("constants.stock"), so it shows beside that input.
// `create`'s own checks name their key the same way ("options: name at least one ...").
const KEYED = new Set(["constants", "create"]);

function keyed(problem) {
  const found = KEYED.has(problem.field) && /^([a-z_]+): (.+)$/s.exec(problem.message);
  const named = found ? { field: `${problem.field}.${found[1]}`, message: found[2] } : problem;
  // The API counts rows from 0 ("overlaps tiers[0]"); the page shows them from 1 ("Tier 1").
  return { ...named, message: named.message.replace(/\btiers\[(\d+)\]/g, (_, n) => `tier ${Number(n) + 1}`) };
}

// The rendered field a problem is about: the longest data-field name that prefixes the
// API's path ("schedule.at" for "schedule.at"; "source" for "source.url" if no url input).
export function targetOf(problem, root = document) {
  if (!problem || !problem.field) return "";
  // "webhooks.0.url" (the core's names) and "webhooks[0].url" (pydantic's) are one field.
  const path = problem.field.replace(/^body\.?/, "").replace(/\.(\d+)(?=\.|\[|$)/g, "[$1]");
  let best = "";
  for (const element of root.querySelectorAll("[data-field]")) {
    const name = element.dataset.field;
    const prefixes = path === name || path.startsWith(`${name}.`) || path.startsWith(`${name}[`);
    if (prefixes && name.length > best.length) best = name;
  }
  return best;
}

// A form's problem: shown beside its field (or at the form's top), focus moved to it.
export function useProblem() {
  const [problem, setProblem] = useState(null);
  const [target, setTarget] = useState("");
  useEffect(() => {
    if (!problem) return;
    const found = targetOf(problem);
    setTarget(found);
    requestAnimationFrame(() => {
      const element = found
        ? document.getElementById(fieldId(found)) || document.querySelector(`[data-field="${found}"]`)
        : document.querySelector("[data-form-problem]");
      if (element) element.focus();
    });
  }, [problem]);
  const messageFor = (name) => (problem && target === name ? problem.message : "");
  return {
    problem,
    target,
    messageFor,
    report: (error) => setProblem(problemFrom(error)),
    say: (field, message) => setProblem({ field, message }),
    clear: () => setProblem(null),
  };
}

// The problem no field claims, at the top of a form (focusable, announced).
export function FormProblem({ problems }) {
  const { problem, target } = problems;
  if (!problem || target) return null;
  return html`<p class="error" role="alert" tabindex="-1" data-form-problem>${problem.message}</p>`;
}

function described(id, help, message) {
  const ids = [help ? `${id}-help` : "", message ? `${id}-error` : ""].filter(Boolean);
  return ids.length ? ids.join(" ") : undefined;
}

function Extras({ id, help, message }) {
  return html`
    ${help ? html`<p class="help" id=${`${id}-help`}>${help}</p>` : null}
    ${message ? html`<p class="error field-error" id=${`${id}-error`}>${message}</p>` : null}
  `;
}

// An input named by its API path; `problems` from useProblem().
export function TextField({ name, label, value, onValue, problems, help, type = "text", ...rest }) {
  const id = fieldId(name);
  const message = problems ? problems.messageFor(name) : "";
  return html`
    <div class="field" data-field=${name}>
      <label for=${id}>${label}</label>
      <input id=${id} type=${type} value=${value ?? ""} aria-invalid=${message ? "true" : undefined}
        aria-describedby=${described(id, help, message)}
        onInput=${(e) => { if (message) problems.clear(); onValue(e.currentTarget.value); }} ...${rest} />
      <${Extras} id=${id} help=${help} message=${message} />
    </div>
  `;
}

export function TextArea({ name, label, value, onValue, problems, help, ...rest }) {
  const id = fieldId(name);
  const message = problems ? problems.messageFor(name) : "";
  return html`
    <div class="field" data-field=${name}>
      <label for=${id}>${label}</label>
      <textarea id=${id} aria-invalid=${message ? "true" : undefined}
        aria-describedby=${described(id, help, message)}
        onInput=${(e) => { if (message) problems.clear(); onValue(e.currentTarget.value); }} ...${rest}>${value ?? ""}</textarea>
      <${Extras} id=${id} help=${help} message=${message} />
    </div>
  `;
}

// options: [[value, label], ...]
export function SelectField({ name, label, value, options, onValue, problems, help, ...rest }) {
  const id = fieldId(name);
  const message = problems ? problems.messageFor(name) : "";
  return html`
    <div class="field" data-field=${name}>
      <label for=${id}>${label}</label>
      <select id=${id} value=${value ?? ""} aria-invalid=${message ? "true" : undefined}
        aria-describedby=${described(id, help, message)}
        onChange=${(e) => { if (message) problems.clear(); onValue(e.currentTarget.value); }} ...${rest}>
        ${options.map(([v, text]) => html`<option value=${v} selected=${v === (value ?? "")}>${text}</option>`)}
      </select>
      <${Extras} id=${id} help=${help} message=${message} />
    </div>
  `;
}

export function CheckField({ name, label, checked, onValue, problems, help, disabled }) {
  const id = fieldId(name);
  const message = problems ? problems.messageFor(name) : "";
  return html`
    <div class="field check" data-field=${name}>
      <input id=${id} type="checkbox" checked=${Boolean(checked)} disabled=${disabled}
        aria-describedby=${described(id, help, message)}
        onChange=${(e) => { if (message) problems.clear(); onValue(e.currentTarget.checked); }} />
      <label for=${id}>${label}</label>
      <${Extras} id=${id} help=${help} message=${message} />
    </div>
  `;
}

// A set of radio buttons in a fieldset; options: [[value, label, help?], ...]
export function RadioField({ name, legend, value, options, onValue, problems }) {
  const id = fieldId(name);
  const message = problems ? problems.messageFor(name) : "";
  return html`
    <fieldset class="field radios" data-field=${name} aria-describedby=${message ? `${id}-error` : undefined}>
      <legend>${legend}</legend>
      ${options.map(([v, text, help], i) => html`
        <div class="radio">
          <input type="radio" id=${i === 0 ? id : `${id}-${v}`} name=${id} value=${v}
            checked=${v === value} onChange=${() => onValue(v)} />
          <label for=${i === 0 ? id : `${id}-${v}`}>${text}${help ? html` <span class="help">${help}</span>` : null}</label>
        </div>`)}
      ${message ? html`<p class="error field-error" id=${`${id}-error`}>${message}</p>` : null}
    </fieldset>
  `;
}

// A live status line (screen readers hear it when it changes).
export function Status({ text, tone = "" }) {
  return html`<p class=${`status-line ${tone}`} role="status" aria-live="polite">${text || ""}</p>`;
}
