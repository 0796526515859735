// Signing in: email and password against Cognito (with its two challenges: a new password on
// an invited user's first sign-in, and a code from an authenticator app), creating an account
// and confirming its email, resetting a forgotten password, and the API key as a second way.
// No form ever submits (nothing in a URL or a server log); tokens and keys stay in this tab.
import { html, useState } from "../html.js";
import { api, ApiError, signIn } from "../api.js";
import { clientId, cognito, cognitoWords, CognitoError } from "../auth/cognito.js";
import { signInWithTokens } from "../auth/session.js";

// The user pool's PasswordPolicy (template.yaml); Cognito's own refusal is shown word for word.
const PASSWORD_HELP = "At least 12 characters, with upper- and lower-case letters and a number.";

function Field({ id, label, type = "text", value, onInput, autocomplete, help, error, inputmode }) {
  const described = [error ? `${id}-error` : null, help ? `${id}-help` : null].filter(Boolean).join(" ") || undefined;
  return html`
    <label for=${id}>${label}</label>
    <input id=${id} name=${id} type=${type} value=${value} autocomplete=${autocomplete} inputmode=${inputmode}
      onInput=${(e) => onInput(e.target.value)} aria-describedby=${described} aria-invalid=${error ? "true" : undefined} />
    ${help && html`<p id=${`${id}-help`} class="help">${help}</p>`}`;
}

function Problem({ id, text }) {
  return text ? html`<p id=${id} class="error" role="alert">${text}</p>` : null;
}

// One step's form: its heading, fields, the submit button and links to other steps.
function Step({ title, onSubmit, busy, button, busyButton, error, note, children, links }) {
  return html`
    <section class="signin">
      <h1>${title}</h1>
      ${note && html`<p class="notice" role="status">${note}</p>`}
      <form onSubmit=${onSubmit} novalidate>
        ${children}
        <${Problem} id="signin-error" text=${error} />
        <button type="submit" disabled=${busy}>${busy ? busyButton : button}</button>
      </form>
      ${links && html`<ul class="signin-links">${links.map(([label, go]) => html`
        <li><button type="button" class="link" onClick=${go}>${label}</button></li>`)}</ul>`}
    </section>`;
}

function KeySignIn({ onSignedIn, back }) {
  const [key, setKey] = useState("");
  const [error, setError] = useState(null);
  const [busy, setBusy] = useState(false);
  async function submit(event) {
    event.preventDefault();
    setError(null);
    const trimmed = key.trim();
    if (!trimmed) {
      setError("Enter your API key.");
      return;
    }
    setBusy(true);
    try {
      await api.get("/plan", { key: trimmed });
      signIn(trimmed);
      onSignedIn();
    } catch (err) {
      setError(err instanceof ApiError && err.status === 401
        ? "That API key was not accepted. Check it and try again."
        : `Could not reach feedsync: ${err.message}`);
    } finally {
      setBusy(false);
    }
  }
  return html`
    <${Step} title="Sign in with an API key" onSubmit=${submit} busy=${busy} button="Sign in" busyButton="Signing in…"
      error=${error} links=${[["Sign in with email and password", back]]}>
      <label for="api-key">API key</label>
      <input id="api-key" name="api-key" type="password" autocomplete="current-password"
        value=${key} onInput=${(e) => setKey(e.target.value)}
        aria-describedby=${error ? "signin-error" : "api-key-help"} aria-invalid=${error ? "true" : undefined} />
      <p id="api-key-help" class="help">Your key stays in this browser tab until you sign out or close it.</p>
    <//>`;
}

export function SignIn({ onSignedIn }) {
  const [step, setStep] = useState("signin");
  const [email, setEmail] = useState("");
  const [password, setPassword] = useState("");
  const [repeat, setRepeat] = useState("");
  const [code, setCode] = useState("");
  const [challenge, setChallenge] = useState(null); // { name, session, username }
  const [error, setError] = useState(null);
  const [note, setNote] = useState(null);
  const [busy, setBusy] = useState(false);

  const go = (next, message = null) => () => {
    setStep(next);
    setError(null);
    setNote(message);
    setCode("");
    setPassword("");
    setRepeat("");
  };

  // Runs one Cognito exchange with the form busy and its refusal shown in words.
  const attempt = (work) => async (event) => {
    event.preventDefault();
    setError(null);
    setBusy(true);
    try {
      await work();
    } catch (err) {
      if (err instanceof CognitoError && err.type === "UserNotConfirmedException") {
        go("confirm", "Your email is not confirmed yet. Enter the code we sent you, or ask for a new one.")();
      } else {
        setError(cognitoWords(err));
      }
    } finally {
      setBusy(false);
    }
  };

  const finished = (answer) => {
    if (answer.AuthenticationResult) {
      signInWithTokens(answer.AuthenticationResult);
      onSignedIn();
      return;
    }
    const name = answer.ChallengeName;
    const username = (answer.ChallengeParameters && (answer.ChallengeParameters.USER_ID_FOR_SRP || answer.ChallengeParameters.USERNAME)) || email.trim();
    setChallenge({ name, session: answer.Session, username });
    if (name === "NEW_PASSWORD_REQUIRED") go("new-password", "Welcome! Choose your own password to finish signing in.")();
    else if (name === "SOFTWARE_TOKEN_MFA") go("mfa")();
    else setError(`This sign-in asks for ${name}, which this page cannot answer.`);
  };

  const need = (value, message) => {
    if (!value.trim()) throw new Error(message);
  };

  const signInWithPassword = attempt(async () => {
    need(email, "Enter your email.");
    need(password, "Enter your password.");
    finished(await cognito("InitiateAuth", {
      ClientId: await clientId(),
      AuthFlow: "USER_PASSWORD_AUTH",
      AuthParameters: { USERNAME: email.trim(), PASSWORD: password },
    }));
  });

  const respond = async (responses) => {
    finished(await cognito("RespondToAuthChallenge", {
      ClientId: await clientId(),
      ChallengeName: challenge.name,
      Session: challenge.session,
      ChallengeResponses: { USERNAME: challenge.username, ...responses },
    }));
  };

  const samePasswords = () => {
    need(password, "Enter a password.");
    if (password !== repeat) throw new Error("The two passwords are not the same.");
  };

  const signUp = attempt(async () => {
    need(email, "Enter your email.");
    samePasswords();
    await cognito("SignUp", {
      ClientId: await clientId(),
      Username: email.trim(),
      Password: password,
      UserAttributes: [{ Name: "email", Value: email.trim() }],
    });
    go("confirm", `We sent a confirmation code to ${email.trim()}.`)();
  });

  const confirm = attempt(async () => {
    need(code, "Enter the code from the email.");
    await cognito("ConfirmSignUp", { ClientId: await clientId(), Username: email.trim(), ConfirmationCode: code.trim() });
    go("signin", "Your email is confirmed. Sign in with your password.")();
  });

  const resend = async () => {
    setError(null);
    try {
      await cognito("ResendConfirmationCode", { ClientId: await clientId(), Username: email.trim() });
      setNote(`We sent a new code to ${email.trim()}.`);
    } catch (err) {
      setError(cognitoWords(err));
    }
  };

  const forgot = attempt(async () => {
    need(email, "Enter your email.");
    await cognito("ForgotPassword", { ClientId: await clientId(), Username: email.trim() });
    go("reset", `If ${email.trim()} has an account, we sent it a code to reset the password.`)();
  });

  const reset = attempt(async () => {
    need(code, "Enter the code from the email.");
    samePasswords();
    await cognito("ConfirmForgotPassword", {
      ClientId: await clientId(), Username: email.trim(), ConfirmationCode: code.trim(), Password: password,
    });
    go("signin", "Your password is changed. Sign in with the new one.")();
  });

  const common = { busy, error, note };
  const emailField = html`<${Field} id="email" label="Email" type="email" value=${email} onInput=${setEmail} autocomplete="username" />`;
  const codeField = (label, help) => html`<${Field} id="code" label=${label} value=${code} onInput=${setCode}
    autocomplete="one-time-code" inputmode="numeric" help=${help} />`;
  const newPassword = html`
    <${Field} id="new-password" label="New password" type="password" value=${password} onInput=${setPassword}
      autocomplete="new-password" help=${PASSWORD_HELP} />
    <${Field} id="repeat-password" label="New password again" type="password" value=${repeat} onInput=${setRepeat}
      autocomplete="new-password" />`;

  switch (step) {
    case "key":
      return html`<${KeySignIn} onSignedIn=${onSignedIn} back=${go("signin")} />`;
    case "new-password":
      return html`<${Step} title="Choose a new password" ...${common} button="Set password and sign in" busyButton="Signing in…"
        onSubmit=${attempt(async () => { samePasswords(); await respond({ NEW_PASSWORD: password }); })}
        links=${[["Back to sign in", go("signin")]]}>${newPassword}<//>`;
    case "mfa":
      return html`<${Step} title="Enter your sign-in code" ...${common} button="Verify" busyButton="Checking…"
        onSubmit=${attempt(async () => { need(code, "Enter the code."); await respond({ SOFTWARE_TOKEN_MFA_CODE: code.trim() }); })} links=${[["Back to sign in", go("signin")]]}>
        ${codeField("Code from your authenticator app", "The 6 digits your app shows for feedsync now.")}<//>`;
    case "signup":
      return html`<${Step} title="Create your account" ...${common} button="Create account" busyButton="Creating…"
        onSubmit=${signUp} links=${[["I already have an account", go("signin")]]}>
        ${emailField}
        <${Field} id="new-password" label="Password" type="password" value=${password} onInput=${setPassword}
          autocomplete="new-password" help=${PASSWORD_HELP} />
        <${Field} id="repeat-password" label="Password again" type="password" value=${repeat} onInput=${setRepeat}
          autocomplete="new-password" /><//>`;
    case "confirm":
      return html`<${Step} title="Confirm your email" ...${common} button="Confirm" busyButton="Confirming…"
        onSubmit=${confirm} links=${[["Send a new code", resend], ["Back to sign in", go("signin")]]}>
        ${emailField}${codeField("Confirmation code", "From the email we sent when you signed up.")}<//>`;
    case "forgot":
      return html`<${Step} title="Reset your password" ...${common} button="Send a reset code" busyButton="Sending…"
        onSubmit=${forgot} links=${[["Back to sign in", go("signin")]]}>${emailField}<//>`;
    case "reset":
      return html`<${Step} title="Choose a new password" ...${common} button="Change password" busyButton="Changing…"
        onSubmit=${reset} links=${[["Send the code again", forgot], ["Back to sign in", go("signin")]]}>
        ${codeField("Reset code", "From the email we just sent.")}${newPassword}<//>`;
    default:
      return html`<${Step} title="Sign in to feedsync" ...${common} button="Sign in" busyButton="Signing in…"
        onSubmit=${signInWithPassword}
        links=${[["Forgot your password?", go("forgot")], ["Create an account", go("signup")], ["Sign in with an API key", go("key")]]}>
        ${emailField}
        <${Field} id="password" label="Password" type="password" value=${password} onInput=${setPassword} autocomplete="current-password" />
        <p class="help">You stay signed in on this browser tab until you sign out or close it.</p><//>`;
  }
}
