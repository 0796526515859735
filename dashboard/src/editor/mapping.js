// Mapping by picking columns: for each field feedsync knows, a column of the previewed
// file (with its first values beside it), picked ahead by the column's name.
import { html } from "../html.js";
import { fieldId } from "./form.js";
import { CANONICAL_FIELDS } from "./draft.js";

// Column names (lower case, letters and digits only) each field is recognised by.
const NAMES = {
  sku: ["sku", "itemcode", "articlenumber", "artnr", "productcode", "partnumber", "itemnumber", "code", "ref", "reference"],
  barcode: ["barcode", "upc", "ean", "gtin", "ean13", "upccode", "eancode", "isbn"],
  price: ["price", "unitprice", "sellprice", "sellingprice", "ourprice", "saleprice1"],
  sale_price: ["saleprice", "specialprice", "promoprice", "offerprice"],
  retail_price: ["retailprice", "rrp", "msrp", "listprice", "retail"],
  cost_price: ["costprice", "cost", "wholesale", "wholesaleprice", "netprice", "buyprice"],
  stock: ["stock", "qty", "quantity", "inventory", "available", "onhand", "stocklevel", "inventorylevel", "instock", "stockqty"],
  name: ["name", "title", "productname", "itemname"],
  description: ["description", "longdescription", "desc", "details"],
  brand: ["brand", "manufacturer", "vendor", "make"],
  weight: ["weight", "weightkg", "weightlb", "shippingweight"],
  image_url: ["imageurl", "image", "picture", "photo", "imagelink", "img"],
};

const normal = (text) => String(text).toLowerCase().replace(/[^a-z0-9]+/g, "");

// {field: column} for the fields whose column can be told by its name; each column once.
export function autoPick(columns) {
  const picked = {};
  const used = new Set();
  const tries = [(n, s) => n === s, (n, s) => s.length > 3 && n.includes(s)];
  for (const test of tries) {
    for (const [field] of CANONICAL_FIELDS) {
      if (picked[field]) continue;
      const found = columns.find((c) => !used.has(c) && NAMES[field].some((s) => test(normal(c), s)));
      if (found !== undefined) {
        picked[field] = found;
        used.add(found);
      }
    }
  }
  return picked;
}

function samples(rows, columns, column) {
  const at = columns.indexOf(column);
  if (at < 0) return "";
  const values = rows
    .map((row) => (Array.isArray(row) ? row[at] : row[column]))
    .filter((v) => v !== undefined && v !== null && v !== "")
    .slice(0, 3);
  return values.length ? values.join(", ") : "(empty in the first rows)";
}

// props: columns (null: no preview yet), rows, mapping, setMapping(next), problems;
// children: what goes beside the columns (the fixed values)
export function MappingSection({ columns, rows, mapping, setMapping, problems, children }) {
  const message = problems.messageFor("mapping");
  const pick = (field, column) => {
    const next = { ...mapping };
    if (column) next[field] = column;
    else delete next[field];
    setMapping(next);
  };
  return html`
    <section class="card" aria-labelledby="mapping-heading">
      <h2 id="mapping-heading">Columns</h2>
      <p class="help">${columns
        ? "Pick the column of your file that holds each value. Leave a value out if the file has none."
        : "Preview the file to pick its columns from a list. Until then, type the column names."}</p>
      <div class="mapping" data-field="mapping" role="group" aria-labelledby="mapping-heading"
        aria-describedby=${message ? `${fieldId("mapping")}-error` : undefined}>
        ${CANONICAL_FIELDS.map(([field, label], i) => {
          const id = i === 0 ? fieldId("mapping") : fieldId(`mapping.${field}`);
          const value = mapping[field] || "";
          const known = columns || [];
          const options = value && !known.includes(value) ? [...known, value] : known;
          return html`
            <label for=${id}>${label}</label>
            ${columns
              ? html`<select id=${id} data-field=${`mapping.${field}`} value=${value}
                  aria-describedby=${value ? `${id}-samples` : undefined}
                  onChange=${(e) => pick(field, e.currentTarget.value)}>
                  <option value="" selected=${!value}>— not in the file —</option>
                  ${options.map((c) => html`<option value=${c} selected=${c === value}>${c}</option>`)}
                </select>`
              : html`<input id=${id} data-field=${`mapping.${field}`} value=${value}
                  onInput=${(e) => pick(field, e.currentTarget.value)} />`}
            <span class="samples" id=${`${id}-samples`}>${columns && value ? samples(rows || [], columns, value) : ""}</span>`;
        })}
      </div>
      ${message ? html`<p class="error field-error" id=${`${fieldId("mapping")}-error`}>${message}</p>` : null}
      ${children}
    </section>
  `;
}
