// The dashboard's shell: sign-in gate, workspace creation, navigation by role, and the route
// table. Each page is one module under pages/ exporting a component that takes { params, search }.
import { html, render, useCallback, useEffect, useState } from "./html.js";
import { api, ApiError, signOut, whenUnauthorized } from "./api.js";
import { isSignedIn } from "./auth/session.js";
import { MeContext } from "./auth/me.js";
import { match, navigate, useHashPath } from "./router.js";
import { SignIn } from "./pages/signin.js";
import { ProfilesPage } from "./pages/profiles.js";
import { RunPage } from "./pages/run.js";
import { HistoryPage } from "./pages/history.js";
import { EditorPage } from "./pages/editor.js";
import { StoresPage } from "./pages/stores.js";
import { SettingsPage } from "./pages/settings.js";
import { WorkspacePage } from "./pages/workspace.js";
import { UsersPage } from "./pages/users.js";
import { ApiKeysPage } from "./pages/apikeys.js";
import { AuditPage } from "./pages/audit.js";

export const ROUTES = [
  ["/", ProfilesPage],
  ["/profiles/new", EditorPage],
  ["/profiles/:profile_id/edit", EditorPage],
  ["/profiles/:profile_id/runs", HistoryPage],
  ["/runs/:run_id", RunPage],
  ["/stores", StoresPage],
  ["/stores/:store_id", StoresPage],
  ["/settings", SettingsPage],
  ["/users", UsersPage],
  ["/api-keys", ApiKeysPage],
  ["/audit", AuditPage],
];

const NAV = [
  ["/", "Profiles"],
  ["/stores", "Stores"],
  ["/settings", "Settings"],
];
// Offered to owners only (the API answers anyone else 403).
const OWNER_NAV = [
  ["/users", "Users"],
  ["/api-keys", "API keys"],
  ["/audit", "Audit"],
];

function NotFound() {
  return html`<section><h1>Page not found</h1><p><a href="#/">Back to your profiles</a></p></section>`;
}

function App() {
  const path = useHashPath();
  const [signedIn, setSignedIn] = useState(isSignedIn());
  const [me, setMe] = useState(null);
  // A key or token the API no longer takes (revoked, expired past refreshing) is dropped.
  useEffect(() => whenUnauthorized(() => { signOut(); setMe(null); setSignedIn(false); }), []);
  const reload = useCallback(async () => {
    try {
      setMe(await api.get("/me"));
    } catch (e) {
      // Without an answer the role is unknown: the pages stay usable and the API decides.
      if (!(e instanceof ApiError && e.status === 401)) setMe({ role: null, tenant_id: undefined, failed: e.message });
    }
  }, []);
  useEffect(() => {
    if (signedIn) reload();
  }, [signedIn]);
  useEffect(() => {
    // Each page names itself in its h1; move focus there so screen readers announce it.
    const heading = document.querySelector("main h1");
    if (heading) {
      heading.setAttribute("tabindex", "-1");
      heading.focus({ preventScroll: true });
    }
  }, [path, signedIn, me === null, me && me.tenant_id === null]);

  if (!signedIn) {
    return html`<main id="main"><${SignIn} onSignedIn=${() => setSignedIn(true)} /></main>`;
  }
  const leave = () => { signOut(); setMe(null); setSignedIn(false); navigate("/"); };
  if (me === null) return html`<main id="main"><p class="loading">Loading feedsync…</p></main>`;
  if (me.tenant_id === null) {
    return html`<main id="main"><${WorkspacePage} me=${me} onCreated=${() => { navigate("/"); reload(); }} onSignOut=${leave} /></main>`;
  }
  const nav = me.role === "owner" ? [...NAV, ...OWNER_NAV] : NAV;
  const found = match(ROUTES, path);
  const Page = found ? found.page : NotFound;
  const section = "/" + (path.split("/")[1] || "");
  return html`<${MeContext.Provider} value=${{ me, reload }}>
    <a class="skip-link" href="#main" onClick=${(e) => { e.preventDefault(); document.getElementById("main").focus(); }}>Skip to content</a>
    <header class="topbar">
      <span class="brand">feedsync</span>
      <nav aria-label="Main">
        <ul>
          ${nav.map(([href, label]) => {
            const active = href === "/" ? section === "/" || section === "/profiles" || section === "/runs" : section === href;
            return html`<li><a href=${`#${href}`} aria-current=${active ? "page" : undefined}>${label}</a></li>`;
          })}
        </ul>
      </nav>
      <div class="account">
        ${me.actor && html`<span class="who">${me.actor}${me.role ? html` <span class="role">(${me.role})</span>` : null}</span>`}
        <button type="button" class="link" onClick=${leave}>Sign out</button>
      </div>
    </header>
    <main id="main" tabindex="-1">
      <${Page} key=${path} params=${found ? found.params : {}} search=${found ? found.search : new URLSearchParams()} />
    </main>
  <//>`;
}

const root = document.getElementById("app");
root.textContent = ""; // the "Loading" line the page shows until this script runs
render(html`<${App} />`, root);
