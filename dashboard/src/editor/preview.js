// The file's format, and a preview of its first rows as feedsync reads them
// (POST /file-preview): what was detected, the columns the mapping picks from.
import { html, useEffect, useRef, useState } from "../html.js";
import { api } from "../api.js";
import { problemFrom, SelectField, Status, TextField } from "./form.js";

export const PREVIEW_ROWS = 20;

const TYPES = [
  ["auto", "Detect it"], ["csv", "CSV or text"], ["xlsx", "Excel (.xlsx)"], ["xls", "Excel 97-2003 (.xls)"],
  ["json", "JSON"], ["jsonl", "JSON lines"], ["xml", "XML"],
];
const DELIMITERS = [["", "Detect it"], [",", "Comma ( , )"], [";", "Semicolon ( ; )"], ["tab", "Tab"], ["|", "Pipe ( | )"]];
const ENCODINGS = [["", "Detect it"], ["utf-8", "UTF-8"], ["windows-1252", "Windows (Western)"], ["latin-1", "Latin-1"], ["utf-16", "UTF-16"]];
const DECIMALS = [["", "A point: 1234.50"], [",", "A comma: 1.234,50"]];

// The preview's state, kept by the editor: { loading, answer, problem, run(request) }.
export function usePreview() {
  const [state, setState] = useState({ loading: false, answer: null, problem: null });
  const latest = useRef(0);
  const run = async (request) => {
    const ticket = ++latest.current;
    setState((s) => ({ ...s, loading: true, problem: null }));
    try {
      const answer = await api.send("POST", "/file-preview", { ...request, rows: PREVIEW_ROWS });
      if (ticket === latest.current) setState({ loading: false, answer, problem: null });
      return answer;
    } catch (error) {
      if (ticket === latest.current) setState((s) => ({ loading: false, answer: s.answer, problem: problemFrom(error) }));
      return null;
    }
  };
  return { ...state, run };
}

function delimiterWord(value) {
  if (value === "\t" || value === "tab") return "tab";
  return value ? `“${value}”` : "none";
}

function Detected({ detected, fileName, size }) {
  if (!detected) return null;
  const items = [
    ["File", `${fileName}${size !== undefined && size !== null ? ` (${size.toLocaleString()} bytes)` : ""}`],
    ["Format", detected.format],
    ["Encoding", detected.encoding],
    ["Delimiter", detected.delimiter !== undefined && detected.delimiter !== null ? delimiterWord(detected.delimiter) : null],
    ["Header row", detected.header_row === 0 ? "none" : detected.header_row],
    ["Sheet", detected.sheet],
  ].filter(([, v]) => v !== undefined && v !== null && v !== "");
  return html`<ul class="detected" aria-label="What feedsync detected">
    ${items.map(([k, v]) => html`<li><strong>${k}:</strong> ${String(v)}</li>`)}
  </ul>`;
}

// props: format, setFormat(patch), preview (usePreview), onPreview(), problems, canPreview
// (false: why not, as text)
export function FormatSection({ format, setFormat, preview, onPreview, problems, cannotPreview }) {
  const answer = preview.answer;
  const detected = (answer && answer.detected) || {};
  const kind = format.type && format.type !== "auto" ? format.type : detected.format || "auto";
  const sheets = detected.sheets || [];
  const first = useRef(true);
  // A changed format is previewed again at once (once there is a preview to redo).
  useEffect(() => {
    if (first.current) { first.current = false; return undefined; }
    if (!answer) return undefined;
    const timer = setTimeout(onPreview, 400);
    return () => clearTimeout(timer);
  }, [JSON.stringify(format)]);
  return html`
    <section class="card" aria-labelledby="format-heading">
      <h2 id="format-heading">File format and preview</h2>
      <div class="row">
        <${SelectField} name="format.type" label="Format" value=${format.type || "auto"} options=${TYPES}
          onValue=${(type) => setFormat({ type })} problems=${problems} />
        ${kind === "csv" || kind === "auto" ? html`
          <${SelectField} name="format.delimiter" label="Delimiter" value=${format.delimiter || ""} options=${DELIMITERS}
            onValue=${(delimiter) => setFormat({ delimiter })} problems=${problems} />
          <${SelectField} name="format.encoding" label="Encoding" value=${format.encoding || ""} options=${ENCODINGS}
            onValue=${(encoding) => setFormat({ encoding })} problems=${problems} />` : null}
        ${(kind === "xlsx" || kind === "xls") ? html`
          <${SelectField} name="format.sheet" label="Sheet" value=${format.sheet ?? ""}
            options=${[["", "The first sheet"], ...sheets.map((s) => [String(s), String(s)])]}
            onValue=${(sheet) => setFormat({ sheet })} problems=${problems} />` : null}
        ${["csv", "auto", "xlsx", "xls"].includes(kind) ? html`
          <${TextField} name="format.header_row" label="Header row" type="number" min="0"
            value=${format.header_row ?? ""} onValue=${(v) => setFormat({ header_row: v === "" ? undefined : Number(v) })}
            problems=${problems} help="1 for the first line; 0 if the file has no header. Empty: detect it." />` : null}
        ${["json", "jsonl", "xml"].includes(kind) ? html`
          <${TextField} name="format.record_path" label="Where the items are" value=${format.record_path}
            onValue=${(record_path) => setFormat({ record_path })} problems=${problems}
            help=${kind === "xml" ? "For example catalog/item. Empty: detect it." : "For example data.items. Empty: detect it."} />` : null}
        ${["csv", "auto", "xml"].includes(kind) ? html`
          <${SelectField} name="format.decimal_separator" label="Amounts are written with" value=${format.decimal_separator || ""}
            options=${DECIMALS} onValue=${(decimal_separator) => setFormat({ decimal_separator })} problems=${problems} />` : null}
      </div>
      <div class="actions">
        <button type="button" class="secondary" onClick=${onPreview} disabled=${preview.loading || Boolean(cannotPreview)}>
          ${answer ? "Preview again" : "Preview file"}</button>
      </div>
      ${cannotPreview ? html`<p class="help">${cannotPreview}</p>` : null}
      <${Status} text=${preview.loading ? "Reading the file…" : preview.problem ? `The file could not be previewed: ${preview.problem.message}` : ""}
        tone=${preview.problem ? "error" : ""} />
      ${answer && answer.message && !preview.problem ? html`<p class="notice">${answer.host_key && !answer.host_key.pinned
        ? "The server's key is not pinned yet: check it under Supplier file, pin it, then click Preview again."
        : answer.message}</p>` : null}
      ${answer && answer.file_name ? html`
        <${Detected} detected=${answer.detected} fileName=${answer.file_name} size=${answer.size} />
        <${PreviewTable} answer=${answer} />` : null}
    </section>
  `;
}

function PreviewTable({ answer }) {
  const columns = answer.columns || [];
  const rows = answer.rows || [];
  return html`
    <div class="table-scroll" tabindex="0" role="region" aria-labelledby="preview-caption">
      <table class="preview-table">
        <caption id="preview-caption" class="caption">First ${rows.length} rows of ${answer.file_name}</caption>
        <thead><tr>${columns.map((c) => html`<th scope="col">${c}</th>`)}</tr></thead>
        <tbody>${rows.map((row) => html`<tr>${columns.map((_, i) => html`<td>${row[i] ?? ""}</td>`)}</tr>`)}</tbody>
      </table>
    </div>
  `;
}
