"use client";

import { useRouter } from "next/navigation";
import { useState } from "react";
import { PlayIcon } from "lucide-react";
import { ApiClientError, apiFetch } from "@/components/api-client";
import { Alert } from "@/components/ui/alert";
import { Button } from "@/components/ui/button";
import { cn } from "@/components/ui/cn";

/** On/off switch for a job's schedule (PATCH enabled); read-only for people who cannot run jobs. */
export function JobEnabledToggle({
  jobId,
  jobName,
  enabled,
  canChange,
}: {
  jobId: string;
  jobName: string;
  enabled: boolean;
  canChange: boolean;
}) {
  const router = useRouter();
  const [value, setValue] = useState(enabled);
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<string | null>(null);
  return (
    <span className="inline-flex items-center gap-2">
      <button
        type="button"
        role="switch"
        aria-checked={value}
        aria-label={`Schedule of ${jobName}`}
        disabled={!canChange || busy}
        title={error ?? (value ? "Enabled: fires on schedule" : "Disabled: does not fire")}
        onClick={async () => {
          const next = !value;
          setBusy(true);
          setError(null);
          try {
            await apiFetch(`/api/v1/jobs/${jobId}`, { method: "PATCH", body: { enabled: next } });
            setValue(next);
            router.refresh();
          } catch (e) {
            setError(e instanceof Error ? e.message : String(e));
          } finally {
            setBusy(false);
          }
        }}
        className={cn(
          "relative inline-flex h-5 w-9 shrink-0 items-center rounded-full border border-transparent transition-colors",
          "focus-visible:ring-2 focus-visible:ring-accent focus-visible:ring-offset-2 focus-visible:outline-none",
          "disabled:cursor-not-allowed disabled:opacity-60",
          value ? "bg-accent" : "bg-border-strong",
        )}
      >
        <span
          aria-hidden
          className={cn(
            "inline-block size-4 rounded-full bg-white shadow-sm transition-transform",
            value ? "translate-x-4" : "translate-x-0.5",
          )}
        />
      </button>
      <span className="text-xs text-muted-foreground">{value ? "On" : "Off"}</span>
      {error ? <span className="text-xs text-destructive">{error}</span> : null}
    </span>
  );
}

/** Queues a manual run and opens it. A 409 (a run is already active) is shown in place. */
export function RunNowButton({ jobId, jobName }: { jobId: string; jobName: string }) {
  const router = useRouter();
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<string | null>(null);
  return (
    <span className="inline-flex flex-col items-end gap-1">
      <Button
        variant="primary"
        loading={busy}
        onClick={async () => {
          setBusy(true);
          setError(null);
          try {
            const { run } = await apiFetch<{ run: { id: string } }>(`/api/v1/jobs/${jobId}/run`, {
              method: "POST",
            });
            router.push(`/jobs/${encodeURIComponent(jobName)}/runs/${run.id}`);
          } catch (e) {
            setError(e instanceof ApiClientError ? e.message : String(e));
            setBusy(false);
          }
        }}
      >
        <PlayIcon aria-hidden /> Run now
      </Button>
      {error ? (
        <Alert variant="error" className="max-w-md text-left">
          {error}
        </Alert>
      ) : null}
    </span>
  );
}
