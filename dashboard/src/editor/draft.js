// A profile as the editor holds it (a "draft") and the bodies POST /profiles and
// PATCH /profiles/{id} take. Secrets live apart from the draft: typed ones are sent, empty
// ones are left out, so the stored secret stays (the API never shows it back).

// Every field a file's column can feed (models: ProfileSettings.mapping, CANONICAL_FIELDS).
export const CANONICAL_FIELDS = [
  ["sku", "SKU"],
  ["barcode", "Barcode (UPC/EAN)"],
  ["price", "Price"],
  ["sale_price", "Sale price"],
  ["retail_price", "Retail price"],
  ["cost_price", "Cost price"],
  ["stock", "Stock"],
  ["name", "Product name"],
  ["description", "Description"],
  ["brand", "Brand"],
  ["weight", "Weight"],
  ["image_url", "Image URL"],
];
export const WRITABLE_FIELDS = CANONICAL_FIELDS.slice(2);
export const FIELD_LABEL = Object.fromEntries(CANONICAL_FIELDS);
// The models' own caps (models/limits.py PRICE_TIERS_MAX, models/notifications.py WEBHOOKS_MAX).
export const PRICE_TIERS_MAX = 100;
export const WEBHOOKS_MAX = 5;
// models/create.py OPTIONS_MAX; models/review.py SafetyLimits.max_created's default.
export const OPTIONS_MAX = 10;
export const MAX_CREATED = 1000;

// The safety limits (SafetyLimits): shares shown as percentages.
export const LIMITS = [
  ["max_changed_share", "Hold the run when more than this share of matched items change", "share", 0.5],
  ["max_price_change_pct", "Hold the run when a price moves by more than", "percent", 50],
  ["max_zero_stock_share", "Hold the run when more than this share of items go out of stock", "share", 0.3],
  ["min_rows_share", "Hold the run when the file has fewer rows than this share of the last one", "share", 0.5],
];

export function newDraft(storeId = "") {
  return {
    name: "",
    store_id: storeId,
    source: { type: "url", url: "" },
    format: { type: "auto" },
    mapping: {},
    constants: {},
    match_by: "sku",
    fields: ["price", "stock"],
    mode: "partial",
    schedule: { type: "manual" },
    rules: {},
    missing: "ignore",
    known_bad: "isolate",
    conflicts: {},
    limits: { ...Object.fromEntries(LIMITS.map(([name, , , value]) => [name, value])), max_created: MAX_CREATED },
    enabled: true,
    location_id: null,
    webhooks: [],
    create: newCreate(),
  };
}

// Create mode as the editor holds it: options as rows (name, column), so a half-typed row
// and the order typed survive; off, hidden and ungrouped by default (models/create.py).
export function newCreate() {
  return { enabled: false, visible: false, category: "", group: "", options: [] };
}

const EDITABLE = [
  "name", "store_id", "source", "format", "mapping", "constants", "match_by", "fields", "mode",
  "schedule", "rules", "missing", "known_bad", "conflicts", "limits", "enabled", "location_id",
  "webhooks", "create",
];

// A profile from the API -> a draft (what the view adds is left out).
export function draftFrom(profile) {
  const draft = newDraft();
  for (const key of EDITABLE) if (profile[key] !== undefined && profile[key] !== null) draft[key] = clone(profile[key]);
  const { has_credentials: _shown, ...source } = draft.source;
  draft.source = source;
  draft.limits = { ...Object.fromEntries(LIMITS.map(([name]) => [name, null])), ...(profile.limits || {}) };
  draft.create = createDraft(profile.create);
  return draft;
}

export function clone(value) {
  return value === undefined ? undefined : JSON.parse(JSON.stringify(value));
}

// Drops empty strings, nulls and empty objects, so the models' defaults apply.
export function pruned(value) {
  if (Array.isArray(value)) return value.map(pruned);
  if (value && typeof value === "object") {
    const out = {};
    for (const [key, item] of Object.entries(value)) {
      const kept = pruned(item);
      if (kept === "" || kept === null || kept === undefined) continue;
      if (typeof kept === "object" && !Array.isArray(kept) && Object.keys(kept).length === 0) continue;
      out[key] = kept;
    }
    return out;
  }
  return value;
}

// The source as the API takes it: only the keys its type has, secrets only when typed.
export function sourceBody(source, secrets) {
  const keys = {
    url: ["url", "auth"],
    ftp: ["host", "port", "path", "username"],
    ftps: ["host", "port", "path", "username", "tls"],
    sftp: ["host", "port", "path", "username", "host_key_fingerprint"],
    upload: [],
  }[source.type] || [];
  const body = { type: source.type };
  for (const key of keys) {
    if (source[key] === undefined || source[key] === "" || source[key] === null) continue;
    body[key] = key === "port" ? Number(source[key]) : key === "auth" ? pruned(source.auth) : source[key];
  }
  if (body.auth && !body.auth.type) delete body.auth;
  if (body.auth) {
    // The model takes username only for basic auth, name only for a header or query.
    if (body.auth.type !== "basic") delete body.auth.username;
    if (!["header", "query"].includes(body.auth.type)) delete body.auth.name;
  }
  const credentials = pruned({ password: secrets.password, private_key: secrets.private_key, token: secrets.token });
  if (Object.keys(credentials).length && source.type !== "upload") body.credentials = credentials;
  return body;
}

// The whole body (POST) or what changed (PATCH): limits always whole, so a rule switched
// off (null) is sent as null.
export function profileBody(draft, secrets, original = null) {
  const body = {
    name: draft.name,
    store_id: draft.store_id,
    source: sourceBody(draft.source, secrets),
    format: pruned(draft.format),
    mapping: pruned(draft.mapping),
    constants: pruned(draft.constants),
    match_by: draft.match_by,
    fields: draft.fields,
    mode: draft.mode,
    schedule: scheduleBody(draft.schedule),
    rules: rulesBody(draft.rules),
    missing: draft.missing,
    known_bad: draft.known_bad,
    conflicts: pruned(draft.conflicts),
    limits: draft.limits,
    enabled: draft.enabled,
    location_id: draft.location_id || null,
    webhooks: webhooksBody(draft.webhooks || []),
    create: createBody(draft.create),
  };
  if (!original) return body;
  // What changed against the profile as loaded, both in body form (nulls and empties pruned).
  const before = profileBody(original, {});
  const changed = {};
  for (const [key, value] of Object.entries(body)) {
    if (JSON.stringify(value) !== JSON.stringify(before[key])) changed[key] = value;
  }
  return changed;
}

// A profile's `create` (absent on older profiles: off) -> the editor's.
export function createDraft(create) {
  const c = create || {};
  return {
    enabled: Boolean(c.enabled),
    visible: Boolean(c.visible),
    category: c.category || "",
    group: c.group || "",
    options: Object.entries(c.options || {}).map(([name, column]) => ({ name, column })),
  };
}

// `create` is sent whole (the API replaces it): empty text is null, a wholly empty option
// row is dropped; a half-filled one is sent, so the API names what it lacks.
export function createBody(create) {
  const c = create || newCreate();
  const options = {};
  for (const { name = "", column = "" } of c.options || []) {
    if (name.trim() === "" && column.trim() === "") continue;
    options[name.trim()] = column.trim();
  }
  return {
    enabled: Boolean(c.enabled),
    visible: Boolean(c.visible),
    category: (c.category || "").trim() || null,
    group: (c.group || "").trim() || null,
    options,
  };
}

// Price tiers left wholly empty are dropped (an empty row is not "from 0, no markup"); with
// no tier left, no tier basis either.
export function rulesBody(rules) {
  const price = (rules && rules.price_rules) || {};
  const tiers = (price.tiers || []).filter((t) => Object.keys(pruned(t)).length);
  const { tiers: _all, tiers_by: tiersBy, ...rest } = price;
  const kept = tiers.length ? { ...rest, tiers, tiers_by: tiersBy } : rest;
  return pruned({ ...rules, price_rules: kept });
}

// Webhooks with an address; a row added and left empty is not sent.
export function webhooksBody(webhooks) {
  return webhooks.filter((w) => (w.url || "").trim() !== "").map((w) => ({ url: w.url.trim(), events: w.events || [] }));
}

export function scheduleBody(schedule) {
  const keys = {
    interval: ["every_minutes", "anchor", "timezone", "blackouts"],
    automatic: ["every_minutes", "anchor", "timezone", "blackouts"],
    daily: ["at", "timezone", "blackouts"],
    cron: ["expression", "timezone", "blackouts"],
    after: ["profile_id"],
    default: [],
    manual: [],
  }[schedule.type] || [];
  const body = { type: schedule.type };
  for (const key of keys) {
    const value = schedule[key];
    if (value === undefined || value === null || value === "") continue;
    if (key === "blackouts") {
      if (!value.length) continue;
      body.blackouts = value.map((w) => pruned({ start: w.start, end: w.end, weekdays: w.weekdays && w.weekdays.length ? w.weekdays : null }));
    } else {
      body[key] = key === "every_minutes" ? Number(value) : value;
    }
  }
  return body;
}
