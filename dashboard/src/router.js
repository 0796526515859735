// Hash routes (#/runs/r-1): the page is one file, so every URL of the dashboard is "/" for
// the server, and no API path is shadowed. A route's params come from its :names.
import { useEffect, useState } from "./html.js";

export function navigate(path) {
  window.location.hash = `#${path}`;
}

export function currentPath() {
  const path = window.location.hash.replace(/^#/, "");
  return path || "/";
}

export function useHashPath() {
  const [path, setPath] = useState(currentPath());
  useEffect(() => {
    const changed = () => setPath(currentPath());
    window.addEventListener("hashchange", changed);
    return () => window.removeEventListener("hashchange", changed);
  }, []);
  return path;
}

export function match(routes, path) {
  const [bare, search = ""] = path.split("?");
  for (const [pattern, page] of routes) {
    const names = [];
    const regex = new RegExp(
      `^${pattern.replace(/:([a-z_]+)/g, (_, name) => (names.push(name), "([^/]+)"))}$`,
    );
    const found = bare.match(regex);
    if (found) {
      const params = Object.fromEntries(names.map((n, i) => [n, decodeURIComponent(found[i + 1])]));
      return { page, params, search: new URLSearchParams(search) };
    }
  }
  return null;
}
