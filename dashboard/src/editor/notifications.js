// Where a run's stock goes (location_id) and who hears how it ended (webhooks).
// A webhook's deliveries are signed with the profile's secret, which the API shows once:
// in the answer of the save that gave the profile its first webhook, and in the answer of
// POST /profiles/{id}/webhook-secret (a new one, the old one stops at once).
import { html, useState } from "../html.js";
import { api } from "../api.js";
import { fieldId, TextField } from "./form.js";
import { WEBHOOKS_MAX } from "./draft.js";

// props: store (the chosen store, or undefined), hasLocations (its platform has stock
// locations), value, onValue, problems
export function LocationField({ store, hasLocations, value, onValue, problems }) {
  if (!hasLocations && !value) return null;
  const own = store && store.options && store.options.location_id;
  const help = !hasLocations
    ? "This store's platform has no stock locations: empty this to save."
    : own
      ? `Leave empty to use the store's own location (${own}).`
      : "Leave empty to use the store's default location.";
  return html`<${TextField} name="location_id" label="Stock location ID" value=${value}
    onValue=${(v) => onValue(v === "" ? null : v)} problems=${problems} autocomplete="off" help=${help} />`;
}

const EVENTS = [
  ["failed", "The run failed"],
  ["failed_items", "It finished, but the store refused items"],
  ["held", "A safety limit held it"],
  ["succeeded", "Every successful run"],
];
const DEFAULT_EVENTS = ["failed", "failed_items", "held"];

// A secret the POST that created a profile answered, handed to the editor the page goes to
// next (in memory only: never in the URL or storage).
let handedOver = null;
export function handOverSecret(profileId, secret) {
  handedOver = secret ? { profileId, secret } : null;
}
export function takeSecret(profileId) {
  const found = handedOver && handedOver.profileId === profileId ? handedOver.secret : "";
  handedOver = null;
  return found;
}

// props: webhooks, setWebhooks(next), problems, profile (null for a new one),
// secret (shown once), setSecret(text)
export function NotificationsSection({ webhooks, setWebhooks, problems, profile, secret, setSecret }) {
  const [asking, setAsking] = useState(false);
  const [rotateProblem, setRotateProblem] = useState("");
  const setHook = (at, patch) => setWebhooks(webhooks.map((w, i) => (i === at ? { ...w, ...patch } : w)));
  const focusLater = (id) => requestAnimationFrame(() => {
    const element = document.getElementById(id);
    if (element) element.focus();
  });
  const add = () => {
    setWebhooks([...webhooks, { url: "", events: DEFAULT_EVENTS }]);
    focusLater(fieldId(`webhooks[${webhooks.length}].url`));
  };
  const remove = (at) => {
    const next = webhooks.filter((_, i) => i !== at);
    setWebhooks(next);
    focusLater(next.length ? fieldId(`webhooks[${Math.min(at, next.length - 1)}].url`) : "f-add-webhook");
  };
  const rotate = async () => {
    setRotateProblem("");
    try {
      const answer = await api.send("POST", `/profiles/${encodeURIComponent(profile.profile_id)}/webhook-secret`);
      setSecret(answer.secret);
      setAsking(false);
      focusLater("webhook-secret");
    } catch (error) {
      setRotateProblem(error.message);
    }
  };
  const hasSecret = Boolean(profile && profile.has_webhook_secret);
  return html`
    <section class="card" aria-labelledby="notifications-heading">
      <h2 id="notifications-heading">Notifications</h2>
      <p class="help">Webhooks: feedsync POSTs a JSON event to each address when a run ends in one of its events.</p>
      ${secret ? html`
        <div class="notice secret" role="status">
          <p><strong>Signing secret</strong> (copy it now; it is not shown again; see “Signed deliveries” below):</p>
          <p><code id="webhook-secret" tabindex="-1">${secret}</code></p>
        </div>` : null}
      <ol class="webhook-list">
        ${webhooks.map((hook, i) => html`
          <li>
            <fieldset class="webhook" data-field=${`webhooks[${i}]`}>
              <legend>Webhook ${i + 1}</legend>
              <${TextField} name=${`webhooks[${i}].url`} label="Address (URL)" type="url" value=${hook.url}
                onValue=${(url) => setHook(i, { url })} problems=${problems} placeholder="https://hooks.example/feedsync" />
              <${Events} hook=${hook} at=${i} onEvents=${(events) => setHook(i, { events })} problems=${problems} />
              <button type="button" class="secondary" onClick=${() => remove(i)}>Remove webhook ${i + 1}</button>
            </fieldset>
          </li>`)}
      </ol>
      ${webhooks.length < WEBHOOKS_MAX
        ? html`<button type="button" class="secondary" id="f-add-webhook" onClick=${add}>Add a webhook</button>`
        : html`<p class="help">At most ${WEBHOOKS_MAX} webhooks.</p>`}
      <div class="signing" aria-labelledby="signing-heading" role="group">
        <h3 id="signing-heading">Signed deliveries</h3>
        <p class="help">Each delivery is signed with HMAC-SHA256: the header <code>Feedsync-Signature: v1=…</code> holds
          the hex HMAC of <code>timestamp.body</code> (the timestamp from <code>Feedsync-Timestamp</code>) under the profile's
          signing secret. Check it, and the timestamp's age, before you trust a delivery.</p>
        <p class="help">The secret is shown once: when you save the profile's first webhook, or when you make a new one here.
          feedsync keeps it, but never shows it again.</p>
        ${profile && hasSecret && !secret ? html`<p>This profile has a signing secret.</p>` : null}
        ${profile && hasSecret && !asking ? html`
          <button type="button" class="secondary" onClick=${() => { setAsking(true); focusLater("rotate-yes"); }}>
            Make a new signing secret</button>` : null}
        ${asking ? html`
          <div class="notice" role="group" aria-labelledby="rotate-question">
            <p id="rotate-question">The old secret stops signing at once: receivers need the new one. Make a new secret?</p>
            <div class="actions">
              <button type="button" id="rotate-yes" onClick=${rotate}>Yes, make a new secret</button>
              <button type="button" class="secondary" onClick=${() => setAsking(false)}>Cancel</button>
            </div>
          </div>` : null}
        ${rotateProblem ? html`<p class="error" role="alert">${rotateProblem}</p>` : null}
      </div>
    </section>
  `;
}

function Events({ hook, at, onEvents, problems }) {
  const name = `webhooks[${at}].events`;
  const id = fieldId(name);
  const message = problems.messageFor(name);
  const events = hook.events || [];
  const toggle = (event, on) => {
    if (message) problems.clear();
    const next = on ? [...events, event] : events.filter((e) => e !== event);
    onEvents(EVENTS.map(([e]) => e).filter((e) => next.includes(e)));
  };
  return html`
    <fieldset class="events" data-field=${name} aria-describedby=${message ? `${id}-error` : undefined}>
      <legend>Tell it when</legend>
      ${EVENTS.map(([event, label], i) => html`
        <div class="field check">
          <input type="checkbox" id=${i === 0 ? id : `${id}-${event}`} checked=${events.includes(event)}
            onChange=${(e) => toggle(event, e.currentTarget.checked)} />
          <label for=${i === 0 ? id : `${id}-${event}`}>${label}</label>
        </div>`)}
      ${message ? html`<p class="error field-error" id=${`${id}-error`}>${message}</p>` : null}
    </fieldset>
  `;
}
