"use client";

import { useRouter } from "next/navigation";
import { useEffect, useRef, useState } from "react";
import { cn } from "@/components/ui/cn";
import type { RunLogLine, RunStatus } from "@/lib/jobs/views";
import { isLive, RunStatusBadge } from "./run-status";

const streamClass: Record<string, string> = {
  error: "text-destructive",
  stderr: "text-destructive",
  warn: "text-warning-subtle-foreground",
  stdout: "text-foreground",
  info: "text-foreground",
};

/**
 * A run's log. While the run is queued or running it polls GET /api/v1/runs/{id} every
 * second for lines after the last one it has (and follows the end unless you scrolled up);
 * when the run ends it refreshes the page so the result shows.
 */
export function RunLog({
  runId,
  initialLines,
  initialCursor,
  initialStatus,
  initialMore = false,
}: {
  runId: string;
  initialLines: RunLogLine[];
  initialCursor: string | null;
  initialStatus: RunStatus;
  /** More lines exist than the page rendered: fetch them too. */
  initialMore?: boolean;
}) {
  const router = useRouter();
  const [lines, setLines] = useState(initialLines);
  const [status, setStatus] = useState(initialStatus);
  const [more, setMore] = useState(initialMore);
  const cursor = useRef(initialCursor);
  const box = useRef<HTMLDivElement>(null);
  const follow = useRef(true);

  useEffect(() => {
    if (!isLive(status) && !more) return;
    let stopped = false;
    let timer: ReturnType<typeof setTimeout>;
    const poll = async () => {
      try {
        const q = cursor.current ? `?afterLogId=${cursor.current}` : "";
        const res = await fetch(`/api/v1/runs/${runId}${q}`, { credentials: "same-origin" });
        if (res.ok) {
          const { run } = (await res.json()) as {
            run: {
              status: RunStatus;
              log: RunLogLine[];
              logCursor: string | null;
              logMore: boolean;
            };
          };
          if (stopped) return;
          if (run.log.length) {
            setLines((prev) => [...prev, ...run.log]);
            cursor.current = run.logCursor;
          }
          if (!isLive(run.status) && !run.logMore) {
            setMore(false);
            if (isLive(status)) {
              setStatus(run.status);
              router.refresh();
            }
            return;
          }
          timer = setTimeout(poll, run.logMore ? 0 : 1000);
          return;
        }
      } catch {
        // the next poll tries again
      }
      if (!stopped) timer = setTimeout(poll, 1000);
    };
    timer = setTimeout(poll, isLive(status) ? 1000 : 0);
    return () => {
      stopped = true;
      clearTimeout(timer);
    };
  }, [runId, status, more, router]);

  useEffect(() => {
    const el = box.current;
    if (el && follow.current) el.scrollTop = el.scrollHeight;
  }, [lines]);

  return (
    <div className="grid gap-2">
      <div className="flex items-center gap-2 text-xs text-muted-foreground">
        <RunStatusBadge status={status} />
        <span>
          {isLive(status)
            ? "Live: new lines appear as the run writes them."
            : `${lines.length} line${lines.length === 1 ? "" : "s"}`}
        </span>
      </div>
      <div
        ref={box}
        role="log"
        aria-label="Run log"
        aria-live={isLive(status) ? "polite" : "off"}
        onScroll={(e) => {
          const el = e.currentTarget;
          follow.current = el.scrollHeight - el.scrollTop - el.clientHeight < 24;
        }}
        className="max-h-[28rem] min-h-24 overflow-auto rounded-md border border-border bg-subtle px-3 py-2 font-mono text-xs leading-5"
      >
        {lines.length === 0 ? (
          <p className="text-muted-foreground">
            {isLive(status) ? "Waiting for the first line…" : "No log lines."}
          </p>
        ) : (
          lines.map((l) => (
            <div key={l.id} className="flex gap-3 whitespace-pre-wrap">
              <time dateTime={l.at} className="shrink-0 text-muted-foreground tabular-nums">
                {l.at.slice(11, 23)}
              </time>
              <span className="w-12 shrink-0 text-muted-foreground">{l.stream}</span>
              <span
                className={cn("min-w-0 break-words", streamClass[l.stream] ?? "text-foreground")}
              >
                {l.line}
              </span>
            </div>
          ))
        )}
      </div>
    </div>
  );
}
