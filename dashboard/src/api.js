// The REST API as the pages use it: same origin, the tenant's key from this browser
// session only (sessionStorage: gone when the tab closes; never in a URL).
const KEY_ITEM = "feedsync.apiKey";

export class ApiError extends Error {
  constructor(status, body) {
    super((body && (body.message || body.error)) || `HTTP ${status}`);
    this.status = status;
    this.body = body || {};
  }
}

export function apiKey() {
  return sessionStorage.getItem(KEY_ITEM);
}

export function signIn(key) {
  sessionStorage.setItem(KEY_ITEM, key);
}

export function signOut() {
  sessionStorage.removeItem(KEY_ITEM);
}

let onUnauthorized = () => {};
export function whenUnauthorized(callback) {
  onUnauthorized = callback;
}

async function call(method, path, body, { key = apiKey(), headers = {}, raw = false } = {}) {
  const init = { method, headers: { Accept: "application/json", ...headers } };
  if (key) init.headers.Authorization = `Bearer ${key}`;
  if (body !== undefined) {
    init.headers["Content-Type"] = "application/json";
    init.body = JSON.stringify(body);
  }
  const response = await fetch(path, init);
  if (response.status === 401) {
    onUnauthorized();
    throw new ApiError(401, { message: "Your API key was not accepted. Sign in again." });
  }
  if (raw && response.ok) return response;
  const text = await response.text();
  let parsed = null;
  try {
    parsed = text ? JSON.parse(text) : null;
  } catch {
    parsed = { message: text };
  }
  if (!response.ok) throw new ApiError(response.status, parsed);
  return parsed;
}

// get(path), send(method, path, body, options), and raw GETs for downloads (a Response).
export const api = {
  get: (path, options) => call("GET", path, undefined, options),
  send: (method, path, body, options) => call(method, path, body, options),
  download: (path) => call("GET", path, undefined, { raw: true, headers: { Accept: "text/csv" } }),
};

// Query strings built from an object, skipping empty values.
export function query(params) {
  const entries = Object.entries(params).filter(([, v]) => v !== undefined && v !== null && v !== "");
  return entries.length ? `?${new URLSearchParams(entries).toString()}` : "";
}
