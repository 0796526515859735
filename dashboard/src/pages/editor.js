// The profile editor (#/profiles/new, #/profiles/:profile_id/edit): one page of sections
// saved together with POST /profiles or PATCH /profiles/{id}. The file preview feeds the
// column picking; a 422 is shown beside the field it names, with the focus moved there.
import { html, useEffect, useState } from "../html.js";
import { api } from "../api.js";
import { navigate } from "../router.js";
import { CheckField, FormProblem, SelectField, Status, TextField, useProblem } from "../editor/form.js";
import { draftFrom, newDraft, profileBody, pruned, sourceBody } from "../editor/draft.js";
import { SourceSection } from "../editor/source.js";
import { FormatSection, usePreview } from "../editor/preview.js";
import { autoPick, MappingSection } from "../editor/mapping.js";
import { LimitsSection, RulesSection, UpdateSection } from "../editor/settings.js";
import { ScheduleSection } from "../editor/schedule.js";
import { FilePicker, STORED, storeFile, UploadUpdate } from "../editor/upload.js";
import { ConstantFields } from "../editor/constants.js";
import { handOverSecret, LocationField, NotificationsSection, takeSecret } from "../editor/notifications.js";
import { loadPlatforms } from "../stores/platforms.js";
import { CreateSection } from "../editor/create.js";
import { useWriteGate, WriteGate } from "../components/gate.js";
import { ConfirmDialog } from "../components/confirm.js";

const SECRET_SHOWN = "Copy the signing secret under Notifications: it is shown once.";
const STORE_WORDS = { setting_up: "setting up", ready: "ready", import_failed: "import failed" };

export function EditorPage({ params, search }) {
  const profileId = params.profile_id || null;
  const [loaded, setLoaded] = useState(null); // { stores, profiles, profile }
  const [loadProblem, setLoadProblem] = useState("");
  const [draft, setDraft] = useState(null);
  const [secrets, setSecrets] = useState({});
  const [file, setFile] = useState(null); // a new upload profile's first file
  const [saving, setSaving] = useState(false);
  const [saved, setSaved] = useState(search.get("saved") ? "Saved." : "") // the upload's own line says it was stored;
  const [platforms, setPlatforms] = useState([]); // platforms.js: stock locations, create mode
  const [webhookSecret, setWebhookSecret] = useState(""); // shown once, as the API answered it
  const problems = useProblem();
  const preview = usePreview();
  const gate = useWriteGate("editor"); // a viewer reads the settings; the preview is an editor's call too

  useEffect(() => {
    loadPlatforms().then(({ platforms: known }) => setPlatforms(known), () => setPlatforms([]));
  }, []);

  useEffect(() => {
    const wanted = [api.get("/stores"), api.get("/profiles"), profileId ? api.get(`/profiles/${encodeURIComponent(profileId)}`) : null];
    Promise.all(wanted).then(
      ([stores, profiles, profile]) => {
        setLoaded({ stores: stores.stores, profiles: profiles.profiles, profile });
        const handed = profile ? takeSecret(profile.profile_id) : "";
        setWebhookSecret(handed);
        if (handed) setSaved(`Saved. ${SECRET_SHOWN}`);
        const ready = stores.stores.find((s) => s.status === "ready") || stores.stores[0];
        const first = profile ? draftFrom(profile) : newDraft(ready ? ready.store_id : "");
        setDraft(first);
        if (profile && !gate.disabled && (profile.source.type !== "upload" || profile.uploaded_at || profile.pending_upload)) {
          preview.run(previewRequest(first, {}, profileId));
        }
      },
      (error) => setLoadProblem(error.message),
    );
  }, [profileId]);

  const title = profileId ? "Edit settings" : "New profile";
  if (loadProblem) return html`<section><h1>${title}</h1><p class="error" role="alert">${loadProblem}</p></section>`;
  if (!draft) return html`<section><h1>${title}</h1><p>Loading…</p></section>`;

  const profile = loaded.profile;
  const set = (patch) => setDraft((d) => ({ ...d, ...patch }));
  const setSource = (patch, replace = false) => {
    setDraft((d) => ({ ...d, source: replace ? patch : { ...d.source, ...patch } }));
    if (replace) setSecrets({});
  };
  const setSecret = (name, value) => setSecrets((s) => ({ ...s, [name]: value }));

  const runPreview = async () => {
    const answer = await preview.run(previewRequest(draft, secrets, profileId));
    if (answer && (answer.columns || []).length && Object.keys(draft.mapping).length === 0) {
      const picked = autoPick(answer.columns || []);
      const matchBy = picked.sku ? draft.match_by : picked.barcode ? "barcode" : draft.match_by;
      setDraft((d) => ({ ...d, mapping: picked, match_by: matchBy, fields: d.fields.filter((f) => picked[f]) }));
    }
  };
  // A new file stored: the profile shows it waiting, and the preview reads it.
  const stored = async () => {
    const fresh = await api.get(`/profiles/${encodeURIComponent(profileId)}`);
    setLoaded((l) => ({ ...l, profile: fresh }));
    runPreview();
  };
  const cannotPreview = draft.source.type === "upload" && !(profile && (profile.uploaded_at || profile.pending_upload))
    ? "The preview reads the uploaded file: save the profile with its file first."
    : "";

  const save = async (event) => {
    event.preventDefault();
    problems.clear();
    setSaved("");
    setSaving(true);
    try {
      if (!profileId) {
        const created = await api.send("POST", "/profiles", profileBody(draft, secrets));
        handOverSecret(created.profile_id, created.webhook_secret);
        let stored = false;
        if (draft.source.type === "upload" && file) {
          await storeFile(created.profile_id, file);
          stored = true;
        }
        navigate(`/profiles/${encodeURIComponent(created.profile_id)}/edit?saved=${stored ? "stored" : "1"}`);
        return;
      }
      const body = profileBody(draft, secrets, draftFrom(profile));
      if (Object.keys(body).length === 0) {
        setSaved("Nothing changed.");
      } else {
        let updated = await api.send("PATCH", `/profiles/${encodeURIComponent(profileId)}`, body);
        let words = "Saved.";
        if (updated.source.type === "upload" && file && profile.source.type !== "upload") {
          await storeFile(profileId, file);
          updated = await api.get(`/profiles/${encodeURIComponent(profileId)}`);
          words = `Saved. ${STORED}`;
        }
        setLoaded((l) => ({ ...l, profile: updated }));
        if (updated.webhook_secret) {
          setWebhookSecret(updated.webhook_secret);
          words = `${words} ${SECRET_SHOWN}`;
        }
        setDraft(draftFrom(updated));
        setSecrets({});
        setSaved(words);
      }
    } catch (error) {
      problems.report(error);
    } finally {
      setSaving(false);
    }
  };

  const others = loaded.profiles.filter((p) => p.profile_id !== profileId);
  const store = loaded.stores.find((s) => s.store_id === draft.store_id);
  const platform = store ? platforms.find((p) => p.name === store.platform) : null;
  const answer = preview.answer;
  return html`
    <section class="editor">
      <p><a href="#/">← Profiles</a></p>
      <h1>${profileId ? `Edit settings: ${profile.name}` : "New profile"}</h1>
      <form onSubmit=${save} novalidate aria-label=${profileId ? "Profile settings" : "New profile"}>
        <${WriteGate} what=${profileId ? "Changing these settings" : "A new profile"}>
        <${FormProblem} problems=${problems} />
        <section class="card" aria-labelledby="profile-heading">
          <h2 id="profile-heading">Profile</h2>
          <${TextField} name="name" label="Profile name" value=${draft.name} onValue=${(name) => set({ name })}
            problems=${problems} help="For example: Acme stock, hourly." />
          <${SelectField} name="store_id" label="Store" value=${draft.store_id} problems=${problems}
            options=${loaded.stores.length
              ? loaded.stores.map((s) => [s.store_id, `${s.name} (${STORE_WORDS[s.status] || s.status})`])
              : [["", "No store yet: connect one first"]]}
            onValue=${(store_id) => set({ store_id })}
            help=${loaded.stores.length ? undefined : html`<a href="#/stores">Connect a store</a>`} />
          ${profileId ? html`<${CheckField} name="enabled" label="Enabled (runs on its schedule)" checked=${draft.enabled}
            onValue=${(enabled) => set({ enabled })} problems=${problems} />` : null}
        </section>
        <${SourceSection} source=${draft.source} setSource=${setSource} secrets=${secrets} setSecret=${setSecret}
          hasSecret=${Boolean(profile && profile.source.has_credentials && profile.source.type === draft.source.type)}
          problems=${problems} hostKey=${answer && answer.host_key}>
          ${profileId && profile.source.type === "upload"
            ? html`<${UploadUpdate} profile=${profile} initialStatus=${search.get("saved") === "stored" ? STORED : ""}
                onStored=${stored} />`
            : html`<${FilePicker} file=${file} setFile=${setFile} label="File to upload"
                />${profileId ? null : html`<p class="help">It is uploaded when you save the profile.</p>`}`}
        <//>
        <${FormatSection} format=${draft.format} setFormat=${(patch) => set({ format: pruned({ ...draft.format, ...patch }) })}
          preview=${preview} onPreview=${runPreview} problems=${problems} cannotPreview=${cannotPreview} />
        <${MappingSection} columns=${answer && answer.file_name ? answer.columns : null} rows=${answer ? answer.rows : []}
          mapping=${draft.mapping} setMapping=${(mapping) => set({ mapping })} problems=${problems}>
          <${ConstantFields} constants=${draft.constants || {}} setConstants=${(constants) => set({ constants })}
            mapping=${draft.mapping} problems=${problems} />
        <//>
        <${UpdateSection} draft=${draft} set=${set} problems=${problems}>
          <${LocationField} store=${store} hasLocations=${Boolean(platform && platform.options.includes("location_id"))}
            value=${draft.location_id} onValue=${(location_id) => set({ location_id })} problems=${problems} />
        <//>
        <${CreateSection} create=${draft.create} setCreate=${(create) => set({ create })} limits=${draft.limits}
          setLimits=${(limits) => set({ limits })} columns=${answer && answer.file_name ? answer.columns : null}
          cannotCreate=${(store && store.cannot_create) || ""} problems=${problems} />
        <${RulesSection} rules=${draft.rules} setRules=${(rules) => set({ rules })} problems=${problems} />
        <${LimitsSection} limits=${draft.limits} setLimits=${(limits) => set({ limits })} problems=${problems} />
        <${ScheduleSection} schedule=${draft.schedule} setSchedule=${(schedule) => set({ schedule })}
          problems=${problems} profiles=${others} />
        <${NotificationsSection} webhooks=${draft.webhooks || []} setWebhooks=${(webhooks) => set({ webhooks })}
          problems=${problems} profile=${profile} secret=${webhookSecret} setSecret=${setWebhookSecret} />
        <div class="actions sticky-actions">
          <button type="submit" disabled=${saving || gate.disabled}
            aria-describedby=${gate.disabled ? "save-blocked" : undefined}>${saving ? "Saving…" : profileId ? "Save" : "Create profile"}</button>
          <a class="button secondary" href="#/">Back to profiles</a>
          ${gate.disabled ? html`<span class="help role-hint" id="save-blocked">Save ${gate.hint}</span>` : null}
          <${Status} text=${saved} />
        </div>
        <//>
      </form>
      ${profileId ? html`<${DeleteProfile} profile=${profile} />` : null}
    </section>
  `;
}

// Below the form, apart from Save: deleting asks first, naming the profile; the API refuses
// it (409, shown in the dialog) while a run is active.
function DeleteProfile({ profile }) {
  const [asking, setAsking] = useState(false);
  const path = `/profiles/${encodeURIComponent(profile.profile_id)}`;
  return html`
    <section class="card" aria-labelledby="delete-profile-heading">
      <h2 id="delete-profile-heading">Delete this profile</h2>
      <p class="help">It stops syncing for good: its settings, schedule and the source's saved sign-in are removed.
        The store's products keep the values they have.</p>
      <${WriteGate} what="Deleting the profile">
        <div class="actions"><button type="button" class="danger" onClick=${() => setAsking(true)}>Delete profile</button></div>
      <//>
      <${ConfirmDialog} open=${asking} title="Delete profile" labelId="delete-profile-title"
        action=${() => api.send("DELETE", path)} onDone=${() => navigate("/")} onClose=${() => setAsking(false)}>
        <p>Delete <strong>${profile.name}</strong>? It will not run again, and its settings, schedule and the
          source's saved sign-in are removed. The store's products keep the values they have.</p>
      <//>
    </section>`;
}

function previewRequest(draft, secrets, profileId) {
  const request = { source: sourceBody(draft.source, secrets) };
  const format = pruned(draft.format);
  if (Object.keys(format).length) request.format = format;
  if (profileId) request.profile_id = profileId;
  return request;
}
