// Price tiers (PriceRules.tiers, tiers_by): a markup per price range, rows of
// (from, up to, markup %). The API sorts them by "from" and refuses overlaps, naming the
// row (rules.price_rules.tiers[1].min): each input is named by that path, so its refusal
// shows beside the row it is about.
import { html } from "../html.js";
import { fieldId, SelectField, TextField } from "./form.js";
import { PRICE_TIERS_MAX } from "./draft.js";

const TIERS = "rules.price_rules.tiers";

// props: price (the draft's price_rules), setPrice(patch), problems
export function PriceTiers({ price, setPrice, problems }) {
  const tiers = price.tiers || [];
  const setTier = (at, patch) => setPrice({ tiers: tiers.map((t, i) => (i === at ? { ...t, ...patch } : t)) });
  const add = () => {
    // The new row starts where the last one ends, so ranges follow on without a gap.
    const last = tiers[tiers.length - 1];
    setPrice({ tiers: [...tiers, { min: last && last.max ? last.max : "" }] });
    requestAnimationFrame(() => {
      const first = document.getElementById(fieldId(`${TIERS}[${tiers.length}].min`));
      if (first) first.focus();
    });
  };
  const remove = (at) => {
    const next = tiers.filter((_, i) => i !== at);
    setPrice({ tiers: next.length ? next : undefined });
    requestAnimationFrame(() => {
      const focus = next.length
        ? document.getElementById(fieldId(`${TIERS}[${Math.min(at, next.length - 1)}].min`))
        : document.getElementById("f-add-tier");
      if (focus) focus.focus();
    });
  };
  const message = problems.messageFor(TIERS);
  return html`
    <fieldset class="tiers" data-field=${TIERS} aria-describedby="tiers-help">
      <legend>Markup by price range (tiers)</legend>
      <p class="help" id="tiers-help">A price inside a tier gets that tier's markup instead of the one above;
        a price no tier covers keeps the one above. “Up to” is not included (10.00 falls in the tier from 10.00);
        leave it empty for no upper end.</p>
      ${tiers.length ? html`<${SelectField} name="rules.price_rules.tiers_by" label="Pick the tier by"
        value=${price.tiers_by || ""} problems=${problems} onValue=${(v) => setPrice({ tiers_by: v || undefined })}
        help="The price is taken after the currency factor; a row with no cost price is tiered by its price."
        options=${[["", "The price (default)"], ["cost", "The cost price"]]} />` : null}
      <ol class="tier-list">
        ${tiers.map((tier, i) => html`
          <li>
            <fieldset class="tier">
              <legend>Tier ${i + 1}</legend>
              <div class="row">
                <${TextField} name=${`${TIERS}[${i}].min`} label="Prices from" inputmode="decimal" placeholder="0.00"
                  value=${tier.min} onValue=${(min) => setTier(i, { min })} problems=${problems} />
                <${TextField} name=${`${TIERS}[${i}].max`} label="Up to" inputmode="decimal"
                  value=${tier.max} onValue=${(max) => setTier(i, { max })} problems=${problems} />
                <${TextField} name=${`${TIERS}[${i}].markup_percent`} label="Markup (%)" inputmode="decimal"
                  value=${tier.markup_percent} onValue=${(markup_percent) => setTier(i, { markup_percent })}
                  problems=${problems} />
              </div>
              ${tier.add !== undefined && tier.add !== null && tier.add !== ""
                ? html`<${TextField} name=${`${TIERS}[${i}].add`} label="Then add" inputmode="decimal"
                    value=${tier.add} onValue=${(add) => setTier(i, { add })} problems=${problems} />`
                : null}
              <button type="button" class="secondary" onClick=${() => remove(i)}>Remove tier ${i + 1}</button>
            </fieldset>
          </li>`)}
      </ol>
      ${message ? html`<p class="error field-error" id=${`${fieldId(TIERS)}-error`}>${message}</p>` : null}
      ${tiers.length < PRICE_TIERS_MAX
        ? html`<button type="button" class="secondary" id="f-add-tier" onClick=${add}>Add a tier</button>`
        : html`<p class="help">At most ${PRICE_TIERS_MAX} tiers.</p>`}
    </fieldset>
  `;
}
