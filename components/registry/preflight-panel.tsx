"use client";

import { useEffect, useState } from "react";
import { ApiClientError, apiFetch } from "@/components/api-client";
import { Alert } from "@/components/ui/alert";
import { Spinner } from "@/components/ui/spinner";
import type { PreflightResult } from "@/lib/registry/preflight";

/**
 * The pre-flight of a version before it is promoted: the dialog asks the API to load it as
 * serving would (POST …/versions/{v}/preflight) as soon as it opens, shows the result, and
 * lets the person confirm a failed one only through an explicit override.
 */
export type PreflightState =
  | { status: "checking" }
  | { status: "done"; result: PreflightResult }
  /** The check itself could not run (not the version's fault): the move runs it again. */
  | { status: "unavailable"; message: string };

/** Runs the pre-flight once per (model, version) while mounted (dialogs mount when opened). */
export function usePreflight(model: string, version: number): PreflightState {
  const key = `${model}/${version}`;
  const [state, setState] = useState<{ key: string; value: PreflightState } | null>(null);
  useEffect(() => {
    let cancelled = false;
    const done = (value: PreflightState) => !cancelled && setState({ key, value });
    apiFetch<{ preflight: PreflightResult }>(
      `/api/v1/models/${encodeURIComponent(model)}/versions/${version}/preflight`,
      { method: "POST", body: {} },
    ).then(
      ({ preflight }) => done({ status: "done", result: preflight }),
      (error: unknown) =>
        done({
          status: "unavailable",
          message: error instanceof ApiClientError ? error.message : String(error),
        }),
    );
    return () => {
      cancelled = true;
    };
  }, [key, model, version]);
  return state?.key === key ? state.value : { status: "checking" };
}

/** May the person confirm: the pre-flight passed, could not run, or failed and is overridden. */
export function preflightAllowsConfirm(state: PreflightState, override: boolean): boolean {
  if (state.status === "checking") return false;
  if (state.status === "unavailable") return true;
  return state.result.outcome === "passed" || override;
}

/**
 * What a dialog that moves an alias needs of the pre-flight: its state, the person's override,
 * whether they may confirm, and the `override` field of the request body.
 */
export function usePreflightGate(model: string, version: number) {
  const state = usePreflight(model, version);
  const [override, setOverride] = useState(false);
  const failed = state.status === "done" && state.result.outcome === "failed";
  return {
    state,
    override,
    setOverride,
    /** The move goes ahead although the pre-flight failed. */
    overriding: failed && override,
    allowsConfirm: preflightAllowsConfirm(state, override),
    body: (failed && override ? { override: true } : {}) as { override?: true },
  };
}

const stageLabel = {
  artifact: "reading its file",
  load: "creating the onnxruntime session",
  sample: "running its sample request",
} as const;

export function PreflightPanel({
  version,
  state,
  override,
  onOverrideChange,
}: {
  version: number;
  state: PreflightState;
  override: boolean;
  onOverrideChange: (override: boolean) => void;
}) {
  if (state.status === "checking") {
    return (
      <div
        className="flex items-center gap-2 rounded-lg border border-border bg-subtle px-3.5 py-3 text-[13px]"
        data-testid="preflight"
        data-outcome="checking"
      >
        <Spinner size="sm" label={null} />
        <span>Pre-flight: loading v{version} as serving will…</span>
      </div>
    );
  }
  if (state.status === "unavailable") {
    return (
      <Alert
        variant="warning"
        title="Pre-flight not run"
        data-testid="preflight"
        data-outcome="unavailable"
      >
        {state.message} It runs again when you confirm.
      </Alert>
    );
  }
  const r = state.result;
  if (r.outcome === "passed") {
    return (
      <Alert
        variant="success"
        title="Pre-flight passed"
        data-testid="preflight"
        data-outcome="passed"
      >
        {r.message}
      </Alert>
    );
  }
  return (
    <div className="grid gap-2" data-testid="preflight" data-outcome="failed">
      <Alert
        variant="error"
        title={`Pre-flight failed${r.stage ? ` while ${stageLabel[r.stage]}` : ""}`}
      >
        <span className="break-words">{r.message}</span>
        <span className="mt-1 block">Serving would not be able to serve v{version}.</span>
      </Alert>
      <label className="flex items-start gap-2 text-[13px]">
        <input
          type="checkbox"
          checked={override}
          onChange={(e) => onOverrideChange(e.target.checked)}
          className="mt-0.5 size-4 accent-[var(--destructive)]"
        />
        <span>
          Promote anyway
          <span className="block text-xs text-muted-foreground">
            The override is recorded in the audit log with this pre-flight.
          </span>
        </span>
      </label>
    </div>
  );
}
