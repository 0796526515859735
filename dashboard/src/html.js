// preact + htm: components in tagged templates, no JSX build step.
import { h, render } from "preact";
import htm from "htm";

export const html = htm.bind(h);
export { render };
export { useEffect, useState, useRef, useCallback, useMemo } from "preact/hooks";
