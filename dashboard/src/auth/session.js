// Who this browser tab is signed in as: an API key, or a user's Cognito tokens. Both live in
// sessionStorage only (gone when the tab closes, never in a URL or a cookie). A user's ID token
// is what the API gets; it is refreshed (REFRESH_TOKEN_AUTH) shortly before it expires, or once
// after the API refuses it; when that fails the session is cleared.
import { clientId, cognito } from "./cognito.js";

export const KEY_ITEM = "feedsync.apiKey";
export const USER_ITEM = "feedsync.user";
const EARLY_MS = 5 * 60 * 1000; // refresh this long before the token's end

function readUser() {
  try {
    return JSON.parse(sessionStorage.getItem(USER_ITEM) || "null");
  } catch {
    return null;
  }
}

export function signInWithKey(key) {
  sessionStorage.removeItem(USER_ITEM);
  sessionStorage.setItem(KEY_ITEM, key);
}

function claims(token) {
  try {
    const part = token.split(".")[1].replace(/-/g, "+").replace(/_/g, "/");
    return JSON.parse(atob(part));
  } catch {
    return {};
  }
}

// Keeps Cognito's AuthenticationResult; a refresh answer has no new refresh token.
export function signInWithTokens(result, previous = readUser()) {
  const user = {
    idToken: result.IdToken,
    accessToken: result.AccessToken,
    refreshToken: result.RefreshToken || (previous && previous.refreshToken),
    expiresAt: Date.now() + Number(result.ExpiresIn || 3600) * 1000,
    email: claims(result.IdToken).email || (previous && previous.email) || null,
  };
  sessionStorage.removeItem(KEY_ITEM);
  sessionStorage.setItem(USER_ITEM, JSON.stringify(user));
  return user;
}

export function clearSession() {
  sessionStorage.removeItem(KEY_ITEM);
  sessionStorage.removeItem(USER_ITEM);
}

export function isSignedIn() {
  return Boolean(sessionStorage.getItem(KEY_ITEM) || readUser());
}

// "user" (Cognito tokens) or "key"; null when signed out.
export function sessionKind() {
  if (readUser()) return "user";
  return sessionStorage.getItem(KEY_ITEM) ? "key" : null;
}

export function accessToken() {
  const user = readUser();
  return user ? user.accessToken : null;
}

let refreshing = null;
async function refresh() {
  const user = readUser();
  if (!user || !user.refreshToken) return false;
  // One refresh at a time: concurrent calls wait for the same answer.
  refreshing = refreshing || (async () => {
    try {
      const answer = await cognito("InitiateAuth", {
        ClientId: await clientId(),
        AuthFlow: "REFRESH_TOKEN_AUTH",
        AuthParameters: { REFRESH_TOKEN: user.refreshToken },
      });
      signInWithTokens(answer.AuthenticationResult, user);
      return true;
    } catch {
      clearSession();
      return false;
    } finally {
      refreshing = null;
    }
  })();
  return refreshing;
}

// The Authorization bearer for the next API call (a user's token refreshed when near its end).
export async function bearer() {
  const key = sessionStorage.getItem(KEY_ITEM);
  if (key) return key;
  let user = readUser();
  if (!user) return null;
  if (user.expiresAt - Date.now() < EARLY_MS) {
    await refresh();
    user = readUser();
  }
  return user ? user.idToken : null;
}

// After a 401: a user's tokens are refreshed once (true: ask again); a key is not retried.
export async function refreshAfterRefusal() {
  return readUser() ? refresh() : false;
}
