// preact + htm: components in tagged templates, no JSX build step.
import { createContext, h, render } from "preact";
import htm from "htm";

export const html = htm.bind(h);
export { createContext, render };
export { useContext, useEffect, useState, useRef, useCallback, useMemo } from "preact/hooks";
