// A disclosure menu: a button that shows a list of links. Keyboard: Enter/Space open it,
// the arrow keys move between its links, Escape closes it and returns to the button.
import { html, useEffect, useRef, useState } from "../html.js";

export function DisclosureMenu({ label, id, items }) {
  const [open, setOpen] = useState(false);
  const button = useRef(null);
  const list = useRef(null);
  useEffect(() => {
    if (!open) return undefined;
    const first = list.current && list.current.querySelector("a");
    if (first) first.focus();
    const outside = (event) => {
      if (!button.current.parentElement.contains(event.target)) setOpen(false);
    };
    document.addEventListener("click", outside);
    return () => document.removeEventListener("click", outside);
  }, [open]);
  const onKeyDown = (event) => {
    if (event.key === "Escape") {
      setOpen(false);
      button.current.focus();
      return;
    }
    if (event.key !== "ArrowDown" && event.key !== "ArrowUp") return;
    event.preventDefault();
    const links = [...list.current.querySelectorAll("a")];
    const at = links.indexOf(document.activeElement);
    const next = event.key === "ArrowDown" ? (at + 1) % links.length : (at - 1 + links.length) % links.length;
    links[next].focus();
  };
  return html`
    <div class="menu" onKeyDown=${onKeyDown}>
      <button type="button" class="secondary" ref=${button} aria-expanded=${open ? "true" : "false"}
        aria-controls=${id} onClick=${() => setOpen(!open)}>${label}</button>
      <ul id=${id} ref=${list} class="menu-list" hidden=${!open}>
        ${items.map(([href, text]) => html`<li><a href=${href} onClick=${() => setOpen(false)}>${text}</a></li>`)}
      </ul>
    </div>`;
}
