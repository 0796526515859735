// What a run writes and how: fields, match by, mode, missing items, store-side edits
// (conflicts), known-bad items, price and stock rules, and the safety limits.
import { html, useState } from "../html.js";
import { CheckField, fieldId, RadioField, SelectField, TextArea, TextField } from "./form.js";
import { FIELD_LABEL, LIMITS, WRITABLE_FIELDS } from "./draft.js";
import { PriceTiers } from "./tiers.js";

// props: draft, set(patch), problems; children: what goes after the fields (the stock location)
export function UpdateSection({ draft, set, problems, children }) {
  const mapped = new Set([...Object.keys(draft.mapping || {}), ...Object.keys(draft.constants || {})]);
  const message = problems.messageFor("fields");
  const toggle = (field, on) => {
    const next = on ? [...draft.fields, field] : draft.fields.filter((f) => f !== field);
    set({ fields: WRITABLE_FIELDS.map(([f]) => f).filter((f) => next.includes(f)) });
  };
  return html`
    <section class="card" aria-labelledby="update-heading">
      <h2 id="update-heading">What to update</h2>
      <fieldset data-field="fields" aria-describedby=${message ? `${fieldId("fields")}-error` : undefined}>
        <legend>Values written to your store</legend>
        ${WRITABLE_FIELDS.map(([field, label], i) => html`
          <div class="field check">
            <input type="checkbox" id=${i === 0 ? fieldId("fields") : fieldId(`fields.${field}`)}
              checked=${draft.fields.includes(field)} onChange=${(e) => toggle(field, e.currentTarget.checked)} />
            <label for=${i === 0 ? fieldId("fields") : fieldId(`fields.${field}`)}>${label}${mapped.has(field) ? "" : " (no column picked)"}</label>
          </div>`)}
        ${message ? html`<p class="error field-error" id=${`${fieldId("fields")}-error`}>${message}</p>` : null}
      </fieldset>
      ${children}
      <${RadioField} name="match_by" legend="Find your products by" value=${draft.match_by} problems=${problems}
        onValue=${(match_by) => set({ match_by })} options=${[
          ["sku", "SKU"], ["barcode", "Barcode (UPC/EAN)"], ["sku_then_barcode", "SKU, then barcode"],
        ]} />
      <${RadioField} name="mode" legend="Each run sends" value=${draft.mode} problems=${problems}
        onValue=${(mode) => set({ mode })} options=${[
          ["partial", "Only what changed", "(usual)"], ["full", "Every matched item"],
        ]} />
      <${RadioField} name="missing" legend="Products your file no longer lists" value=${draft.missing} problems=${problems}
        onValue=${(missing) => set({ missing })} options=${[
          ["ignore", "Leave them as they are"], ["zero_stock", "Set their stock to 0"],
          ["disable", "Hide them until the file lists them again"],
        ]} />
      <${ConflictFields} draft=${draft} set=${set} problems=${problems} />
      <${RadioField} name="known_bad" legend="Items your store refused before, unchanged" value=${draft.known_bad}
        problems=${problems} onValue=${(known_bad) => set({ known_bad })} options=${[
          ["isolate", "Send them apart, so they cannot hold up the others"],
          ["skip", "Skip them and log the reason"],
        ]} />
    </section>
  `;
}

// Per written field: a value changed in the store since feedsync wrote it stays, or not.
function ConflictFields({ draft, set, problems }) {
  const conflicts = draft.conflicts || {};
  const change = (field, value) => {
    const next = { ...conflicts };
    if (value) next[field] = value;
    else delete next[field];
    set({ conflicts: next });
  };
  const fields = draft.fields.filter((f) => f !== "stock");
  return html`
    <fieldset data-field="conflicts">
      <legend>When a value was changed in your store since feedsync wrote it</legend>
      <p class="help">Stock always follows the file (orders move it all the time).</p>
      ${fields.map((field) => html`
        <${SelectField} name=${`conflicts.${field}`} label=${FIELD_LABEL[field]} value=${conflicts[field] || ""}
          options=${[["", "Keep the store's value (default)"], ["store_wins", "Keep the store's value"], ["feed_wins", "Write the file's value"]]}
          onValue=${(v) => change(field, v)} problems=${problems} />`)}
    </fieldset>
  `;
}

const ROUNDINGS = [["", "No rounding"], ["0.99", "Ends in .99"], ["0.95", "Ends in .95"], ["0.05", "To 0.05"], ["1", "Whole amounts"]];

function stockWordsText(words) {
  return Object.entries(words || {}).map(([word, qty]) => `${word} = ${qty}`).join("\n");
}

// "in stock = 100" lines -> {"in stock": "100"}; the API checks the numbers.
function stockWords(text) {
  const words = {};
  for (const line of text.split("\n")) {
    const at = line.lastIndexOf("=");
    if (at > 0) words[line.slice(0, at).trim()] = line.slice(at + 1).trim();
  }
  return Object.keys(words).length ? words : undefined;
}

// The words typed as they are (a half-typed line is not lost); the rule gets the parsed ones.
function StockWords({ words, onWords, problems }) {
  const [text, setText] = useState(stockWordsText(words));
  return html`<${TextArea} name="rules.stock_rules.text" label="Words in the stock column" rows="3"
    value=${text} onValue=${(v) => { setText(v); onWords(stockWords(v)); }} problems=${problems}
    help="One per line, as word = quantity, for example: in stock = 100" />`;
}

// props: rules, setRules(next), problems
export function RulesSection({ rules, setRules, problems }) {
  const price = rules.price_rules || {};
  const stock = rules.stock_rules || {};
  const setPrice = (patch) => setRules({ ...rules, price_rules: { ...price, ...patch } });
  const setStock = (patch) => setRules({ ...rules, stock_rules: { ...stock, ...patch } });
  const applyTo = price.apply_to || ["price"];
  return html`
    <section class="card" aria-labelledby="rules-heading">
      <h2 id="rules-heading">Price and stock rules</h2>
      <fieldset data-field="rules.price_rules">
        <legend>Prices from the file</legend>
        <div class="row">
          <${TextField} name="rules.price_rules.currency_factor" label="Multiply by (currency)" inputmode="decimal"
            value=${price.currency_factor} onValue=${(v) => setPrice({ currency_factor: v })} problems=${problems} help="For example 1.08" />
          <${TextField} name="rules.price_rules.markup_percent" label="Mark up by (%)" inputmode="decimal"
            value=${price.markup_percent} onValue=${(v) => setPrice({ markup_percent: v })} problems=${problems} />
          <${TextField} name="rules.price_rules.add" label="Then add" inputmode="decimal"
            value=${price.add} onValue=${(v) => setPrice({ add: v })} problems=${problems} />
        </div>
        <div class="row">
          <${SelectField} name="rules.price_rules.round" label="Round" value=${price.round === "none" ? "" : price.round || ""}
            options=${ROUNDINGS} onValue=${(v) => setPrice({ round: v })} problems=${problems} />
          <${TextField} name="rules.price_rules.min" label="Never below" inputmode="decimal"
            value=${price.min} onValue=${(v) => setPrice({ min: v })} problems=${problems} />
          <${TextField} name="rules.price_rules.max" label="Never above" inputmode="decimal"
            value=${price.max} onValue=${(v) => setPrice({ max: v })} problems=${problems} />
        </div>
        <${PriceTiers} price=${price} setPrice=${setPrice} problems=${problems} />
        <fieldset data-field="rules.price_rules.apply_to">
          <legend>Apply the price rules to</legend>
          ${[["price", "Price"], ["sale_price", "Sale price"], ["retail_price", "Retail price"]].map(([field, label]) => html`
            <${CheckField} name=${`rules.price_rules.apply_to.${field}`} label=${label} checked=${applyTo.includes(field)}
              onValue=${(on) => setPrice({ apply_to: on ? [...applyTo, field] : applyTo.filter((f) => f !== field) })} />`)}
        </fieldset>
      </fieldset>
      <fieldset data-field="rules.stock_rules">
        <legend>Stock from the file</legend>
        <div class="row">
          <${TextField} name="rules.stock_rules.buffer" label="Keep back (buffer)" type="number" min="0"
            value=${stock.buffer} onValue=${(v) => setStock({ buffer: v })} problems=${problems} />
          <${TextField} name="rules.stock_rules.zero_below" label="Show 0 below" type="number" min="0"
            value=${stock.zero_below} onValue=${(v) => setStock({ zero_below: v })} problems=${problems} />
          <${TextField} name="rules.stock_rules.cap" label="Never more than" type="number" min="0"
            value=${stock.cap} onValue=${(v) => setStock({ cap: v })} problems=${problems} />
        </div>
        <${SelectField} name="rules.stock_rules.greater_than_as" label="Read “>10” or “10+” as"
          value=${stock.greater_than_as || ""} options=${[["", "10 (default)"], ["value", "10"], ["value+1", "11"]]}
          onValue=${(v) => setStock({ greater_than_as: v })} problems=${problems} />
        <${StockWords} words=${stock.text} onWords=${(text) => setStock({ text })} problems=${problems} />
      </fieldset>
      <${CheckField} name="rules.sku_case_insensitive" label="Match SKUs ignoring upper and lower case"
        checked=${rules.sku_case_insensitive} onValue=${(v) => setRules({ ...rules, sku_case_insensitive: v || undefined })} problems=${problems} />
      <${CheckField} name="rules.validate_barcodes" label="Skip rows whose barcode is not a valid UPC/EAN"
        checked=${rules.validate_barcodes !== false} onValue=${(v) => setRules({ ...rules, validate_barcodes: v ? undefined : false })} problems=${problems} />
    </section>
  `;
}

const LIMIT_WORDS = {
  max_changed_share: "Changed items (% of matched)",
  max_price_change_pct: "Price change (%)",
  max_zero_stock_share: "Going out of stock (% of matched)",
  min_rows_share: "Rows (% of the last file)",
};

function shown(kind, value) {
  if (value === null || value === undefined) return "";
  return kind === "share" ? String(Math.round(value * 1000) / 10) : String(value);
}

// props: limits, setLimits(next), problems
export function LimitsSection({ limits, setLimits, problems }) {
  return html`
    <section class="card" aria-labelledby="limits-heading">
      <h2 id="limits-heading">Safety limits</h2>
      <p class="help">A run over a limit is held: nothing is written until you look at it and apply it.</p>
      ${LIMITS.map(([name, label, kind, fallback]) => {
        const value = limits[name];
        const on = value !== null && value !== undefined;
        return html`
          <div class="limit">
            <${CheckField} name=${`limits.${name}.on`} label=${label}
              checked=${on} onValue=${(v) => setLimits({ ...limits, [name]: v ? fallback : null })} />
            ${on ? html`<${TextField} name=${`limits.${name}`} label=${LIMIT_WORDS[name]}
              type="number" min="0" max=${kind === "share" ? 100 : undefined} step="any" value=${shown(kind, value)}
              onValue=${(v) => setLimits({ ...limits, [name]: v === "" ? fallback : kind === "share" ? Number(v) / 100 : Number(v) })}
              problems=${problems} />` : null}
          </div>`;
      })}
    </section>
  `;
}
