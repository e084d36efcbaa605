"use client";

import { useEffect } from "react";
import { apiFetch } from "@/components/api-client";

/**
 * While `active` (something queued or running), re-reads `url` every `intervalMs` and hands
 * the answer to `onData`; stops when the component unmounts or nothing is active any more.
 * A failed poll is ignored: the next one tries again.
 */
export function usePollWhile<T>(
  active: boolean,
  url: string,
  intervalMs: number,
  onData: (data: T) => void,
) {
  useEffect(() => {
    if (!active) return;
    let stopped = false;
    const timer = setInterval(() => {
      apiFetch<T>(url).then(
        (data) => {
          if (!stopped) onData(data);
        },
        () => {},
      );
    }, intervalMs);
    return () => {
      stopped = true;
      clearInterval(timer);
    };
    // onData is a state setter wrapper; re-subscribing on its identity would reset the timer.
    // eslint-disable-next-line react-hooks/exhaustive-deps
  }, [active, url, intervalMs]);
}
