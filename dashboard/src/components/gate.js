// The one rule for write controls: a role short of what the API asks (a viewer, for any
// write) sees them disabled with the words Start uses ("needs the editor role"), rather than
// usable buttons the API would refuse with 403. The API still checks every call.
import { html, useMemo } from "../html.js";
import { lacks, needsWords, useMe } from "../auth/me.js";

let gates = 0;

// { disabled, hint }: hint is "needs the editor role" when the role falls short, else "".
export function useWriteGate(needs = "editor") {
  const short = lacks(useMe(), needs);
  return { disabled: short, hint: short ? needsWords(needs) : "" };
}

// Its inputs and buttons disabled at once (one <fieldset disabled>) for a role short of
// `needs`, with "<what> needs the editor role" above them. Always a fieldset, so a role
// known later never remounts what is inside.
export function WriteGate({ needs = "editor", what, children }) {
  const gate = useWriteGate(needs);
  const id = useMemo(() => `gate-${++gates}`, []);
  return html`
    <fieldset class="gate" disabled=${gate.disabled} aria-describedby=${gate.disabled ? id : undefined}>
      ${gate.disabled ? html`<p class="help role-hint" id=${id}>${what} ${gate.hint}.</p>` : null}
      ${children}
    </fieldset>`;
}
