"use client";

import Link from "next/link";
import { useEffect, useState } from "react";
import { ServerIcon } from "lucide-react";
import { apiFetch } from "@/components/api-client";
import { AliasBadge } from "@/components/registry/alias-badge";
import { Time } from "@/components/time";
import { Alert } from "@/components/ui/alert";
import type { LoadFailureView, ServingStatus } from "@/lib/serving/status";
import { percentOf, ServingSettingsDialog } from "./serving-settings-dialog";

/** How often the card re-reads the status (heartbeats arrive every 10 s). */
const REFRESH_MS = 15_000;

const count = (n: number) => new Intl.NumberFormat("en-US").format(n);

/**
 * The model's serving settings (editable by operators), what each live serving instance serves,
 * versions that failed to load there and versions served with a warm-up warning, kept fresh
 * while the page is open.
 */
export function ServingCard({
  model,
  initial,
  canEdit,
}: {
  model: string;
  initial: ServingStatus;
  canEdit: boolean;
}) {
  const [status, setStatus] = useState(initial);
  const { settings, instances, loadFailures, warmUpWarnings } = status;

  useEffect(() => {
    let stopped = false;
    const timer = setInterval(() => {
      if (document.visibilityState !== "visible") return;
      apiFetch<ServingStatus>(`/api/v1/models/${encodeURIComponent(model)}/serving`).then(
        (next) => {
          if (!stopped) setStatus(next);
        },
        () => {
          // Keep showing the last status; the next tick tries again.
        },
      );
    }, REFRESH_MS);
    return () => {
      stopped = true;
      clearInterval(timer);
    };
  }, [model]);

  return (
    <div className="grid content-start gap-3">
      {loadFailures.map((f) => (
        <Alert key={f.versionId} variant="error" data-testid={`load-failure-${f.version}`}>
          <p>
            <span className="font-semibold">Version {f.version} failed to load</span> on{" "}
            <span className="font-mono text-xs break-all">{f.instanceId}</span>: {f.message} ·{" "}
            <Time value={f.at} />; {consequence(f, instances)}
          </p>
        </Alert>
      ))}

      {warmUpWarnings.map((w) => (
        <Alert key={w.versionId} variant="warning" data-testid={`warm-up-warning-${w.version}`}>
          <p>
            <span className="font-semibold">
              Version {w.version} is served with a warm-up warning
            </span>
            : {w.warning.replace(/[.\s]+$/, "")}.{" "}
            <Link
              href={`/models/${encodeURIComponent(model)}/versions/${w.version}`}
              className="font-medium underline underline-offset-2"
            >
              Set a sample request
            </Link>{" "}
            it answers.
          </p>
        </Alert>
      ))}

      <div className="min-w-0 rounded-lg border border-border bg-card shadow-xs">
        <div className="flex items-center justify-between gap-3 px-4 pt-3 pb-2">
          <h3 className="text-[13px] font-semibold">Batching and sampling</h3>
          {canEdit ? (
            <ServingSettingsDialog
              model={model}
              settings={settings}
              onSaved={(next) => setStatus((s) => ({ ...s, settings: next }))}
            />
          ) : null}
        </div>
        <dl
          className="grid grid-cols-2 gap-x-4 gap-y-2 px-4 pb-3 text-[13px]"
          aria-label="Serving settings"
          data-testid="serving-settings"
        >
          <Setting label="Max batch size" testId="setting-max-batch-size">
            {count(settings.maxBatchSize)} rows
          </Setting>
          <Setting label="Max queue delay" testId="setting-max-queue-delay">
            {count(settings.maxQueueDelayMicros)} µs
            {settings.maxQueueDelayMicros === 0 ? (
              <span className="text-muted-foreground"> (never waits)</span>
            ) : null}
          </Setting>
          <Setting label="Max queue length" testId="setting-max-queue-length">
            {count(settings.maxQueueLength)} requests
          </Setting>
          <Setting label="Payload sample rate" testId="setting-payload-sample-rate">
            {percentOf(settings.payloadSampleRate)} %
          </Setting>
        </dl>

        <div className="border-t border-border px-4 py-3">
          <h3 className="mb-2 flex items-center gap-1.5 text-[13px] font-semibold">
            <ServerIcon className="size-3.5 text-muted-foreground" aria-hidden /> Serving instances
          </h3>
          {instances.length === 0 ? (
            <p className="text-[13px] text-muted-foreground">
              No serving process has reported in the last 30 seconds.
            </p>
          ) : (
            <ul className="grid gap-2" aria-label="Serving instances">
              {instances.map((i) => {
                const served = Object.entries(i.aliases).sort(([a], [b]) => a.localeCompare(b));
                return (
                  <li key={i.instanceId} className="grid gap-1" data-testid="serving-instance">
                    <span className="flex min-w-0 items-baseline justify-between gap-2 text-xs text-muted-foreground">
                      <span className="truncate font-mono" title={i.instanceId}>
                        {i.instanceId}
                      </span>
                      <span className="shrink-0">
                        reported <Time value={i.lastSeenAt} className="tabular-nums" />
                      </span>
                    </span>
                    {served.length === 0 ? (
                      <span className="text-[13px] text-muted-foreground">
                        Serves no version of this model.
                      </span>
                    ) : (
                      <span className="flex flex-wrap gap-1.5 text-[13px]">
                        {served.map(([alias, version]) => (
                          <span key={alias} className="inline-flex items-center gap-1">
                            <AliasBadge name={alias} />
                            <span className="font-mono">v{version}</span>
                          </span>
                        ))}
                      </span>
                    )}
                  </li>
                );
              })}
            </ul>
          )}
        </div>
      </div>
    </div>
  );
}

function Setting({
  label,
  testId,
  children,
}: {
  label: string;
  testId: string;
  children: React.ReactNode;
}) {
  return (
    <div className="grid min-w-0 gap-0.5">
      <dt className="text-xs text-muted-foreground">{label}</dt>
      <dd className="tabular-nums" data-testid={testId}>
        {children}
      </dd>
    </div>
  );
}

/** What the failure means for the aliases that wanted that version. */
function consequence(f: LoadFailureView, instances: ServingStatus["instances"]): string {
  if (f.aliases.length === 0) return "no alias points at it now.";
  const instance = instances.find((i) => i.instanceId === f.instanceId);
  if (!instance)
    return `${f.aliases.join(", ")} ${f.aliases.length === 1 ? "points" : "point"} at it; that instance is no longer running.`;
  return (
    f.aliases
      .map((alias) => {
        const served = instance.aliases[alias];
        return served !== undefined && served !== f.version
          ? `${alias} keeps serving version ${served}`
          : `${alias} is not served there`;
      })
      .join("; ") + "."
  );
}
