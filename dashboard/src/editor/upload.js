// Upload profiles: Update stores a new file without starting (POST upload-url with
// {"start": false}, then PUT the file where it says, with the headers it names); Start then
// syncs it (seed 000: "Upload the new file, click Update, then click Start").
import { html, useRef, useState } from "../html.js";
import { api } from "../api.js";
import { navigate } from "../router.js";
import { when } from "../format.js";
import { fieldId, problemFrom, Status } from "./form.js";

export const STORED = "Stored. Click Start to sync it.";

const RECORD_POLL_MS = 500;
const RECORD_WAIT_MS = 30000;

function pendingMark(profile) {
  const pending = profile && profile.pending_upload;
  return pending ? `${pending.key}|${pending.uploaded_at}` : "";
}

// Stores `file` as the profile's next file; resolves once the profile records it as the
// file waiting for Start. The PUT lands in S3 first and the profile learns of it from S3's
// event a moment later: a Start in between would sync the previous file.
export async function storeFile(profileId, file, { onStage = () => {} } = {}) {
  const path = `/profiles/${encodeURIComponent(profileId)}`;
  const before = pendingMark(await api.get(path));
  const target = await api.send("POST", `${path}/upload-url`, {
    file_name: file.name.slice(-100),
    start: false,
  });
  onStage("Uploading…");
  const response = await fetch(target.upload_url, {
    method: target.method || "PUT",
    headers: target.headers || {},
    body: file,
  });
  if (!response.ok) {
    throw new Error(`the file was not stored (the upload answered ${response.status}); try again`);
  }
  onStage("Uploaded; recording it on the profile…");
  const deadline = Date.now() + RECORD_WAIT_MS;
  for (;;) {
    const profile = await api.get(path);
    const mark = pendingMark(profile);
    if (mark && mark !== before && profile.pending_upload.key === target.key) return target;
    if (Date.now() > deadline) {
      throw new Error("the file was uploaded but the profile has not recorded it yet; wait a minute and reload before you click Start");
    }
    await new Promise((resolve) => setTimeout(resolve, RECORD_POLL_MS));
  }
}

export function FilePicker({ file, setFile, label = "File to upload" }) {
  const id = fieldId("upload.file");
  return html`
    <div class="field" data-field="upload.file">
      <label for=${id}>${label}</label>
      <input id=${id} type="file" accept=".csv,.txt,.tsv,.xlsx,.xls,.json,.jsonl,.xml,.zip,.gz"
        aria-describedby=${`${id}-help`} onChange=${(e) => setFile(e.currentTarget.files[0] || null)} />
      <p class="help" id=${`${id}-help`}>${file ? `${file.name}, ${file.size.toLocaleString()} bytes` : "CSV, Excel, JSON or XML, up to your plan's rows."}</p>
    </div>
  `;
}

function pendingText(profile) {
  const pending = profile.pending_upload;
  if (pending) {
    const name = pending.file_name || (pending.key || "").split("/").pop();
    return `Waiting to sync: ${name}, stored ${when(pending.uploaded_at)}. Click Start to sync it.`;
  }
  if (profile.uploaded_at) return `Last file uploaded ${when(profile.uploaded_at)}.`;
  return "No file uploaded yet.";
}

// An existing upload profile: Update (store the file), then Start.
export function UploadUpdate({ profile, onStored, initialStatus = "" }) {
  const [file, setFile] = useState(null);
  const [busy, setBusy] = useState(false);
  const [status, setStatus] = useState(initialStatus);
  const [problem, setProblem] = useState("");
  const [confirming, setConfirming] = useState(false);
  const okButton = useRef(null);
  const startButton = useRef(null);
  const update = async () => {
    setProblem("");
    if (!file) {
      setProblem("Choose the file to upload first.");
      document.getElementById(fieldId("upload.file")).focus();
      return;
    }
    setBusy(true);
    setStatus("Uploading…");
    try {
      await storeFile(profile.profile_id, file, { onStage: setStatus });
      setStatus(STORED);
      if (onStored) onStored();
    } catch (error) {
      setStatus("");
      setProblem(problemFrom(error).message);
    } finally {
      setBusy(false);
    }
  };
  const ask = () => {
    setConfirming(true);
    requestAnimationFrame(() => okButton.current && okButton.current.focus());
  };
  const cancel = () => {
    setConfirming(false);
    requestAnimationFrame(() => startButton.current && startButton.current.focus());
  };
  const start = async () => {
    setProblem("");
    try {
      const run = await api.send("POST", `/profiles/${encodeURIComponent(profile.profile_id)}/runs`, {}, {
        headers: { "Idempotency-Key": `editor-${profile.profile_id}-${Date.now()}` },
      });
      navigate(`/runs/${encodeURIComponent(run.run_id)}`);
    } catch (error) {
      setConfirming(false);
      setProblem(problemFrom(error).message);
    }
  };
  return html`
    <div class="upload-update">
      <p>${pendingText(profile)}</p>
      <${FilePicker} file=${file} setFile=${setFile} label="New file" />
      <div class="actions">
        <button type="button" onClick=${update} disabled=${busy}>Update</button>
        <button type="button" class="secondary" ref=${startButton} onClick=${ask} disabled=${busy}>Start</button>
      </div>
      ${confirming ? html`
        <div class="notice confirm" role="group" aria-labelledby="start-confirm-text">
          <p id="start-confirm-text">This may take a few minutes depending on your product count.</p>
          <div class="actions">
            <button type="button" ref=${okButton} onClick=${start}>OK</button>
            <button type="button" class="secondary" onClick=${cancel}>Cancel</button>
          </div>
        </div>` : null}
      <${Status} text=${status} />
      ${problem ? html`<p class="error" role="alert">${problem}</p>` : null}
    </div>
  `;
}
