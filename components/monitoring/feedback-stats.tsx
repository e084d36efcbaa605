"use client";

import { useEffect, useState } from "react";
import { apiFetch } from "@/components/api-client";
import type { FeedbackStatsView } from "@/lib/api/contracts/monitoring";
import { formatCount } from "./format";

/**
 * The ground truth behind live accuracy, under the model page's charts: how many of the
 * range's predictions are labelled, how many labels came before their prediction was logged
 * (kept pending, joined later), and the installation's pending feedback: waiting now, and
 * expired or rejected in the range (pending feedback has no model until its prediction is
 * logged, so those figures cover all models).
 */
export function FeedbackStats({
  model,
  fromMs,
  toMs,
  refreshKey,
}: {
  model: string;
  fromMs: number;
  toMs: number;
  /** A new value each time the charts have re-read (live updates): the figures follow. */
  refreshKey: unknown;
}) {
  // With the time it was read: the age of the oldest pending item is as of then.
  const [stats, setStats] = useState<(FeedbackStatsView & { readAt: number }) | null>(null);
  const [error, setError] = useState<string | null>(null);

  useEffect(() => {
    let current = true;
    const q = new URLSearchParams({
      from: new Date(fromMs).toISOString(),
      to: new Date(toMs).toISOString(),
    });
    apiFetch<FeedbackStatsView>(`/api/v1/models/${encodeURIComponent(model)}/feedback?${q}`).then(
      (data) => {
        if (!current) return;
        setStats({ ...data, readAt: Date.now() });
        setError(null);
      },
      (e: unknown) => {
        if (current) setError((e as Error).message);
      },
    );
    return () => {
      current = false;
    };
  }, [model, fromMs, toMs, refreshKey]);

  if (error && !stats) {
    return (
      <p className="text-xs text-muted-foreground" data-testid="feedback-stats">
        Feedback figures could not be loaded: {error}
      </p>
    );
  }
  if (!stats) return null;
  const { labelled, pending, resolved } = stats;
  return (
    <section
      aria-label="Ground truth"
      data-testid="feedback-stats"
      className="rounded-lg border border-border bg-card px-3 py-2.5"
    >
      <h3 className="mb-2 text-xs font-semibold text-foreground">
        Ground truth in range{" "}
        <span className="font-normal text-muted-foreground">
          · POST /api/v1/feedback · labels sent before their prediction is logged wait up to{" "}
          {formatWindow(pending.windowSeconds)}
        </span>
      </h3>
      <dl className="grid grid-cols-2 gap-x-6 gap-y-2 text-[13px] leading-5 sm:grid-cols-3 lg:grid-cols-5">
        <Figure
          label="Labelled predictions"
          value={formatCount(labelled.requests)}
          hint={`${formatCount(labelled.rows)} row${labelled.rows === 1 ? "" : "s"} · this model`}
          testId="feedback-labelled"
        />
        <Figure
          label="Joined late"
          value={formatCount(labelled.joinedLate)}
          hint="came before their log row"
          testId="feedback-joined-late"
        />
        <Figure
          label="Pending now"
          value={formatCount(pending.count)}
          hint={
            pending.oldestReceivedAt
              ? `all models · oldest ${formatAge(stats.readAt - Date.parse(pending.oldestReceivedAt))}`
              : "all models · none waiting"
          }
          testId="feedback-pending"
        />
        <Figure
          label="Expired"
          value={formatCount(resolved.expired)}
          hint="all models · never matched"
          testId="feedback-expired"
        />
        <Figure
          label="Rejected when joined"
          value={formatCount(resolved.rejected)}
          hint="all models · did not fit"
          testId="feedback-rejected"
        />
      </dl>
    </section>
  );
}

function Figure({
  label,
  value,
  hint,
  testId,
}: {
  label: string;
  value: string;
  hint: string;
  testId: string;
}) {
  return (
    <div className="min-w-0" data-testid={testId}>
      <dt className="text-xs text-muted-foreground">{label}</dt>
      <dd className="font-mono text-base font-semibold tabular-nums">{value}</dd>
      <dd className="text-xs text-muted-foreground">{hint}</dd>
    </div>
  );
}

function formatWindow(seconds: number): string {
  if (seconds % 3600 === 0) return `${seconds / 3600} h`;
  if (seconds % 60 === 0) return `${seconds / 60} min`;
  return `${seconds} s`;
}

function formatAge(ms: number): string {
  const s = Math.max(0, Math.round(ms / 1000));
  if (s < 60) return `${s} s`;
  if (s < 3600) return `${Math.round(s / 60)} min`;
  return `${(s / 3600).toFixed(1)} h`;
}
