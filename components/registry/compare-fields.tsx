import type * as React from "react";
import { Badge } from "@/components/ui/badge";
import { cn } from "@/components/ui/cn";
import { Table, TBody, TD, TH, THead, TR } from "@/components/ui/table";
import { formatBytes } from "@/lib/format";
import type { OnnxSignature, OnnxSignatureDiff } from "@/lib/onnx/types";
import { formatCount, Muted, OpsetBadges, opsetDomain } from "./version-metadata";

/** The facts of a version the compare view needs besides its signature. */
export type CompareSide = { label: string; sizeBytes: number; sha256: string };

const addedTint = "bg-success-subtle [tbody>&:hover]:bg-success-subtle";
const removedTint = "bg-destructive-subtle [tbody>&:hover]:bg-destructive-subtle";

function signed(n: number, format: (n: number) => string): string {
  return `${n > 0 ? "+" : n < 0 ? "−" : "±"}${format(Math.abs(n))}`;
}

/** "+100,480 (+22.6%)": the change from a to b, absolute and relative. */
function Delta({ a, b, bytes = false }: { a: number; b: number; bytes?: boolean }) {
  const d = b - a;
  const format = bytes ? formatBytes : formatCount;
  const pct = a !== 0 ? (d / a) * 100 : null;
  return (
    <span className="tabular-nums">
      {signed(d, format)}
      {pct !== null && Number.isFinite(pct) ? (
        <span className="ml-1 text-muted-foreground">
          ({signed(Math.round(pct * 10) / 10, (x) => `${x}%`)})
        </span>
      ) : null}
    </span>
  );
}

// ---------------------------------------------------------------------------------------
// Operator sets
// ---------------------------------------------------------------------------------------

/** Every operator domain of either version; rows that differ are tinted and labelled. */
export function CompareOpsets({
  a,
  b,
  diff,
  labelA,
  labelB,
}: {
  a: OnnxSignature;
  b: OnnxSignature;
  diff: OnnxSignatureDiff;
  labelA: string;
  labelB: string;
}) {
  if (diff.opsets.length === 0) {
    return (
      <div className="flex flex-wrap items-center gap-2 rounded-lg border border-border bg-card px-4 py-3 text-[13px]">
        <span className="text-muted-foreground">Both import the same operator sets:</span>
        <OpsetBadges opsets={a.opsets} />
      </div>
    );
  }
  const key = (d: string) => (d === "ai.onnx" ? "" : d);
  const before = new Map(a.opsets.map((o) => [key(o.domain), o.version]));
  const after = new Map(b.opsets.map((o) => [key(o.domain), o.version]));
  const domains = [...new Set([...before.keys(), ...after.keys()])];
  return (
    <Table aria-label="Operator sets, A and B">
      <THead>
        <TR>
          <TH>Domain</TH>
          <TH align="right">
            A · <span className="font-mono">{labelA}</span>
          </TH>
          <TH align="right">
            B · <span className="font-mono">{labelB}</span>
          </TH>
          <TH className="hidden sm:table-cell">Change</TH>
        </TR>
      </THead>
      <TBody>
        {domains.map((domain) => {
          const x = before.get(domain) ?? null;
          const y = after.get(domain) ?? null;
          const status =
            x === y ? "same" : x === null ? "added" : y === null ? "removed" : "changed";
          return (
            <TR
              key={domain}
              className={cn(status === "added" && addedTint, status === "removed" && removedTint)}
              data-status={status}
            >
              <TD mono>
                {opsetDomain(domain)}
                {status === "same" ? null : (
                  <div className="mt-0.5 font-sans sm:hidden">
                    <OpsetChange status={status} x={x} y={y} />
                  </div>
                )}
              </TD>
              <TD numeric>{x ?? <Muted>—</Muted>}</TD>
              <TD numeric className={cn(status === "changed" && "bg-warning-subtle font-semibold")}>
                {y ?? <Muted>—</Muted>}
              </TD>
              <TD className="hidden sm:table-cell">
                <OpsetChange status={status} x={x} y={y} />
              </TD>
            </TR>
          );
        })}
      </TBody>
    </Table>
  );
}

function OpsetChange({
  status,
  x,
  y,
}: {
  status: "same" | "added" | "removed" | "changed";
  x: number | null;
  y: number | null;
}) {
  return (
    <>
      {status === "same" ? (
        <span className="text-xs text-muted-foreground">same</span>
      ) : status === "added" ? (
        <Badge variant="success" className="border-success/30">
          added
        </Badge>
      ) : status === "removed" ? (
        <Badge variant="destructive" className="border-destructive/30">
          removed
        </Badge>
      ) : (
        <Badge variant="warning">{(y ?? 0) > (x ?? 0) ? "upgraded" : "downgraded"}</Badge>
      )}
    </>
  );
}

// ---------------------------------------------------------------------------------------
// Other fields
// ---------------------------------------------------------------------------------------

type FieldRow = {
  key: string;
  label: React.ReactNode;
  a: React.ReactNode;
  b: React.ReactNode;
  delta: React.ReactNode;
  tint?: string;
};

const LABELS: Record<string, string> = {
  irVersion: "ONNX IR version",
  producerName: "Producer",
  producerVersion: "Producer version",
  domain: "Model domain",
  modelVersion: "Model version (in file)",
  graphName: "Graph name",
  nodeCount: "Nodes",
  subgraphNodeCount: "Subgraph nodes",
  initializerCount: "Initializers",
  parameterCount: "Parameters",
  parameterBytes: "Parameter size",
  functionCount: "Local functions",
  docString: "Doc string",
  graphDocString: "Graph doc string",
};

const BYTE_FIELDS = new Set(["parameterBytes"]);
const MONO_FIELDS = new Set(["producerVersion", "graphName", "domain"]);
const LONG_FIELDS = new Set(["docString", "graphDocString"]);

function text(value: unknown, field: string): React.ReactNode {
  if (value === "" || value === null || value === undefined) return <Muted>not stated</Muted>;
  if (typeof value === "number") {
    return (
      <span className="tabular-nums">
        {BYTE_FIELDS.has(field) ? formatBytes(value) : formatCount(value)}
      </span>
    );
  }
  const s = typeof value === "string" ? value : JSON.stringify(value);
  if (LONG_FIELDS.has(field)) {
    return (
      <span className="line-clamp-3 max-w-md text-xs whitespace-pre-wrap" title={s}>
        {s}
      </span>
    );
  }
  return <span className={cn(MONO_FIELDS.has(field) && "font-mono text-xs")}>{s}</span>;
}

const changedText = <span className="text-xs text-muted-foreground">changed</span>;

function fieldRows(diff: OnnxSignatureDiff, sideA: CompareSide, sideB: CompareSide): FieldRow[] {
  const rows: FieldRow[] = [];
  if (sideA.sizeBytes !== sideB.sizeBytes) {
    rows.push({
      key: "size",
      label: "File size",
      a: <span className="tabular-nums">{formatBytes(sideA.sizeBytes)}</span>,
      b: <span className="tabular-nums">{formatBytes(sideB.sizeBytes)}</span>,
      delta: <Delta a={sideA.sizeBytes} b={sideB.sizeBytes} bytes />,
    });
  }
  if (sideA.sha256 !== sideB.sha256) {
    const sha = (s: string) => (
      <code className="font-mono text-xs" title={s}>
        {s.slice(0, 8)}…
      </code>
    );
    rows.push({
      key: "sha256",
      label: "SHA-256",
      a: sha(sideA.sha256),
      b: sha(sideB.sha256),
      delta: <span className="text-xs text-muted-foreground">different bytes</span>,
    });
  }
  for (const f of diff.fields) {
    if (f.field === "opTypes") continue; // its own table
    if (f.field === "metadata") {
      const x = (f.before ?? {}) as Record<string, string>;
      const y = (f.after ?? {}) as Record<string, string>;
      for (const k of [...new Set([...Object.keys(x), ...Object.keys(y)])].sort()) {
        if (x[k] === y[k]) continue;
        const added = !(k in x);
        const removed = !(k in y);
        const value = (v: string | undefined) =>
          v === undefined ? (
            <Muted>—</Muted>
          ) : (
            <span className="line-clamp-2 max-w-md font-mono text-xs break-all" title={v}>
              {v || <Muted>(empty)</Muted>}
            </span>
          );
        rows.push({
          key: `metadata:${k}`,
          label: (
            <>
              <Muted>metadata</Muted> <span className="font-mono text-xs">{k}</span>
            </>
          ),
          a: value(x[k]),
          b: value(y[k]),
          delta: added ? (
            <Badge variant="success" className="border-success/30">
              added
            </Badge>
          ) : removed ? (
            <Badge variant="destructive" className="border-destructive/30">
              removed
            </Badge>
          ) : (
            changedText
          ),
          tint: added ? addedTint : removed ? removedTint : undefined,
        });
      }
      continue;
    }
    const numeric = typeof f.before === "number" && typeof f.after === "number";
    rows.push({
      key: f.field,
      label: LABELS[f.field] ?? f.field,
      a: text(f.before, f.field),
      b: text(f.after, f.field),
      delta: numeric ? (
        <Delta a={f.before as number} b={f.after as number} bytes={BYTE_FIELDS.has(f.field)} />
      ) : (
        changedText
      ),
    });
  }
  return rows;
}

/** File, producer, graph and weight facts that differ between A and B. */
export function CompareFields({
  diff,
  a,
  b,
}: {
  diff: OnnxSignatureDiff;
  a: CompareSide;
  b: CompareSide;
}) {
  const rows = fieldRows(diff, a, b);
  if (rows.length === 0) {
    return (
      <p className="rounded-lg border border-border bg-card px-4 py-3 text-[13px] text-muted-foreground">
        No other differences: the two versions are the same file.
      </p>
    );
  }
  return (
    <Table aria-label="Other differences, A and B">
      <THead>
        <TR>
          <TH>Field</TH>
          <TH>
            A · <span className="font-mono">{a.label}</span>
          </TH>
          <TH>
            B · <span className="font-mono">{b.label}</span>
          </TH>
          <TH className="hidden md:table-cell">Difference</TH>
        </TR>
      </THead>
      <TBody>
        {rows.map((r) => (
          <TR key={r.key} className={r.tint} data-testid={`compare-field-${r.key}`}>
            <TD className="min-w-32 font-medium whitespace-normal [overflow-wrap:anywhere]">
              {r.label}
              <div className="mt-0.5 text-xs font-normal whitespace-nowrap md:hidden">
                {r.delta}
              </div>
            </TD>
            <TD wrap className="min-w-24 md:min-w-48">
              {r.a}
            </TD>
            <TD wrap className="min-w-24 md:min-w-48">
              {r.b}
            </TD>
            <TD className="hidden md:table-cell">{r.delta}</TD>
          </TR>
        ))}
      </TBody>
    </Table>
  );
}

// ---------------------------------------------------------------------------------------
// Operator usage
// ---------------------------------------------------------------------------------------

/** Operators whose use count differs, largest change first; null when the usage is identical. */
export function CompareOperators({
  a,
  b,
  labelA,
  labelB,
}: {
  a: OnnxSignature;
  b: OnnxSignature;
  labelA: string;
  labelB: string;
}) {
  const ops = [...new Set([...Object.keys(a.opTypes), ...Object.keys(b.opTypes)])];
  const rows = ops
    .map((op) => ({ op, x: a.opTypes[op] ?? 0, y: b.opTypes[op] ?? 0 }))
    .filter((r) => r.x !== r.y)
    .sort((p, q) => Math.abs(q.y - q.x) - Math.abs(p.y - p.x) || (p.op < q.op ? -1 : 1));
  if (rows.length === 0) return null;
  const same = ops.length - rows.length;
  return (
    <>
      <Table aria-label="Operator usage, A and B" stickyHeader maxHeight="26rem">
        <THead>
          <TR>
            <TH>Operator</TH>
            <TH align="right">
              A · <span className="font-mono">{labelA}</span>
            </TH>
            <TH align="right">
              B · <span className="font-mono">{labelB}</span>
            </TH>
            <TH align="right">Change</TH>
            <TH className="hidden sm:table-cell">
              <span className="sr-only">Status</span>
            </TH>
          </TR>
        </THead>
        <TBody>
          {rows.map((r) => (
            <TR
              key={r.op}
              className={cn(r.x === 0 && addedTint, r.y === 0 && removedTint)}
              data-status={r.x === 0 ? "added" : r.y === 0 ? "removed" : "changed"}
            >
              <TD mono>{r.op}</TD>
              <TD numeric>{r.x === 0 ? <Muted>—</Muted> : formatCount(r.x)}</TD>
              <TD numeric>{r.y === 0 ? <Muted>—</Muted> : formatCount(r.y)}</TD>
              <TD numeric>{signed(r.y - r.x, formatCount)}</TD>
              <TD className="hidden w-full sm:table-cell">
                {r.x === 0 ? (
                  <Badge variant="success" className="border-success/30">
                    new operator
                  </Badge>
                ) : r.y === 0 ? (
                  <Badge variant="destructive" className="border-destructive/30">
                    no longer used
                  </Badge>
                ) : null}
              </TD>
            </TR>
          ))}
        </TBody>
      </Table>
      {same > 0 ? (
        <p className="mt-2 text-xs text-muted-foreground">
          {same} other operator {same === 1 ? "type is" : "types are"} used equally often in both.
        </p>
      ) : null}
    </>
  );
}
