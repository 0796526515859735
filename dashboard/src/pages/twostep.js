// Two-step verification for the signed-in user (Settings): Cognito's software token. The
// secret is shown as text and as an otpauth:// address for an authenticator app (no QR image:
// nothing is drawn or loaded from elsewhere); a code from the app proves it before it is on.
import { html, useEffect, useState } from "../html.js";
import { cognito, cognitoWords } from "../auth/cognito.js";
import { accessToken, bearer } from "../auth/session.js";
import { useMe } from "../auth/me.js";

async function token() {
  await bearer(); // refreshed first when near its end
  return accessToken();
}

export function TwoStepVerification() {
  const me = useMe();
  const [enabled, setEnabled] = useState(null);
  const [secret, setSecret] = useState(null);
  const [code, setCode] = useState("");
  const [error, setError] = useState(null);
  const [done, setDone] = useState(null);
  const [busy, setBusy] = useState(false);
  useEffect(() => {
    token().then((t) => cognito("GetUser", { AccessToken: t })).then(
      (user) => setEnabled((user.UserMFASettingList || []).includes("SOFTWARE_TOKEN_MFA") || user.PreferredMfaSetting === "SOFTWARE_TOKEN_MFA"),
      (e) => setError(cognitoWords(e)),
    );
  }, []);
  const run = (work) => async (event) => {
    if (event) event.preventDefault();
    setError(null);
    setDone(null);
    setBusy(true);
    try {
      await work();
    } catch (e) {
      setError(cognitoWords(e));
    } finally {
      setBusy(false);
    }
  };
  const begin = run(async () => {
    const answer = await cognito("AssociateSoftwareToken", { AccessToken: await token() });
    setSecret(answer.SecretCode);
  });
  const verify = run(async () => {
    if (!code.trim()) throw new Error("Enter the 6-digit code your app shows.");
    await cognito("VerifySoftwareToken", { AccessToken: await token(), UserCode: code.trim(), FriendlyDeviceName: "feedsync" });
    await cognito("SetUserMFAPreference", {
      AccessToken: await token(), SoftwareTokenMfaSettings: { Enabled: true, PreferredMfa: true },
    });
    setSecret(null);
    setCode("");
    setEnabled(true);
    setDone("Two-step verification is on. Each sign-in now asks for a code from your app.");
  });
  const turnOff = run(async () => {
    await cognito("SetUserMFAPreference", {
      AccessToken: await token(), SoftwareTokenMfaSettings: { Enabled: false, PreferredMfa: false },
    });
    setEnabled(false);
    setDone("Two-step verification is off.");
  });
  const label = me && (me.email || me.actor);
  const uri = secret && `otpauth://totp/${encodeURIComponent(`feedsync:${label || "user"}`)}?secret=${secret}&issuer=feedsync`;
  return html`
    <div>
      ${enabled === null && !error && html`<p>Checking…</p>`}
      ${enabled === true && html`
        <p>On: signing in asks for a code from your authenticator app.</p>
        <div class="actions"><button type="button" class="secondary" disabled=${busy} onClick=${turnOff}>Turn off two-step verification</button></div>`}
      ${enabled === false && !secret && html`
        <p>Off. With it on, signing in also asks for a code from an authenticator app on your phone.</p>
        <div class="actions"><button type="button" disabled=${busy} onClick=${begin}>Set up two-step verification</button></div>`}
      ${secret && html`
        <form onSubmit=${verify} novalidate>
          <p>Add feedsync to your authenticator app with this key (or open the address on the phone that has the app):</p>
          <dl class="facts">
            <dt>Key</dt><dd><code class="wrap" id="totp-secret">${secret}</code></dd>
            <dt>Address</dt><dd><code class="wrap" id="totp-uri">${uri}</code></dd>
          </dl>
          <label for="totp-code">Code from your app</label>
          <input id="totp-code" value=${code} inputmode="numeric" autocomplete="one-time-code" onInput=${(e) => setCode(e.target.value)}
            aria-describedby=${error ? "totp-error" : undefined} aria-invalid=${error ? "true" : undefined} />
          <div class="actions"><button type="submit" disabled=${busy}>Turn on</button></div>
        </form>`}
      ${error && html`<p id="totp-error" class="error" role="alert">${error}</p>`}
      <p class="help" role="status">${done}</p>
    </div>`;
}
