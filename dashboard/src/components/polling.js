// Calls load() now and again after each answer, every delay(result) ms; paused while the tab
// is hidden (a hidden tab asks nothing) and refreshed at once when it shows again. A load that
// fails (throws, or answers null) is tried again later and later (doubling, up to 30 s), so an
// outage or a network drop is not met with a request a second from every open page.
import { useEffect, useRef } from "../html.js";

const MAX_BACKOFF_MS = 30000;

export function backoff(usual, failures) {
  if (!failures) return usual;
  return Math.min(MAX_BACKOFF_MS, Math.max(usual, 1000) * 2 ** failures);
}

export function usePolling(load, delay, deps = []) {
  const nudge = useRef(() => {});
  useEffect(() => {
    let timer = null;
    let stopped = false;
    let busy = false;
    let failures = 0;
    const tick = async () => {
      timer = null;
      if (stopped || busy) return;
      if (document.hidden) return; // the visibility listener resumes
      busy = true;
      let result;
      try {
        result = await load();
      } catch {
        result = undefined;
      } finally {
        busy = false;
      }
      failures = result === undefined || result === null ? failures + 1 : 0;
      if (!stopped && !document.hidden) timer = setTimeout(tick, backoff(delay(result), failures));
    };
    const visibility = () => {
      if (!document.hidden && timer === null && !busy) tick();
      if (document.hidden && timer !== null) {
        clearTimeout(timer);
        timer = null;
      }
    };
    nudge.current = () => {
      failures = 0;
      if (timer !== null) clearTimeout(timer);
      timer = null;
      tick();
    };
    document.addEventListener("visibilitychange", visibility);
    tick();
    return () => {
      stopped = true;
      if (timer !== null) clearTimeout(timer);
      document.removeEventListener("visibilitychange", visibility);
    };
  }, deps);
  // Refresh now (after the merchant did something), then on the usual rhythm.
  return () => nudge.current();
}
