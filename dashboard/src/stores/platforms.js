// The platforms a store can be connected to, as /openapi.json states them: the names
// POST /stores takes (CreateStore.platform), their labels and address hints
// (CreateStore.api_url's description: "Label: hint; ..."), the credential and option fields
// (StoreCredentials, StoreOptions). Which fields each platform asks for is each platform's
// spec (platforms/*/spec.py: credential_fields, options, required_options), which the
// document does not break down per platform: FIELDS copies it. A platform FIELDS does not
// know yet shows every credential field, so a new one can still be connected. (Whether a
// store's profiles can create products is the store's own `cannot_create`, from the API.)
import { api } from "../api.js";

const FIELDS = {
  bigcommerce: { credentials: ["access_token"], options: ["inventory", "location_id"], required: [] },
  shopify: { credentials: ["access_token"], options: ["location_id"], required: [] },
  woocommerce: { credentials: ["consumer_key", "consumer_secret"], options: [], required: [] },
  amazon: {
    credentials: ["client_id", "client_secret", "refresh_token"],
    options: ["seller_id", "marketplace_id", "token_url"],
    required: ["seller_id", "marketplace_id"],
  },
};

const WORDS = {
  access_token: "Access token",
  consumer_key: "Consumer key",
  consumer_secret: "Consumer secret",
  client_id: "Client ID",
  client_secret: "Client secret",
  refresh_token: "Refresh token",
  inventory: "Write stock",
  location_id: "Stock location ID",
  seller_id: "Seller ID",
  marketplace_id: "Marketplace ID",
  token_url: "Token URL",
};

export function fieldLabel(name, schema) {
  return WORDS[name] || (schema && schema.title) || name.replace(/_/g, " ");
}

let loaded = null;

// [{ name, label, hint, credentials: [...], options: [...], required: [...] }], plus the
// option schemas (enum values, patterns) by name.
export function loadPlatforms() {
  if (!loaded) {
    loaded = api.get("/openapi.json", { key: null }).then((doc) => {
      const schemas = doc.components.schemas;
      const create = schemas.CreateStore.properties;
      const names = create.platform.enum;
      const hints = {};
      for (const part of (create.api_url.description || "").split("; ")) {
        const at = part.indexOf(": ");
        if (at > 0) hints[part.slice(0, at)] = part.slice(at + 2);
      }
      const labels = Object.keys(hints);
      const allCredentials = Object.keys(schemas.StoreCredentials.properties);
      const platforms = names.map((name, i) => {
        const label = labels[i] || name;
        const known = FIELDS[name] || { credentials: allCredentials, options: [], required: [] };
        return { name, label, hint: hints[label] || "", ...known };
      });
      return { platforms, options: schemas.StoreOptions.properties };
    });
    loaded.catch(() => {
      loaded = null; // tried again on the next visit
    });
  }
  return loaded;
}

export function platformLabel(platforms, name) {
  const found = platforms.find((p) => p.name === name);
  return found ? found.label : name;
}
