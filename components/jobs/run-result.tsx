import Link from "next/link";
import { CheckIcon, XIcon } from "lucide-react";
import { Badge } from "@/components/ui/badge";
import { Table, TBody, TD, TH, THead, TR } from "@/components/ui/table";

/** A run's result, read by shape: files of an import, a trainer's version, a promotion decision. */

type FileOutcome = { file: string; reason?: string; version?: number };
type ImportResult = {
  directory: string;
  imported: FileOutcome[];
  skipped: FileOutcome[];
  rejected: FileOutcome[];
  ignored: FileOutcome[];
  evaluation?: unknown;
};
type Criterion = { name: string; pass: boolean; message: string };
type Decision = {
  decision: "promoted" | "kept" | "conflict";
  promotedVersion: number | null;
  productionVersion: number | null;
  reason: string;
  criteria: { version: number; pass: boolean; criteria: Criterion[] }[];
  dataset?: { name: string; version: number };
};
type RetrainResult = {
  trainer: string;
  dataset: { name: string; version: number };
  parentVersion: number | null;
  /** external trainer */
  exitCode?: number;
  /** built-in trainer */
  algorithm?: string;
  rows?: number;
  durationMs: number;
  registered: { version: number } | null;
  unchanged?: { sameAsVersion: number };
  evaluation?: unknown;
};

const isObject = (v: unknown): v is Record<string, unknown> => typeof v === "object" && v !== null;
const isImport = (v: unknown): v is ImportResult =>
  isObject(v) && Array.isArray(v.imported) && Array.isArray(v.rejected);
const isDecision = (v: unknown): v is Decision =>
  isObject(v) &&
  (v.decision === "promoted" || v.decision === "kept" || v.decision === "conflict") &&
  Array.isArray(v.criteria);

const outcome = {
  promoted: { label: "promoted", variant: "success" },
  kept: { label: "production kept", variant: "neutral" },
  // The gate chose a version, but production moved meanwhile: nothing was changed.
  conflict: { label: "conflict: production moved", variant: "warning" },
} as const;
const isRetrain = (v: unknown): v is RetrainResult =>
  isObject(v) && (v.trainer === "external" || v.trainer === "builtin") && "registered" in v;

function VersionLink({ model, version }: { model: string; version: number }) {
  return (
    <Link
      href={`/models/${encodeURIComponent(model)}/versions/${version}`}
      className="font-mono text-accent hover:underline"
    >
      v{version}
    </Link>
  );
}

export function DecisionView({ decision, model }: { decision: Decision; model: string }) {
  return (
    <div className="grid gap-3" data-testid="run-decision">
      <div className="flex flex-wrap items-center gap-2 text-sm">
        <Badge variant={outcome[decision.decision].variant} data-testid="run-decision-outcome">
          {outcome[decision.decision].label}
        </Badge>
        {decision.promotedVersion !== null ? (
          <span>
            production → <VersionLink model={model} version={decision.promotedVersion} />
          </span>
        ) : null}
        <span className="text-muted-foreground">{decision.reason}</span>
      </div>
      {decision.criteria.map((c) => (
        <div
          key={c.version}
          className="rounded-md border border-border"
          data-testid={`candidate-${c.version}`}
        >
          <div className="flex items-center gap-2 border-b border-border bg-subtle px-3 py-1.5 text-[13px]">
            <span className="font-medium">Candidate</span>
            <VersionLink model={model} version={c.version} />
            <Badge variant={c.pass ? "success" : "destructive"}>
              {c.pass ? "passes the gate" : "fails the gate"}
            </Badge>
          </div>
          <ul className="grid gap-1 px-3 py-2 text-[13px]">
            {c.criteria.map((k) => (
              <li
                key={k.name}
                className="flex gap-2"
                data-testid={`criterion-${k.name}`}
                data-pass={k.pass ? "true" : "false"}
              >
                {k.pass ? (
                  <CheckIcon aria-label="pass" className="mt-0.5 size-4 shrink-0 text-success" />
                ) : (
                  <XIcon aria-label="fail" className="mt-0.5 size-4 shrink-0 text-destructive" />
                )}
                <span>{k.message}</span>
              </li>
            ))}
          </ul>
        </div>
      ))}
    </div>
  );
}

function ImportView({ result, model }: { result: ImportResult; model: string }) {
  const rows: {
    file: string;
    outcome: string;
    variant: "success" | "neutral" | "destructive" | "warning";
    version?: number;
    reason?: string;
  }[] = [
    ...result.imported.map((f) => ({ ...f, outcome: "imported", variant: "success" as const })),
    ...result.skipped.map((f) => ({
      ...f,
      outcome: "already registered",
      variant: "neutral" as const,
    })),
    ...result.rejected.map((f) => ({ ...f, outcome: "rejected", variant: "destructive" as const })),
    ...result.ignored.map((f) => ({ ...f, outcome: "not imported", variant: "warning" as const })),
  ];
  return (
    <div className="grid gap-3">
      <p className="text-sm">
        <span className="font-mono">{result.directory}</span>: {result.imported.length} imported,{" "}
        {result.skipped.length} already registered, {result.rejected.length} rejected,{" "}
        {result.ignored.length} not imported.
      </p>
      {rows.length > 0 ? (
        <Table aria-label="Files">
          <THead>
            <TR>
              <TH>File</TH>
              <TH>Outcome</TH>
              <TH>Version</TH>
              <TH>Why</TH>
            </TR>
          </THead>
          <TBody>
            {rows.map((r) => (
              <TR key={`${r.outcome}-${r.file}`} data-testid={`import-file-${r.file}`}>
                <TD className="font-mono text-[13px]">{r.file}</TD>
                <TD>
                  <Badge variant={r.variant}>{r.outcome}</Badge>
                </TD>
                <TD>{r.version ? <VersionLink model={model} version={r.version} /> : "—"}</TD>
                <TD wrap className="text-[13px] text-muted-foreground">
                  {r.reason ?? ""}
                </TD>
              </TR>
            ))}
          </TBody>
        </Table>
      ) : null}
      {isDecision(result.evaluation) ? (
        <DecisionView decision={result.evaluation} model={model} />
      ) : null}
    </div>
  );
}

function RetrainView({ result, model }: { result: RetrainResult; model: string }) {
  return (
    <div className="grid gap-3">
      <dl className="grid grid-cols-[max-content_1fr] gap-x-4 gap-y-1 text-sm">
        <dt className="text-muted-foreground">Registered</dt>
        <dd>
          {result.registered ? (
            <VersionLink model={model} version={result.registered.version} />
          ) : result.unchanged ? (
            `nothing new (same bytes as v${result.unchanged.sameAsVersion})`
          ) : (
            "nothing"
          )}
        </dd>
        <dt className="text-muted-foreground">Parent</dt>
        <dd>
          {result.parentVersion !== null ? (
            <VersionLink model={model} version={result.parentVersion} />
          ) : (
            "none"
          )}
        </dd>
        <dt className="text-muted-foreground">Dataset</dt>
        <dd>
          {result.dataset.name} v{result.dataset.version}
        </dd>
        <dt className="text-muted-foreground">Trainer</dt>
        <dd>
          {result.trainer === "builtin"
            ? `built-in ${(result.algorithm ?? "").replace(/-/g, " ")}, ${result.rows ?? "?"} rows, trained in ${(result.durationMs / 1000).toFixed(1)} s`
            : `exit ${result.exitCode} after ${(result.durationMs / 1000).toFixed(1)} s`}
        </dd>
      </dl>
      {isDecision(result.evaluation) ? (
        <DecisionView decision={result.evaluation} model={model} />
      ) : null}
    </div>
  );
}

export function RunResult({ result, model }: { result: unknown; model: string }) {
  if (result === null || result === undefined) {
    return <p className="text-sm text-muted-foreground">No result yet.</p>;
  }
  if (isImport(result)) return <ImportView result={result} model={model} />;
  if (isRetrain(result)) return <RetrainView result={result} model={model} />;
  if (isObject(result) && isDecision(result.decision)) {
    return <DecisionView decision={result.decision} model={model} />;
  }
  return (
    <pre className="max-h-96 overflow-auto rounded-md bg-subtle p-3 font-mono text-xs">
      {JSON.stringify(result, null, 2)}
    </pre>
  );
}
