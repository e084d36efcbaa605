import { Badge } from "@/components/ui/badge";
import { METRICS, type MetricName } from "@/lib/evaluation/metrics";
import type { EvaluationStatus } from "@/lib/evaluation/types";

/** Display helpers shared by the evaluation components (server and client safe). */

export function formatMetric(value: number | null | undefined, name?: MetricName): string {
  if (value === null || value === undefined || !Number.isFinite(value)) return "—";
  if (name && ["accuracy", "f1Macro", "precisionMacro", "recallMacro"].includes(name)) {
    return `${(value * 100).toFixed(2)}%`;
  }
  return Math.abs(value) >= 1000 ? value.toFixed(0) : value.toPrecision(4);
}

export const metricLabel = (name: MetricName) => METRICS[name].label;

export function formatMs(ms: number | null | undefined): string {
  if (ms === null || ms === undefined || !Number.isFinite(ms)) return "—";
  if (ms < 1) return `${(ms * 1000).toFixed(0)} µs`;
  if (ms < 100) return `${ms.toFixed(2)} ms`;
  return `${ms.toFixed(0)} ms`;
}

export function formatRate(rowsPerSecond: number | null | undefined): string {
  if (!rowsPerSecond || !Number.isFinite(rowsPerSecond)) return "—";
  return `${new Intl.NumberFormat("en-US", { maximumFractionDigits: 0 }).format(rowsPerSecond)} rows/s`;
}

const statusVariant = {
  queued: "neutral",
  running: "accent",
  succeeded: "success",
  failed: "destructive",
} as const;

export function EvaluationStatusBadge({ status }: { status: EvaluationStatus }) {
  return (
    <Badge variant={statusVariant[status]} dot data-testid="evaluation-status">
      {status}
    </Badge>
  );
}
