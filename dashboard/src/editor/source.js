// Where the supplier's file comes from: a URL (with its auth), FTP/FTPS, SFTP (with the
// server's host key), or an upload. Secrets are typed, never shown back.
import { html } from "../html.js";
import { RadioField, SelectField, TextArea, TextField } from "./form.js";

const KINDS = [
  ["url", "Remote URL"],
  ["ftp", "FTP"],
  ["ftps", "FTPS (FTP over TLS)"],
  ["sftp", "SFTP"],
  ["upload", "File upload"],
];

const AUTH = [
  ["", "None"],
  ["basic", "User name and password"],
  ["bearer", "Bearer token"],
  ["header", "A header with a key"],
  ["query", "A key in the address"],
];

// props: source, setSource(patch), secrets, setSecret(name, value), hasSecret, problems,
// hostKey (the preview's {fingerprint, pinned} | null)
export function SourceSection(props) {
  const { source, setSource, problems } = props;
  const change = (type) => {
    const kept = ["ftp", "ftps", "sftp"].includes(type) && ["ftp", "ftps", "sftp"].includes(source.type)
      ? { host: source.host, path: source.path, username: source.username }
      : {};
    setSource({ type, ...kept }, true);
  };
  return html`
    <section class="card" aria-labelledby="source-heading">
      <h2 id="source-heading">Supplier file</h2>
      <${RadioField} name="source.type" legend="Where the file comes from" value=${source.type}
        options=${KINDS} onValue=${change} problems=${problems} />
      ${source.type === "url" ? html`<${UrlFields} ...${props} />` : null}
      ${["ftp", "ftps", "sftp"].includes(source.type) ? html`<${ServerFields} ...${props} />` : null}
      ${source.type === "upload" ? props.children : null}
    </section>
  `;
}

function SecretField({ name, label, secrets, setSecret, hasSecret, problems, help, multiline }) {
  const key = name.split(".").pop();
  const kept = hasSecret ? "Leave empty to keep the saved one." : "";
  const helpText = [help, kept].filter(Boolean).join(" ");
  const Input = multiline ? TextArea : TextField;
  return html`<${Input} name=${name} label=${label} type=${multiline ? undefined : "password"} autocomplete="new-password"
    value=${secrets[key] || ""} onValue=${(v) => setSecret(key, v)} problems=${problems}
    help=${helpText || undefined} rows=${multiline ? 4 : undefined} />`;
}

function UrlFields({ source, setSource, problems, ...rest }) {
  const auth = source.auth || {};
  const setAuth = (patch) => setSource({ auth: { ...auth, ...patch } });
  return html`
    <${TextField} name="source.url" label="File address (URL)" type="url" value=${source.url}
      onValue=${(url) => setSource({ url })} problems=${problems} placeholder="https://supplier.example/stock.csv" />
    <${SelectField} name="source.auth.type" label="Sign-in" value=${auth.type || ""} options=${AUTH}
      onValue=${(type) => setAuth({ type: type || undefined })} problems=${problems} />
    ${auth.type === "basic" ? html`
      <${TextField} name="source.auth.username" label="User name" value=${auth.username}
        onValue=${(username) => setAuth({ username })} problems=${problems} autocomplete="off" />
      <${SecretField} name="source.credentials.password" label="Password" problems=${problems} ...${rest} />` : null}
    ${auth.type === "header" || auth.type === "query" ? html`
      <${TextField} name="source.auth.name" label=${auth.type === "header" ? "Header name" : "Parameter name"}
        value=${auth.name} onValue=${(name) => setAuth({ name })} problems=${problems} />` : null}
    ${["bearer", "header", "query"].includes(auth.type) ? html`
      <${SecretField} name="source.credentials.token" label="Key or token" problems=${problems} ...${rest} />` : null}
  `;
}

function ServerFields({ source, setSource, problems, hostKey, ...rest }) {
  const sftp = source.type === "sftp";
  return html`
    <div class="row">
      <${TextField} name="source.host" label="Server" value=${source.host} onValue=${(host) => setSource({ host })}
        problems=${problems} placeholder="feeds.supplier.example" autocomplete="off" />
      <${TextField} name="source.port" label="Port" type="number" min="1" max="65535" value=${source.port}
        onValue=${(port) => setSource({ port: port === "" ? undefined : port })} problems=${problems}
        help=${sftp ? "Leave empty for 22." : "Leave empty for the usual port."} />
    </div>
    <${TextField} name="source.path" label="File path" value=${source.path} onValue=${(path) => setSource({ path })}
      problems=${problems} help="A file, or a pattern such as /out/stock_*.csv: the newest match is read." />
    <${TextField} name="source.username" label="User name" value=${source.username}
      onValue=${(username) => setSource({ username })} problems=${problems} autocomplete="off"
      help=${sftp ? undefined : "Leave empty to sign in as anonymous."} />
    ${source.type === "ftps" ? html`
      <${SelectField} name="source.tls" label="TLS" value=${source.tls || "explicit"}
        options=${[["explicit", "Explicit (AUTH TLS, usual)"], ["implicit", "Implicit (port 990)"]]}
        onValue=${(tls) => setSource({ tls })} problems=${problems} />` : null}
    <${SecretField} name="source.credentials.password" label="Password" problems=${problems} ...${rest} />
    ${sftp ? html`
      <${SecretField} name="source.credentials.private_key" label="Private key (instead of a password)"
        multiline help="PEM text, as in id_ed25519." problems=${problems} ...${rest} />
      <${HostKey} source=${source} setSource=${setSource} problems=${problems} hostKey=${hostKey} />` : null}
  `;
}

// The server's host key: typed, or pinned from what the server presented to the preview.
function HostKey({ source, setSource, problems, hostKey }) {
  const presented = hostKey && hostKey.fingerprint;
  const pinned = presented && presented === source.host_key_fingerprint;
  return html`
    <${TextField} name="source.host_key_fingerprint" label="Server's host key (SHA256 fingerprint)"
      value=${source.host_key_fingerprint} onValue=${(v) => setSource({ host_key_fingerprint: v })}
      problems=${problems} placeholder="SHA256:…" autocomplete="off"
      help="feedsync only talks to the server with this key. Preview the file to see the key the server presents." />
    ${presented ? html`
      <div class="notice host-key" role="status">
        <p>The server presented the key <code>${presented}</code>${pinned ? " (pinned)." : "."}</p>
        ${pinned ? null : html`<p class="help">Check it with your supplier before you pin it.</p>
          <button type="button" class="secondary" onClick=${() => setSource({ host_key_fingerprint: presented })}>Pin this key</button>`}
      </div>` : null}
  `;
}
