// A run's and a profile's state in the merchant's words, always as text beside any colour.
import { html } from "../html.js";

export const ACTIVE = ["queued", "preparing", "matching", "updating"];
export const PHASES = [
  ["queued", "Queued"],
  ["preparing", "Preparing"],
  ["matching", "Matching"],
  ["updating", "Updating"],
];

const FINAL_LABELS = {
  succeeded: "Ready",
  failed: "Failed",
  previewed: "Waiting for your review",
  held: "Waiting for your review",
  partially_applied: "Partly applied",
  skipped: "Skipped",
  cancelled: "Cancelled",
};

export function isActive(status) {
  return ACTIVE.includes(status);
}

export function needsReview(status) {
  return status === "previewed" || status === "held";
}

export function statusLabel(status) {
  const phase = PHASES.find(([name]) => name === status);
  if (phase) return phase[1];
  return FINAL_LABELS[status] || status;
}

// "Updating 42 %" once the total is known; the bare phase before (a percentage of an
// unknown total would read 100 %).
export function liveText(status, percent) {
  const label = statusLabel(status);
  return status === "updating" && percent !== null && percent !== undefined
    ? `${label} ${percent} %`
    : label;
}

const HEALTH_WORDS = { green: "Healthy", yellow: "Needs a look", red: "Action needed" };

export function HealthBadge({ health }) {
  if (!health) return null;
  return html`<span class=${`badge ${health.status}`}>${HEALTH_WORDS[health.status] || health.status}</span>`;
}

// A run's progress: a real <progress> with its value in words; indeterminate (no value)
// until the total is known.
export function ProgressBar({ progress, label = "Progress", eta }) {
  const known = progress && progress.percent !== null && progress.percent !== undefined && progress.total > 0;
  const words = known
    ? `${progress.percent} % (${progress.done.toLocaleString()} of ${progress.total.toLocaleString()} items)`
    : "Working out how many items to update";
  return html`
    <div class="progress">
      ${known
        ? html`<progress max=${progress.total} value=${progress.done} aria-label=${label}>${progress.percent} %</progress>`
        : html`<progress aria-label=${label}></progress>`}
      <p class="help">${words}${eta ? html` · ${eta}` : ""}</p>
    </div>`;
}
