// Cognito's JSON API, called straight from the browser: a POST per action to the endpoint
// `GET /auth/config` names (cognito-idp.<region>.amazonaws.com on AWS, moto locally). The app
// client has no secret, so no SDK is needed: each action is one fetch.
let config = null;

export class CognitoError extends Error {
  constructor(type, message) {
    super(message || type || "Cognito did not answer");
    this.type = type;
  }
}

// Asked once per page load; the API answers it without a credential.
export async function authConfig() {
  if (!config) {
    const response = await fetch("/auth/config", { headers: { Accept: "application/json" } });
    if (!response.ok) throw new CognitoError("ConfigUnavailable", `Sign-in is not set up here (HTTP ${response.status}).`);
    config = await response.json();
  }
  return config;
}

export async function cognito(action, body) {
  const { cognito_endpoint: endpoint } = await authConfig();
  let response;
  try {
    response = await fetch(endpoint, {
      method: "POST",
      headers: {
        "Content-Type": "application/x-amz-json-1.1",
        "X-Amz-Target": `AWSCognitoIdentityProviderService.${action}`,
      },
      body: JSON.stringify(body),
    });
  } catch (err) {
    throw new CognitoError("NetworkError", `Could not reach the sign-in service: ${err.message}`);
  }
  const parsed = await response.json().catch(() => ({}));
  if (!response.ok) {
    // AWS may prefix the type with its namespace ("...#NotAuthorizedException").
    const type = String(parsed.__type || "").split("#").pop();
    throw new CognitoError(type, parsed.message || parsed.Message);
  }
  return parsed;
}

export async function clientId() {
  return (await authConfig()).client_id;
}

// What a person reads for Cognito's refusals; anything else is shown in Cognito's own words.
const WORDS = {
  NotAuthorizedException: "Incorrect email or password.",
  UserNotFoundException: "Incorrect email or password.",
  CodeMismatchException: "That code is not right. Check it and try again.",
  ExpiredCodeException: "That code has expired. Ask for a new one.",
  UsernameExistsException: "An account with this email already exists. Sign in, or reset your password.",
  LimitExceededException: "Too many attempts. Wait a few minutes and try again.",
  TooManyRequestsException: "Too many attempts. Wait a few minutes and try again.",
  EnableSoftwareTokenMFAException: "That code is not right. Check your authenticator app and try again.",
};

export function cognitoWords(error) {
  if (error instanceof CognitoError) {
    if (error.type === "InvalidPasswordException" || error.type === "InvalidParameterException") return error.message;
    return WORDS[error.type] || error.message;
  }
  return error instanceof Error ? error.message : String(error);
}
