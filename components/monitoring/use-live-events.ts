"use client";

import { useEffect, useRef, useState } from "react";

export type LiveStatus = "connecting" | "live" | "offline";

/**
 * Follows GET /api/v1/events while the page is open and calls `onChange` (debounced: at
 * most one call per `debounceMs`, the last one trailing) when the metrics of a model in
 * `modelIds` change — or when the stream (re)connects or resyncs, since events in between
 * were missed. `modelIds` null: any model. The browser's EventSource reconnects by itself
 * (after the server's `retry:`).
 */
export function useLiveMetrics({
  modelIds,
  model,
  onChange,
  debounceMs = 2000,
  enabled = true,
}: {
  modelIds: string[] | null;
  /** Ask the server for this model's events only (by name). */
  model?: string;
  onChange: () => void;
  debounceMs?: number;
  enabled?: boolean;
}): { status: LiveStatus; lastEventAt: number | null } {
  const [status, setStatus] = useState<LiveStatus>("connecting");
  const [lastEventAt, setLastEventAt] = useState<number | null>(null);
  const onChangeRef = useRef(onChange);
  const idsRef = useRef(modelIds);
  useEffect(() => {
    onChangeRef.current = onChange;
    idsRef.current = modelIds;
  });

  useEffect(() => {
    if (!enabled || typeof EventSource === "undefined") return;
    const params = new URLSearchParams({ topics: "metrics" });
    if (model) params.set("model", model);
    const source = new EventSource(`/api/v1/events?${params}`);
    let timer: ReturnType<typeof setTimeout> | null = null;
    let lastRun = 0;
    let readyOnce = false;

    const schedule = () => {
      if (timer) return;
      const wait = Math.max(0, lastRun + debounceMs - Date.now());
      timer = setTimeout(() => {
        timer = null;
        lastRun = Date.now();
        onChangeRef.current();
      }, wait);
    };

    source.addEventListener("ready", () => {
      setStatus("live");
      // The first ready follows the page's own load; a later one is a reconnection.
      if (readyOnce) schedule();
      readyOnce = true;
    });
    source.addEventListener("resync", schedule);
    source.addEventListener("metrics", (e) => {
      let ids: string[] = [];
      try {
        ids =
          (JSON.parse((e as MessageEvent<string>).data) as { modelIds?: string[] }).modelIds ?? [];
      } catch {
        return;
      }
      const wanted = idsRef.current;
      if (wanted && !ids.some((id) => wanted.includes(id))) return;
      setLastEventAt(Date.now());
      schedule();
    });
    source.onerror = () =>
      setStatus(source.readyState === EventSource.CLOSED ? "offline" : "connecting");
    return () => {
      source.close();
      if (timer) clearTimeout(timer);
    };
  }, [enabled, model, debounceMs]);

  return { status, lastEventAt };
}
