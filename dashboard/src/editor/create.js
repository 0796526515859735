// New products (create mode, the profile's `create` and `limits.max_created`): rows of the
// file that match nothing in the store become products. Every input is named by its API
// path (create.group, create.options, limits.max_created), so a 422 shows beside it; the
// API's own check of `create` names its key first ("options: ...", form.js KEYED).
import { html } from "../html.js";
import { CheckField, fieldId, RadioField, SelectField, TextField } from "./form.js";
import { MAX_CREATED, OPTIONS_MAX } from "./draft.js";

const OPTIONS = "create.options";

// A column picked from the previewed file's (plus the one saved, if the file lacks it), or
// typed while the editor does not know the columns: as the mapping does.
function ColumnInput({ id, label, value, columns, onValue, empty, describedBy }) {
  if (!columns) {
    return html`<label for=${id}>${label}</label>
      <input id=${id} value=${value} aria-describedby=${describedBy} onInput=${(e) => onValue(e.currentTarget.value)} />`;
  }
  const options = value && !columns.includes(value) ? [...columns, value] : columns;
  return html`<label for=${id}>${label}</label>
    <select id=${id} value=${value} aria-describedby=${describedBy}
      onChange=${(e) => onValue(e.currentTarget.value)}>
      <option value="" selected=${!value}>${empty}</option>
      ${options.map((c) => html`<option value=${c} selected=${c === value}>${c}</option>`)}
    </select>`;
}

// Option name -> column rows (Size -> "Size", Colour -> "Color"), at most the model's cap.
function OptionRows({ options, setOptions, columns, problems }) {
  const message = problems.messageFor(OPTIONS);
  const setRow = (at, patch) => setOptions(options.map((o, i) => (i === at ? { ...o, ...patch } : o)));
  const focusLater = (id) => requestAnimationFrame(() => {
    const element = document.getElementById(id);
    if (element) element.focus();
  });
  const rowId = (i, part) => (i === 0 && part === "name" ? fieldId(OPTIONS) : fieldId(`${OPTIONS}[${i}].${part}`));
  const add = () => {
    setOptions([...options, { name: "", column: "" }]);
    focusLater(rowId(options.length, "name"));
  };
  const remove = (at) => {
    const next = options.filter((_, i) => i !== at);
    setOptions(next);
    focusLater(next.length ? rowId(Math.min(at, next.length - 1), "name") : fieldId(OPTIONS));
  };
  const errorId = message ? `${fieldId(OPTIONS)}-error` : undefined;
  return html`
    <fieldset data-field=${OPTIONS} aria-describedby=${["options-help", errorId].filter(Boolean).join(" ")}>
      <legend>Options that tell the variants apart</legend>
      <p class="help" id="options-help">For each option, its name in your store and the column holding each
        variant's value: for example Size from the column “Size”.</p>
      <ol class="option-list">
        ${options.map((option, i) => html`
          <li>
            <div class="row">
              <div class="field">
                <label for=${rowId(i, "name")}>Option ${i + 1} name</label>
                <input id=${rowId(i, "name")} value=${option.name} placeholder="Size"
                  onInput=${(e) => { if (message) problems.clear(); setRow(i, { name: e.currentTarget.value }); }} />
              </div>
              <div class="field">
                <${ColumnInput} id=${rowId(i, "column")} label=${`Option ${i + 1} column`}
                  value=${option.column} columns=${columns} empty="— pick a column —"
                  onValue=${(column) => { if (message) problems.clear(); setRow(i, { column }); }} />
              </div>
            </div>
            <button type="button" class="secondary" onClick=${() => remove(i)}>Remove option ${i + 1}</button>
          </li>`)}
      </ol>
      ${message ? html`<p class="error field-error" id=${errorId}>${message}</p>` : null}
      ${options.length < OPTIONS_MAX
        ? html`<button type="button" class="secondary" id=${options.length ? "f-add-option" : fieldId(OPTIONS)}
            onClick=${add}>Add an option</button>`
        : html`<p class="help">At most ${OPTIONS_MAX} options.</p>`}
    </fieldset>`;
}

// props: create, setCreate(next), limits, setLimits(next), columns (null: not known yet),
// cannotCreate (why the store's platform cannot create; "" when it can), problems
export function CreateSection({ create, setCreate, limits, setLimits, columns, cannotCreate, problems }) {
  const set = (patch) => setCreate({ ...create, ...patch });
  const groupMessage = problems.messageFor("create.group");
  const groupId = fieldId("create.group");
  const limit = limits.max_created === undefined ? MAX_CREATED : limits.max_created;
  const limitOn = limit !== null;
  return html`
    <section class="card" aria-labelledby="create-heading">
      <h2 id="create-heading">New products</h2>
      <${CheckField} name="create" label="Create products the store does not have yet" checked=${create.enabled}
        disabled=${Boolean(cannotCreate) && !create.enabled} problems=${problems}
        help=${cannotCreate ? `Not for this store: ${cannotCreate}.`
          : create.enabled ? "Rows that match nothing in your store become new products. A preview lists them with the other changes and creates nothing."
          : "Off: rows that match nothing in your store are only counted as not found."}
        onValue=${(enabled) => set({ enabled })} />
      ${create.enabled ? html`
        <${RadioField} name="create.visible" legend="A new product is created" value=${create.visible ? "visible" : "hidden"}
          problems=${problems} onValue=${(v) => set({ visible: v === "visible" })} options=${[
            ["hidden", "Hidden (a draft)", "(default) so you can check its name, price and pictures before customers see it"],
            ["visible", "Visible in the store at once"],
          ]} />
        <${TextField} name="create.category" label="Category (optional)" value=${create.category}
          onValue=${(category) => set({ category })} problems=${problems}
          help="Your store's category or collection ID, given to every new product. Empty: none." />
        <div class="field" data-field="create.group">
          <${ColumnInput} id=${groupId} label="Group rows into one product by"
            value=${create.group} columns=${columns} empty="— each row is a product of its own —"
            describedBy=${[`${groupId}-help`, groupMessage ? `${groupId}-error` : ""].filter(Boolean).join(" ")}
            onValue=${(group) => { if (groupMessage) problems.clear(); set({ group }); }} />
          <p class="help" id=${`${groupId}-help`}>Rows sharing this column's value (the supplier's parent code, say)
            become one product with variants.${columns ? "" : " Preview the file to pick it from a list."}</p>
          ${groupMessage ? html`<p class="error field-error" id=${`${groupId}-error`}>${groupMessage}</p>` : null}
        </div>
        <${OptionRows} options=${create.options} setOptions=${(options) => set({ options })} columns=${columns}
          problems=${problems} />
        <div class="limit">
          <${CheckField} name="limits.max_created.on" label="Hold a run that would create too many products"
            checked=${limitOn} onValue=${(on) => setLimits({ ...limits, max_created: on ? MAX_CREATED : null })} />
          ${limitOn ? html`<${TextField} name="limits.max_created" label="At most this many new products per run"
            type="number" min="0" step="1" value=${String(limit)} problems=${problems}
            help="A run over it is held, like the safety limits: nothing is created until you apply it."
            onValue=${(v) => setLimits({ ...limits, max_created: v === "" ? MAX_CREATED : Number(v) })} />` : null}
        </div>` : null}
    </section>`;
}
