// The workspace's people (owners only): invite by email with a role, change a role, remove.
// The API's refusals (the last owner, someone in another workspace) are shown beside the
// action that met them.
import { html, useEffect, useState } from "../html.js";
import { api, problemText } from "../api.js";
import { when } from "../format.js";
import { ConfirmDialog } from "../components/confirm.js";
import { useMe, useReloadMe } from "../auth/me.js";

export const ROLES = [
  ["viewer", "Viewer: sees everything, changes nothing"],
  ["editor", "Editor: stores, profiles and runs"],
  ["owner", "Owner: everything, with users, keys and the plan"],
];
const STATUS = { invited: "Invited", active: "Active", disabled: "Disabled" };

export function RoleSelect({ id, value, onChange, label = "Role" }) {
  return html`
    <label for=${id}>${label}</label>
    <select id=${id} value=${value} onChange=${(e) => onChange(e.target.value)}>
      ${ROLES.map(([role, words]) => html`<option value=${role}>${words}</option>`)}
    </select>`;
}

function InviteForm({ onInvited }) {
  const [email, setEmail] = useState("");
  const [role, setRole] = useState("editor");
  const [error, setError] = useState(null);
  const [done, setDone] = useState(null);
  const [busy, setBusy] = useState(false);
  const submit = async (event) => {
    event.preventDefault();
    setError(null);
    setDone(null);
    if (!email.trim()) {
      setError("Enter the email address to invite.");
      return;
    }
    setBusy(true);
    try {
      const user = await api.send("POST", "/users", { email: email.trim(), role });
      setDone(`Invited ${user.email} as ${user.role}. They get an email with a temporary password.`);
      setEmail("");
      onInvited();
    } catch (e) {
      setError(problemText(e));
    } finally {
      setBusy(false);
    }
  };
  return html`
    <form class="card" onSubmit=${submit} novalidate>
      <h2>Invite someone</h2>
      <div class="row">
        <div>
          <label for="invite-email">Email</label>
          <input id="invite-email" type="email" value=${email} onInput=${(e) => setEmail(e.target.value)}
            aria-describedby=${error ? "invite-error" : undefined} aria-invalid=${error ? "true" : undefined} />
        </div>
        <div><${RoleSelect} id="invite-role" value=${role} onChange=${setRole} /></div>
      </div>
      ${error && html`<p id="invite-error" class="error" role="alert">${error}</p>`}
      <div class="actions"><button type="submit" disabled=${busy}>${busy ? "Inviting…" : "Send invitation"}</button></div>
      <p class="help" role="status">${done}</p>
    </form>`;
}

function UserRow({ user, self, onChanged, onRemove, removeError }) {
  const [role, setRole] = useState(user.role);
  const [error, setError] = useState(null);
  const [busy, setBusy] = useState(false);
  const errorId = `user-${user.id}-error`;
  const change = async () => {
    setBusy(true);
    setError(null);
    try {
      await api.send("PATCH", `/users/${encodeURIComponent(user.id)}`, { role });
      onChanged();
    } catch (e) {
      setError(problemText(e));
      setRole(user.role); // the select shows the role the user still has
    } finally {
      setBusy(false);
    }
  };
  const problem = error || removeError;
  return html`
    <tr data-user-id=${user.id}>
      <td data-label="Email">${user.email}${self ? " (you)" : ""}</td>
      <td data-label="Role">
        <label class="sr-only" for=${`role-${user.id}`}>Role of ${user.email}</label>
        <select id=${`role-${user.id}`} value=${role} onChange=${(e) => setRole(e.target.value)}
          aria-describedby=${problem ? errorId : undefined}>
          ${ROLES.map(([value]) => html`<option value=${value}>${value}</option>`)}
        </select>
      </td>
      <td data-label="Status">${STATUS[user.status] || user.status}</td>
      <td data-label="Added">${when(user.created_at)}</td>
      <td data-label="Actions"><div>
        <div class="actions tight">
          <button type="button" class="secondary" disabled=${busy || role === user.role} onClick=${change}
            aria-label=${`Change role of ${user.email}`}>Change role</button>
          <button type="button" class="danger" onClick=${() => onRemove(user)}
            aria-label=${`Remove ${user.email}`}>Remove</button>
        </div>
        ${problem && html`<p id=${errorId} class="error" role="alert">${problem}</p>`}
      </div></td>
    </tr>`;
}

export function UsersPage() {
  const me = useMe();
  const reloadMe = useReloadMe();
  const [users, setUsers] = useState(null);
  const [error, setError] = useState(null);
  const [removing, setRemoving] = useState(null);
  const [removeErrors, setRemoveErrors] = useState({});
  const load = () => api.get("/users").then((b) => { setUsers(b.users); setError(null); }, (e) => setError(problemText(e)));
  useEffect(() => { load(); }, []);
  const removed = () => {
    const wasSelf = removing && me && removing.email === me.email;
    setRemoving(null);
    load();
    if (wasSelf) reloadMe();
  };
  return html`
    <section>
      <h1>Users</h1>
      <p class="help">Everyone who can sign in to this workspace, and what they may do.</p>
      ${error && html`<p class="error" role="alert">${error}</p>`}
      ${!users && !error && html`<p>Loading users…</p>`}
      ${users && html`
        <div class="table-scroll"><table class="stack-table">
          <caption class="sr-only">Users of this workspace</caption>
          <thead><tr><th scope="col">Email</th><th scope="col">Role</th><th scope="col">Status</th>
            <th scope="col">Added</th><th scope="col">Actions</th></tr></thead>
          <tbody>${users.map((u) => html`<${UserRow} key=${`${u.id}-${u.role}`} user=${u} self=${me && u.email === me.email}
            onChanged=${load} onRemove=${setRemoving} removeError=${removeErrors[u.id]} />`)}</tbody>
        </table></div>`}
      <${InviteForm} onInvited=${load} />
      <${ConfirmDialog} open=${removing !== null} title="Remove user" labelId="remove-user-title"
        action=${async () => {
          try {
            await api.send("DELETE", `/users/${encodeURIComponent(removing.id)}`);
            setRemoveErrors({ ...removeErrors, [removing.id]: null });
          } catch (e) {
            // Shown beside the user's row as well, where the action was asked for.
            setRemoveErrors({ ...removeErrors, [removing.id]: problemText(e) });
            throw e;
          }
        }}
        onDone=${removed} onClose=${() => setRemoving(null)}>
        ${removing && html`<p>Remove <strong>${removing.email}</strong> from this workspace? Their access ends at once.</p>`}
      <//>
    </section>`;
}
