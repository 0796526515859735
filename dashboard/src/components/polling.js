// Calls load() now and again after each answer, every delay(result) ms; paused while the tab
// is hidden (a hidden tab asks nothing) and refreshed at once when it shows again.
import { useEffect, useRef } from "../html.js";

export function usePolling(load, delay, deps = []) {
  const nudge = useRef(() => {});
  useEffect(() => {
    let timer = null;
    let stopped = false;
    let busy = false;
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
      if (!stopped && !document.hidden) timer = setTimeout(tick, delay(result));
    };
    const visibility = () => {
      if (!document.hidden && timer === null && !busy) tick();
      if (document.hidden && timer !== null) {
        clearTimeout(timer);
        timer = null;
      }
    };
    nudge.current = () => {
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
