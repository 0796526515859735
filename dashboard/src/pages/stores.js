// Stores: the list, connecting a store and watching its catalog import, re-importing,
// replacing a rejected or rotated token, renaming, deleting. Routes #/stores and
// #/stores/:store_id.
import { html, useEffect, useState } from "../html.js";
import { api } from "../api.js";
import { usePolling } from "../components/polling.js";
import { navigate } from "../router.js";
import { count, when } from "../format.js";
import { FormProblem, RadioField, SelectField, Status, TextField, useProblem } from "../editor/form.js";
import { fieldLabel, loadPlatforms, platformLabel } from "../stores/platforms.js";
import { WriteGate } from "../components/gate.js";
import { ConfirmDialog } from "../components/confirm.js";

const POLL_MS = 1000;
const IDLE_MS = 3600000; // nothing running: asked again only when the merchant acts
// An import's mark older than a Lambda function can run belongs to one that was cut off.
const IMPORT_STALE_MS = 16 * 60 * 1000;

const STATUS = {
  setting_up: ["yellow", "Setting up"],
  ready: ["green", "Ready"],
  import_failed: ["red", "Import failed"],
};

function StoreStatus({ status }) {
  const [tone, text] = STATUS[status] || ["yellow", status];
  return html`<span class=${`badge ${tone}`}>${text}</span>`;
}

// The import under way on the store (the API marks it when asked for, counts as it reads
// and clears it at the end), or null.
function importing(store) {
  const running = store && store.importing;
  if (!running) return null;
  return Date.now() - Date.parse(running.started_at) < IMPORT_STALE_MS ? running : null;
}

function busy(store) {
  return store.status === "setting_up" || Boolean(importing(store));
}

// What the store is doing, in words (read out when it changes).
function statusSentence(store) {
  const running = importing(store);
  const read = `${count(running ? running.read : 0)} variants read so far. This page updates by itself.`;
  if (store.status === "setting_up") return `Importing your catalog… ${read}`;
  if (running) return `Re-importing your catalog (${running.mode.replace("_", " ")})… ${read}`;
  if (store.status === "ready") {
    const how = store.import_mode ? ` (${store.import_mode.replace("_", " ")})` : "";
    return `Ready: ${count(store.variant_count)} variants imported ${when(store.imported_at)}${how}.`;
  }
  const rejected = store.error_code === "store_auth_error";
  const next = rejected ? " Replace the token below." : " Check the address and token, then re-import.";
  return `Import failed: ${store.error || "no reason given"}.${next}`;
}

// Loads now and every POLL_MS while `active` says so (backing off after a failure); the
// returned refresh asks again at once (after the merchant did something).
function usePolled(load, active, deps) {
  const [value, setValue] = useState(null);
  const [problem, setProblem] = useState("");
  const refresh = usePolling(
    async () => {
      try {
        const got = await load();
        setValue(got);
        setProblem("");
        return got;
      } catch (error) {
        setProblem(error.message);
        return null;
      }
    },
    (got) => (got && !active(got) ? IDLE_MS : POLL_MS),
    deps,
  );
  return [value, setValue, problem, refresh];
}

export function StoresPage({ params }) {
  return params.store_id ? html`<${StoreDetail} storeId=${params.store_id} />` : html`<${StoreList} />`;
}

function StoreList() {
  const [platforms, setPlatforms] = useState(null);
  const [stores, , problem] = usePolled(
    () => api.get("/stores").then((body) => body.stores),
    (got) => got.some(busy),
    [],
  );
  useEffect(() => {
    loadPlatforms().then(setPlatforms, () => setPlatforms({ platforms: [], options: {} }));
  }, []);
  const known = platforms ? platforms.platforms : [];
  return html`
    <section>
      <h1>Stores</h1>
      ${problem ? html`<p class="error" role="alert">${problem}</p>` : null}
      ${stores === null && !problem ? html`<p>Loading your stores…</p>` : null}
      ${stores && stores.length === 0 ? html`<p>No store connected yet. Connect one below.</p>` : null}
      ${stores && stores.length > 0 ? html`
        <div class="table-scroll">
          <table class="stores-table">
            <caption class="sr-only">Your stores</caption>
            <thead><tr><th scope="col">Name</th><th scope="col">Platform</th><th scope="col">Status</th>
              <th scope="col">Variants</th><th scope="col">Imported</th><th scope="col">Problem</th></tr></thead>
            <tbody>
              ${stores.map((s) => html`
                <tr>
                  <th scope="row"><a href=${`#/stores/${encodeURIComponent(s.store_id)}`}>${s.name}</a></th>
                  <td data-label="Platform">${platformLabel(known, s.platform)}</td>
                  <td data-label="Status"><${StoreStatus} status=${s.status} />${importing(s) && s.status === "ready" ? " re-importing" : ""}</td>
                  <td data-label="Variants">${count(s.variant_count)}</td>
                  <td data-label="Imported">${when(s.imported_at)}</td>
                  <td data-label="Problem">${s.error || ""}</td>
                </tr>`)}
            </tbody>
          </table>
        </div>` : null}
      ${platforms ? html`<${ConnectStore} platforms=${platforms} />` : null}
    </section>
  `;
}

function CredentialFields({ names, values, setValue, problems, prefix = "credentials" }) {
  return names.map(
    (name) => html`<${TextField} name=${`${prefix}.${name}`} label=${fieldLabel(name)} type="password"
      autocomplete="off" value=${values[name]} onValue=${(v) => setValue(name, v)} problems=${problems} />`,
  );
}

function OptionFields({ platform, schemas, values, setValue, problems }) {
  return platform.options.map((name) => {
    const schema = schemas[name] || {};
    const required = platform.required.includes(name);
    if (schema.enum) {
      const words = { variants: "On each variant", adjustments: "As inventory adjustments at a location" };
      return html`<${SelectField} name=${`options.${name}`} label=${fieldLabel(name, schema)}
        value=${values[name] || schema.default} options=${schema.enum.map((v) => [v, words[v] || v])}
        onValue=${(v) => setValue(name, v)} problems=${problems} />`;
    }
    return html`<${TextField} name=${`options.${name}`} label=${`${fieldLabel(name, schema)}${required ? "" : " (optional)"}`}
      value=${values[name]} required=${required} onValue=${(v) => setValue(name, v)} problems=${problems} />`;
  });
}

function filled(values) {
  return Object.fromEntries(Object.entries(values).filter(([, v]) => v !== undefined && v !== ""));
}

function ConnectStore({ platforms }) {
  const choices = platforms.platforms;
  const [platformName, setPlatformName] = useState(choices.length ? choices[0].name : "");
  const [name, setName] = useState("");
  const [url, setUrl] = useState("");
  const [credentials, setCredentials] = useState({});
  const [options, setOptions] = useState({});
  const [busy, setBusy] = useState(false);
  const problems = useProblem();
  const platform = choices.find((p) => p.name === platformName);

  const submit = async (event) => {
    event.preventDefault();
    problems.clear();
    setBusy(true);
    try {
      const wanted = filled(options);
      const body = { name, platform: platformName, api_url: url, credentials: filled(credentials) };
      if (Object.keys(wanted).length) body.options = wanted;
      const store = await api.send("POST", "/stores", body);
      navigate(`/stores/${encodeURIComponent(store.store_id)}`);
    } catch (error) {
      problems.report(error);
      setBusy(false);
    }
  };
  if (!platform) return html`<p class="error">The list of platforms could not be read.</p>`;
  return html`
    <form class="card connect-store" onSubmit=${submit} aria-labelledby="connect-heading" novalidate>
      <h2 id="connect-heading">Connect a store</h2>
      <${WriteGate} what="Connecting a store">
      <${FormProblem} problems=${problems} />
      <${SelectField} name="platform" label="Platform" value=${platformName}
        options=${choices.map((p) => [p.name, p.label])}
        onValue=${(v) => { setPlatformName(v); setCredentials({}); setOptions({}); }} problems=${problems} />
      <${TextField} name="name" label="Store name" value=${name} onValue=${setName} problems=${problems}
        help="How feedsync names it on your profiles." required />
      <${TextField} name="api_url" label="Store address" type="url" value=${url} onValue=${setUrl}
        problems=${problems} help=${`For ${platform.label}: ${platform.hint}`} required />
      <${CredentialFields} names=${platform.credentials} values=${credentials} problems=${problems}
        setValue=${(k, v) => setCredentials({ ...credentials, [k]: v })} />
      <${OptionFields} platform=${platform} schemas=${platforms.options} values=${options} problems=${problems}
        setValue=${(k, v) => setOptions({ ...options, [k]: v })} />
      <div class="actions"><button type="submit" disabled=${busy}>${busy ? "Connecting…" : "Connect store"}</button></div>
      <//>
    </form>
  `;
}

function StoreDetail({ storeId }) {
  const path = `/stores/${encodeURIComponent(storeId)}`;
  const [platforms, setPlatforms] = useState(null);
  const [store, setStore, problem, refresh] = usePolled(() => api.get(path), busy, [storeId]);
  useEffect(() => {
    loadPlatforms().then(setPlatforms, () => setPlatforms({ platforms: [], options: {} }));
  }, []);
  // A change answers the store as it now is (an import asked for is already marked on it);
  // polling then follows it on its usual rhythm.
  const changed = (got) => { setStore(got); setTimeout(refresh, POLL_MS); };

  if (problem && !store) {
    return html`<section><h1>Store</h1><p class="error" role="alert">${problem}</p>
      <p><a href="#/stores">Back to your stores</a></p></section>`;
  }
  if (!store) return html`<section><h1>Store</h1><p>Loading…</p></section>`;
  const known = platforms ? platforms.platforms : [];
  const platform = known.find((p) => p.name === store.platform);
  const [tone] = STATUS[store.status] || ["yellow"];
  const running = importing(store);
  return html`
    <section>
      <p><a href="#/stores">← All stores</a></p>
      <h1>${store.name}</h1>
      <div class=${`card store-status health-${tone}`}>
        <p><${StoreStatus} status=${store.status} /> ${platformLabel(known, store.platform)} · ${store.api_url}</p>
        <${Status} text=${statusSentence(store)} />
        ${problem ? html`<p class="error" role="alert">${problem} (trying again)</p>` : null}
        <dl class="facts">
          <dt>Variants</dt><dd>${count(store.variant_count)}</dd>
          <dt>Last import</dt><dd>${when(store.imported_at)}${store.import_mode ? ` (${store.import_mode.replace("_", " ")})` : ""}</dd>
        </dl>
        ${busy(store) ? html`<progress aria-label="Catalog import"></progress>` : null}
        <div class="actions"><button type="button" class="secondary" onClick=${refresh}>Check Status</button></div>
      </div>
      <${Reimport} path=${path} store=${store} busy=${Boolean(running)} onChanged=${changed} />
      ${platform ? html`<${ReplaceToken} path=${path} store=${store} platform=${platform} onChanged=${changed} />` : null}
      <${Rename} path=${path} store=${store} onChanged=${setStore} />
      <${DeleteStore} path=${path} store=${store} />
    </section>
  `;
}

function Reimport({ path, store, busy: importing, onChanged }) {
  const [mode, setMode] = useState("incremental");
  const [since, setSince] = useState("");
  const [until, setUntil] = useState("");
  const [busy, setBusy] = useState(false);
  const [done, setDone] = useState("");
  const problems = useProblem();
  const submit = async (event) => {
    event.preventDefault();
    problems.clear();
    setDone("");
    const body = { mode };
    if (mode === "by_date") {
      if (!since) return problems.say("since", "Pick the first day to read changes from.");
      body.since = new Date(`${since}T00:00:00`).toISOString();
      if (until) body.until = new Date(`${until}T00:00:00`).toISOString();
    }
    setBusy(true);
    try {
      onChanged(await api.send("POST", `${path}/import`, body));
      setDone("Import started.");
    } catch (error) {
      problems.report(error);
    } finally {
      setBusy(false);
    }
  };
  return html`
    <form class="card" onSubmit=${submit} aria-labelledby="reimport-heading" novalidate>
      <h2 id="reimport-heading">Re-import the catalog</h2>
      <${WriteGate} what="Re-importing">
      <${FormProblem} problems=${problems} />
      <${RadioField} name="mode" legend="What to read" value=${mode} onValue=${setMode} problems=${problems}
        options=${[
          ["incremental", "What changed since the last import", "(quick)"],
          ["by_date", "What changed between two dates"],
          ["full", "The whole catalog", "(slow on large stores)"],
        ]} />
      ${mode === "by_date" ? html`
        <div class="row">
          <${TextField} name="since" label="From" type="date" value=${since} onValue=${setSince} problems=${problems} />
          <${TextField} name="until" label="Until (optional)" type="date" value=${until} onValue=${setUntil} problems=${problems} />
        </div>` : null}
      <div class="actions">
        <button type="submit" disabled=${busy || importing || store.status === "setting_up"}>Re-import</button>
      </div>
      ${importing || store.status === "setting_up" ? html`<p class="help">An import is running: wait for it to finish.</p>` : null}
      <${Status} text=${done} />
      <//>
    </form>
  `;
}

function ReplaceToken({ path, store, platform, onChanged }) {
  const [credentials, setCredentials] = useState({});
  const [busy, setBusy] = useState(false);
  const [sent, setSent] = useState(false);
  const problems = useProblem();
  const rejected = store.error_code === "store_auth_error";
  const submit = async (event) => {
    event.preventDefault();
    problems.clear();
    setBusy(true);
    try {
      onChanged(await api.send("PATCH", path, { credentials: filled(credentials) }));
      setCredentials({});
      setSent(true);
    } catch (error) {
      problems.report(error);
    } finally {
      setBusy(false);
    }
  };
  let outcome = "";
  if (sent && store.status === "setting_up") outcome = "Checking the new token with your store…";
  else if (sent && store.status === "ready") outcome = `New token accepted: ${count(store.variant_count)} variants read.`;
  else if (sent) outcome = `The store refused the new token: ${store.error || "no reason given"}`;
  return html`
    <form class=${`card${rejected ? " health-red" : ""}`} onSubmit=${submit} aria-labelledby="token-heading" novalidate>
      <h2 id="token-heading">Replace the token</h2>
      <p class="help">${rejected
        ? "Your store rejected the saved token. Paste a new one: it is checked with your store at once."
        : "After rotating the token in your store, paste the new one here. The saved one is never shown."}</p>
      <${WriteGate} what="Replacing the token">
      <${FormProblem} problems=${problems} />
      <${CredentialFields} names=${platform.credentials} values=${credentials} problems=${problems}
        setValue=${(k, v) => setCredentials({ ...credentials, [k]: v })} />
      <div class="actions"><button type="submit" disabled=${busy}>Replace token</button></div>
      <${Status} text=${outcome} tone=${sent && store.status === "import_failed" ? "error" : ""} />
      <//>
    </form>
  `;
}

function Rename({ path, store, onChanged }) {
  const [name, setName] = useState(store.name);
  const [saved, setSaved] = useState("");
  const problems = useProblem();
  const submit = async (event) => {
    event.preventDefault();
    problems.clear();
    setSaved("");
    try {
      onChanged(await api.send("PATCH", path, { name }));
      setSaved("Renamed.");
    } catch (error) {
      problems.report(error);
    }
  };
  return html`
    <form class="card" onSubmit=${submit} aria-labelledby="rename-heading" novalidate>
      <h2 id="rename-heading">Rename</h2>
      <${WriteGate} what="Renaming">
      <${FormProblem} problems=${problems} />
      <${TextField} name="name" label="Store name" value=${name} onValue=${setName} problems=${problems} />
      <div class="actions"><button type="submit">Rename</button></div>
      <${Status} text=${saved} />
      <//>
    </form>
  `;
}

// Deleting asks first, naming the store; the API refuses it (409, its words shown in the
// dialog) while profiles sync to it.
function DeleteStore({ path, store }) {
  const [asking, setAsking] = useState(false);
  return html`
    <section class="card" aria-labelledby="delete-store-heading">
      <h2 id="delete-store-heading">Delete this store</h2>
      <p class="help">feedsync forgets the store: its token and its catalog index are removed. The store itself and
        its products are not touched. A store that profiles sync to cannot be deleted.</p>
      <${WriteGate} what="Deleting the store">
        <div class="actions"><button type="button" class="danger" onClick=${() => setAsking(true)}>Delete store</button></div>
      <//>
      <${ConfirmDialog} open=${asking} title="Delete store" labelId="delete-store-title"
        action=${() => api.send("DELETE", path)} onDone=${() => navigate("/stores")} onClose=${() => setAsking(false)}>
        <p>Delete <strong>${store.name}</strong> from feedsync? Its token and catalog index are removed; the store and
          its products stay as they are.</p>
      <//>
    </section>`;
}
