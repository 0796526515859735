// Fixed values (ProfileSettings.constants): a value the file has no column for, the same on
// every row (every item's stock is 10, the brand is Acme). The API refuses a field with both
// a column and a fixed value, and a value its field cannot take, naming the field first
// ("constants: stock: expected a whole number"): form.js sends it to that field's input.
import { html } from "../html.js";
import { TextField } from "./form.js";
import { WRITABLE_FIELDS } from "./draft.js";

const EXAMPLES = {
  price: "19.99", sale_price: "17.99", retail_price: "24.99", cost_price: "9.50", stock: "10",
  brand: "Acme", weight: "0.5",
};

// props: constants, setConstants(next), mapping, problems
export function ConstantFields({ constants, setConstants, mapping, problems }) {
  const change = (field, value) => {
    const next = { ...constants };
    if (value === "") delete next[field];
    else next[field] = value;
    setConstants(next);
  };
  return html`
    <fieldset class="constants" data-field="constants" aria-describedby="constants-help">
      <legend>Fixed values</legend>
      <p class="help" id="constants-help">For a value your file has no column for: the same on every row.
        A value with a column above takes the column; leave its fixed value empty.</p>
      <div class="constant-grid">
        ${WRITABLE_FIELDS.map(([field, label]) => html`
          <${TextField} name=${`constants.${field}`} label=${`${label}, fixed`} value=${constants[field]}
            onValue=${(v) => change(field, v)} problems=${problems} autocomplete="off"
            placeholder=${EXAMPLES[field] ? `e.g. ${EXAMPLES[field]}` : undefined}
            help=${mapping[field] ? `Read from the column “${mapping[field]}”: leave this empty.` : undefined} />`)}
      </div>
    </fieldset>
  `;
}
