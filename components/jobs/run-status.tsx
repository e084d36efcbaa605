import { Badge } from "@/components/ui/badge";
import type { RunStatus } from "@/lib/jobs/views";

/** A run's status as a badge (server and client safe). */
const variant = {
  queued: "neutral",
  running: "accent",
  succeeded: "success",
  failed: "destructive",
  skipped: "warning",
} as const;

export function RunStatusBadge({ status }: { status: RunStatus }) {
  return (
    <Badge variant={variant[status]} dot data-testid="run-status">
      {status}
    </Badge>
  );
}

export const isLive = (status: RunStatus) => status === "queued" || status === "running";

/** 1234 → "1.2 s", 75_000 → "1 min 15 s" */
export function formatDuration(ms: number | null | undefined): string {
  if (ms === null || ms === undefined || !Number.isFinite(ms)) return "—";
  if (ms < 1000) return `${Math.max(0, Math.round(ms))} ms`;
  const s = ms / 1000;
  if (s < 60) return `${s.toFixed(1)} s`;
  const m = Math.floor(s / 60);
  return `${m} min ${Math.round(s - m * 60)} s`;
}
