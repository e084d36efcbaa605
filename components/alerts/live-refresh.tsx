"use client";

import { useRouter } from "next/navigation";
import { useEffect } from "react";

/**
 * Re-renders the server page when an alert changes state (SSE topic `alert` of
 * /api/v1/events), and every `ms` anyway so the rules' last values stay current.
 */
export function AlertsLiveRefresh({ ms = 15_000 }: { ms?: number }) {
  const router = useRouter();
  useEffect(() => {
    let timer: ReturnType<typeof setTimeout> | null = null;
    const refresh = () => {
      if (timer) return;
      timer = setTimeout(() => {
        timer = null;
        router.refresh();
      }, 300);
    };
    const source =
      typeof EventSource === "undefined" ? null : new EventSource("/api/v1/events?topics=alert");
    source?.addEventListener("alert", refresh);
    source?.addEventListener("resync", refresh);
    const interval = setInterval(() => router.refresh(), ms);
    return () => {
      source?.close();
      clearInterval(interval);
      if (timer) clearTimeout(timer);
    };
  }, [ms, router]);
  return null;
}
