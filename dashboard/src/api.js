// The REST API as the pages use it: same origin, with the credential of this browser session
// only (sessionStorage: gone when the tab closes; never in a URL). The credential is either an
// API key or a signed-in user's Cognito tokens (auth/session.js); both go as `Bearer`.
import { bearer, clearSession, refreshAfterRefusal } from "./auth/session.js";

export { signInWithKey as signIn, clearSession as signOut } from "./auth/session.js";

export class ApiError extends Error {
  constructor(status, body) {
    super((body && (body.message || body.error)) || `HTTP ${status}`);
    this.status = status;
    this.body = body || {};
  }
}

let onUnauthorized = () => {};
export function whenUnauthorized(callback) {
  onUnauthorized = callback;
}

async function send(method, path, body, key, headers) {
  const init = { method, headers: { Accept: "application/json", ...headers } };
  if (key) init.headers.Authorization = `Bearer ${key}`;
  if (body !== undefined) {
    init.headers["Content-Type"] = "application/json";
    init.body = JSON.stringify(body);
  }
  return fetch(path, init);
}

async function call(method, path, body, { key, headers = {}, raw = false } = {}) {
  const given = key !== undefined;
  let response = await send(method, path, body, given ? key : await bearer(), headers);
  // A user's ID token may have expired in the meantime: refreshed once, then asked again.
  if (response.status === 401 && !given && (await refreshAfterRefusal())) {
    response = await send(method, path, body, await bearer(), headers);
  }
  if (response.status === 401) {
    if (!given) {
      clearSession();
      onUnauthorized();
    }
    throw new ApiError(401, { message: "Your sign-in was not accepted. Sign in again." });
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

// A refusal in words: a 403 names the role the action needs ("this needs the editor role").
export function problemText(error) {
  if (error instanceof ApiError && error.status === 403 && error.body.needs) {
    return error.body.message || `This needs the ${error.body.needs} role.`;
  }
  return error instanceof Error ? error.message : String(error);
}

// Query strings built from an object, skipping empty values.
export function query(params) {
  const entries = Object.entries(params).filter(([, v]) => v !== undefined && v !== null && v !== "");
  return entries.length ? `?${new URLSearchParams(entries).toString()}` : "";
}
