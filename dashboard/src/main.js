// The dashboard's shell: sign-in gate, navigation, and the route table. Each page is one
// module under pages/ exporting a component that takes { params, search }.
import { html, render, useEffect, useState } from "./html.js";
import { apiKey, signOut, whenUnauthorized } from "./api.js";
import { match, navigate, useHashPath } from "./router.js";
import { SignIn } from "./pages/signin.js";
import { ProfilesPage } from "./pages/profiles.js";
import { RunPage } from "./pages/run.js";
import { HistoryPage } from "./pages/history.js";
import { EditorPage } from "./pages/editor.js";
import { StoresPage } from "./pages/stores.js";
import { SettingsPage } from "./pages/settings.js";

export const ROUTES = [
  ["/", ProfilesPage],
  ["/profiles/new", EditorPage],
  ["/profiles/:profile_id/edit", EditorPage],
  ["/profiles/:profile_id/runs", HistoryPage],
  ["/runs/:run_id", RunPage],
  ["/stores", StoresPage],
  ["/stores/:store_id", StoresPage],
  ["/settings", SettingsPage],
];

const NAV = [
  ["/", "Profiles"],
  ["/stores", "Stores"],
  ["/settings", "Settings"],
];

function NotFound() {
  return html`<section><h1>Page not found</h1><p><a href="#/">Back to your profiles</a></p></section>`;
}

function App() {
  const path = useHashPath();
  const [signedIn, setSignedIn] = useState(Boolean(apiKey()));
  // A key the API no longer takes (revoked, rotated) is dropped, not kept for the next tab.
  useEffect(() => whenUnauthorized(() => { signOut(); setSignedIn(false); }), []);
  useEffect(() => {
    // Each page names itself in its h1; move focus there so screen readers announce it.
    const heading = document.querySelector("main h1");
    if (heading) {
      heading.setAttribute("tabindex", "-1");
      heading.focus({ preventScroll: true });
    }
  }, [path, signedIn]);

  if (!signedIn) {
    return html`<main id="main"><${SignIn} onSignedIn=${() => setSignedIn(true)} /></main>`;
  }
  const found = match(ROUTES, path);
  const Page = found ? found.page : NotFound;
  const section = "/" + (path.split("/")[1] || "");
  return html`
    <a class="skip-link" href="#main" onClick=${(e) => { e.preventDefault(); document.getElementById("main").focus(); }}>Skip to content</a>
    <header class="topbar">
      <span class="brand">feedsync</span>
      <nav aria-label="Main">
        <ul>
          ${NAV.map(([href, label]) => {
            const active = href === "/" ? section === "/" || section === "/profiles" || section === "/runs" : section === href;
            return html`<li><a href=${`#${href}`} aria-current=${active ? "page" : undefined}>${label}</a></li>`;
          })}
        </ul>
      </nav>
      <button type="button" class="link" onClick=${() => { signOut(); setSignedIn(false); navigate("/"); }}>Sign out</button>
    </header>
    <main id="main" tabindex="-1">
      <${Page} key=${path} params=${found ? found.params : {}} search=${found ? found.search : new URLSearchParams()} />
    </main>
  `;
}

const root = document.getElementById("app");
root.textContent = ""; // the "Loading" line the page shows until this script runs
render(html`<${App} />`, root);
