"use client";

import { useRouter } from "next/navigation";
import { useEffect, useState } from "react";
import { RotateCcwIcon, SendIcon } from "lucide-react";
import { apiFetch, ApiClientError } from "@/components/api-client";
import { Alert } from "@/components/ui/alert";
import { Badge } from "@/components/ui/badge";
import { Button } from "@/components/ui/button";
import { CopyButton } from "@/components/ui/copy-button";
import { Field } from "@/components/ui/field";
import { NativeSelect } from "@/components/ui/native-select";
import { Textarea } from "@/components/ui/textarea";
import type { SampleRequest } from "@/lib/serving/sample-request";
import type { TryResult } from "@/lib/serving/status";
import {
  exampleFor,
  prettyJson,
  simpleInput,
  trySignatureOf,
  type TrySignature,
} from "@/lib/serving/try-example";

type Form = "infer" | "predict";

type Answer =
  | { kind: "result"; result: TryResult; target: string; expectedVersion: number | null }
  | { kind: "error"; status: number; message: string };

/** "alias:production" or "version:2" */
type TargetValue = string;

function parseTarget(value: TargetValue): { alias: string } | { version: number } {
  return value.startsWith("alias:")
    ? { alias: value.slice("alias:".length) }
    : { version: Number(value.slice("version:".length)) };
}

/**
 * Sends one request to the serving process (through POST /api/v1/models/{name}/try) and shows
 * the answer: status, the version that served it, latency, request id and the outputs. The body
 * is prefilled with the sample request of the version the chosen target points at (else one
 * built from its signature, unless serving found that such a request fails on it), and
 * prefilled again whenever that version or the form changes.
 */
export function TryItPanel({
  model,
  aliases,
  versions,
  signatures,
  samples = {},
  warmUpWarnings = {},
}: {
  model: string;
  aliases: { name: string; version: number }[];
  versions: { version: number; status: string }[];
  /** Signatures of the aliased versions; others are fetched when chosen. */
  signatures: Record<number, TrySignature>;
  /** Sample requests of the aliased versions that have one. */
  samples?: Record<number, SampleRequest>;
  /** Versions whose synthetic warm-up failed on serving (ServingStatus.warmUpWarnings). */
  warmUpWarnings?: Record<number, string>;
}) {
  const router = useRouter();
  const aliasMap = new Map(aliases.map((a) => [a.name, a.version]));
  const defaultTarget: TargetValue = aliasMap.has("production")
    ? "alias:production"
    : aliases[0]
      ? `alias:${aliases[0].name}`
      : `version:${versions[0]?.version ?? 1}`;
  const [target, setTarget] = useState<TargetValue>(defaultTarget);
  const [form, setForm] = useState<Form>("infer");
  const [body, setBody] = useState("");
  const [prefilledFor, setPrefilledFor] = useState<string | null>(null);
  const [fetched, setFetched] = useState<
    Record<number, { signature: TrySignature; sampleRequest: SampleRequest | null } | "failed">
  >({});
  const [busy, setBusy] = useState(false);
  const [answer, setAnswer] = useState<Answer | null>(null);
  const [localError, setLocalError] = useState<string | null>(null);

  // A target whose alias was removed since (after a refresh) falls back to the default.
  const selected = parseTarget(target);
  const validTarget = "alias" in selected ? aliasMap.has(selected.alias) : true;
  if (!validTarget) setTarget(defaultTarget);

  const targetVersion =
    "alias" in selected ? (aliasMap.get(selected.alias) ?? null) : selected.version;
  const known = targetVersion !== null ? signatures[targetVersion] : undefined;
  const loaded = targetVersion !== null ? fetched[targetVersion] : undefined;
  const signature = known ?? (loaded === "failed" ? undefined : loaded?.signature);
  const example =
    targetVersion !== null && signature
      ? exampleFor(
          {
            signature,
            sampleRequest:
              samples[targetVersion] ??
              (loaded && loaded !== "failed" ? loaded.sampleRequest : null),
            warmUpWarning: warmUpWarnings[targetVersion] ?? null,
          },
          form,
        )
      : null;

  // Prefill when the version behind the target, or the form, changes.
  const prefillKey = targetVersion !== null ? `${targetVersion}:${form}` : null;
  if (example && prefillKey !== prefilledFor) {
    setPrefilledFor(prefillKey);
    setBody(example.body);
  }

  useEffect(() => {
    if (targetVersion === null || signatures[targetVersion] || fetched[targetVersion]) return;
    let cancelled = false;
    apiFetch<{ version: { signature: unknown; sampleRequest: SampleRequest | null } }>(
      `/api/v1/models/${encodeURIComponent(model)}/versions/${targetVersion}`,
    ).then(
      (r) => {
        if (cancelled) return;
        const sig = trySignatureOf(r.version.signature);
        setFetched((f) => ({
          ...f,
          [targetVersion]: sig
            ? { signature: sig, sampleRequest: r.version.sampleRequest }
            : "failed",
        }));
      },
      () => {
        if (!cancelled) setFetched((f) => ({ ...f, [targetVersion]: "failed" }));
      },
    );
    return () => {
      cancelled = true;
    };
  }, [model, targetVersion, signatures, fetched]);

  if (versions.length === 0) {
    return (
      <p className="rounded-lg border border-dashed border-border px-4 py-3 text-sm text-muted-foreground">
        Nothing to try yet: upload a version and point an alias at it.
      </p>
    );
  }

  const simple = signature ? simpleInput(signature) : null;
  const selector = "alias" in selected ? selected.alias : String(selected.version);
  const endpoint = `/v2/models/${encodeURIComponent(model)}/versions/${encodeURIComponent(selector)}/${form}`;

  async function send() {
    setLocalError(null);
    let request: unknown;
    try {
      request = JSON.parse(body);
    } catch (e) {
      setLocalError(`The request body is not valid JSON: ${(e as Error).message}`);
      return;
    }
    if (typeof request !== "object" || request === null || Array.isArray(request)) {
      setLocalError("The request body must be a JSON object.");
      return;
    }
    setBusy(true);
    try {
      const result = await apiFetch<TryResult>(`/api/v1/models/${encodeURIComponent(model)}/try`, {
        method: "POST",
        body: { ...selected, form, request },
      });
      setAnswer({ kind: "result", result, target, expectedVersion: targetVersion });
    } catch (e) {
      setAnswer(
        e instanceof ApiClientError
          ? { kind: "error", status: e.status, message: e.message }
          : { kind: "error", status: 0, message: String(e) },
      );
    } finally {
      setBusy(false);
    }
  }

  return (
    <div className="min-w-0 rounded-lg border border-border bg-card shadow-xs">
      <form
        className="grid gap-3 p-4"
        aria-label="Try it"
        onSubmit={(e) => {
          e.preventDefault();
          void send();
        }}
      >
        <div className="grid gap-3 sm:grid-cols-2">
          <Field label="Target">
            <NativeSelect value={target} onChange={(e) => setTarget(e.target.value)}>
              {aliases.length > 0 ? (
                <optgroup label="Aliases">
                  {aliases.map((a) => (
                    <option key={a.name} value={`alias:${a.name}`}>
                      {a.name} → v{a.version}
                    </option>
                  ))}
                </optgroup>
              ) : null}
              <optgroup label="Versions">
                {versions.map((v) => (
                  <option key={v.version} value={`version:${v.version}`}>
                    v{v.version}
                    {v.status === "archived" ? " (archived)" : ""}
                  </option>
                ))}
              </optgroup>
            </NativeSelect>
          </Field>
          <Field
            label="Request form"
            hint={simple && !simple.ok && form === "predict" ? simple.reason : undefined}
          >
            <NativeSelect value={form} onChange={(e) => setForm(e.target.value as Form)}>
              <option value="infer">infer (tensors)</option>
              <option value="predict">predict (rows)</option>
            </NativeSelect>
          </Field>
        </div>
        {example?.note ? (
          <Alert variant="warning" data-testid="try-no-example">
            {example.note}
          </Alert>
        ) : null}
        <Field
          label="Request body"
          labelAside={
            <span className="font-mono" data-testid="try-endpoint">
              POST {endpoint}
            </span>
          }
          error={localError ?? undefined}
          hint={
            loaded === "failed" && !known
              ? "Could not read this version's signature; write the request by hand."
              : example?.source === "sample"
                ? "The version's sample request."
                : undefined
          }
        >
          <Textarea
            value={body}
            onChange={(e) => setBody(e.target.value)}
            rows={Math.min(18, Math.max(6, body.split("\n").length))}
            spellCheck={false}
            autoComplete="off"
            className="font-mono text-xs leading-5"
          />
        </Field>
        <div className="flex flex-wrap items-center gap-2">
          <Button type="submit" variant="primary" loading={busy}>
            <SendIcon aria-hidden /> Send
          </Button>
          <Button
            type="button"
            variant="ghost"
            size="sm"
            disabled={!example || example.source === "none"}
            onClick={() => example && setBody(example.body)}
          >
            <RotateCcwIcon aria-hidden /> Reset example
          </Button>
        </div>
      </form>

      {answer ? (
        <AnswerView answer={answer} aliasMap={aliasMap} onRefresh={() => router.refresh()} />
      ) : null}
    </div>
  );
}

function AnswerView({
  answer,
  aliasMap,
  onRefresh,
}: {
  answer: Answer;
  aliasMap: Map<string, number>;
  onRefresh: () => void;
}) {
  if (answer.kind === "error") {
    return (
      <section
        aria-label="Answer"
        data-testid="try-answer"
        className="border-t border-border px-4 py-3"
      >
        <Alert variant="error" role="alert" title={answer.status ? `HTTP ${answer.status}` : null}>
          {answer.message}
        </Alert>
      </section>
    );
  }
  const { result, target, expectedVersion } = answer;
  const ok = result.status >= 200 && result.status < 300;
  const errorBody = result.body as { error?: unknown; code?: unknown } | null;
  const errorMessage = !ok && typeof errorBody?.error === "string" ? errorBody.error : null;
  const alias = target.startsWith("alias:") ? target.slice("alias:".length) : null;
  const moved =
    alias !== null &&
    result.servedVersion !== null &&
    expectedVersion !== null &&
    result.servedVersion !== expectedVersion &&
    aliasMap.get(alias) === expectedVersion;
  return (
    <section
      aria-label="Answer"
      aria-live="polite"
      data-testid="try-answer"
      className="grid gap-2 border-t border-border px-4 py-3"
    >
      <div className="flex flex-wrap items-center gap-x-3 gap-y-1 text-[13px]">
        <Badge variant={ok ? "success" : "destructive"} data-testid="try-status">
          HTTP {result.status}
        </Badge>
        <span data-testid="try-served-version">
          {result.servedVersion !== null ? (
            <>
              served by <span className="font-medium">version {result.servedVersion}</span>
            </>
          ) : (
            <span className="text-muted-foreground">no version answered</span>
          )}
        </span>
        <span className="text-muted-foreground tabular-nums" data-testid="try-latency">
          {result.latencyMs.toFixed(1)} ms
        </span>
        {result.requestId ? (
          <span className="inline-flex min-w-0 items-center gap-1 text-muted-foreground">
            request{" "}
            <span className="truncate font-mono text-xs" data-testid="try-request-id">
              {result.requestId}
            </span>
            <CopyButton value={result.requestId} label="Copy request id" iconOnly size="icon" />
          </span>
        ) : null}
      </div>
      {moved ? (
        <Alert
          variant="warning"
          action={
            <Button size="sm" variant="outline" onClick={onRefresh}>
              Refresh
            </Button>
          }
        >
          <span data-testid="try-version-mismatch">
            {alias} was answered by version {result.servedVersion}, not v{expectedVersion} as this
            page shows: the alias has moved since the page loaded, or v{expectedVersion} has not
            loaded on serving (see Serving).
          </span>
        </Alert>
      ) : null}
      {errorMessage ? (
        <Alert variant="error" role="alert">
          {errorMessage}
          {typeof errorBody?.code === "string" ? (
            <span className="ml-1 font-mono text-xs opacity-80">({errorBody.code})</span>
          ) : null}
        </Alert>
      ) : null}
      <pre
        className="max-h-96 overflow-auto rounded-md border border-border bg-subtle px-3 py-2 font-mono text-xs leading-5 break-words whitespace-pre-wrap"
        aria-label="Response body"
        data-testid="try-response"
        tabIndex={0}
      >
        {prettyJson(result.body)}
      </pre>
    </section>
  );
}
