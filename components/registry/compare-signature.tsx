import type * as React from "react";
import { Badge } from "@/components/ui/badge";
import { cn } from "@/components/ui/cn";
import { Table, TBody, TD, TEmptyRow, TH, THead, TR } from "@/components/ui/table";
import type {
  OnnxDim,
  OnnxSignature,
  OnnxSignatureDiff,
  OnnxValueChange,
  OnnxValueSignature,
} from "@/lib/onnx/types";

type Role = "input" | "output";
type Status = "same" | "added" | "removed" | "changed";
type Row = {
  role: Role;
  name: string;
  status: Status;
  a: OnnxValueSignature | null;
  b: OnnxValueSignature | null;
  changes: OnnxValueChange["changes"];
};

const plural = (n: number, word: string) => `${word}${n === 1 ? "" : "s"}`;

/** "1 input added, 2 removed, 1 changed" for one side of the interface ("" when unchanged). */
function describeSide(side: OnnxSignatureDiff["inputs"], noun: string): string {
  const parts: string[] = [];
  for (const [count, verb] of [
    [side.added.length, "added"],
    [side.removed.length, "removed"],
    [side.changed.length, "changed"],
  ] as const) {
    if (count === 0) continue;
    parts.push(parts.length === 0 ? `${count} ${plural(count, noun)} ${verb}` : `${count} ${verb}`);
  }
  return parts.join(", ");
}

/** The one-line verdict: "Same interface" or "Interface changed: 1 input added, 2 removed; …". */
export function describeInterface(diff: OnnxSignatureDiff): string {
  if (diff.sameInterface) return "Same interface";
  const sides = [describeSide(diff.inputs, "input"), describeSide(diff.outputs, "output")].filter(
    Boolean,
  );
  return `Interface changed: ${sides.join("; ")}`;
}

function rowsFor(
  role: Role,
  before: OnnxValueSignature[],
  after: OnnxValueSignature[],
  side: OnnxSignatureDiff["inputs"],
): Row[] {
  const inB = new Map(after.map((v) => [v.name, v]));
  const inA = new Set(before.map((v) => v.name));
  const changed = new Map(side.changed.map((c) => [c.name, c.changes]));
  const rows: Row[] = before.map((v) => {
    const w = inB.get(v.name) ?? null;
    const changes = changed.get(v.name) ?? [];
    return {
      role,
      name: v.name,
      status: w === null ? "removed" : changes.length > 0 ? "changed" : "same",
      a: v,
      b: w,
      changes,
    };
  });
  for (const w of after) {
    if (!inA.has(w.name))
      rows.push({ role, name: w.name, status: "added", a: null, b: w, changes: [] });
  }
  return rows;
}

function Mark({ on, children }: { on: boolean; children: React.ReactNode }) {
  if (!on) return <>{children}</>;
  return (
    <mark className="rounded-sm bg-warning/25 px-0.5 font-semibold text-warning-subtle-foreground">
      {children}
    </mark>
  );
}

function Dim({ dim }: { dim: OnnxDim }) {
  if (typeof dim === "string") {
    return (
      <span className="text-accent" title="symbolic (dynamic) dimension">
        {dim}
      </span>
    );
  }
  if (dim === null) {
    return (
      <span className="text-muted-foreground" title="unknown dimension">
        ?
      </span>
    );
  }
  return <>{dim}</>;
}

/** A shape with the dimensions that differ from `other` marked (all of it if the rank differs). */
function Shape({
  shape,
  other,
  compare,
}: {
  shape: OnnxDim[] | null;
  other: OnnxDim[] | null;
  compare: boolean;
}) {
  const sameRank = shape !== null && other !== null && shape.length === other.length;
  const whole = compare && !sameRank;
  if (shape === null) {
    return (
      <Mark on={whole}>
        <span className="text-muted-foreground">any rank</span>
      </Mark>
    );
  }
  if (shape.length === 0) {
    return (
      <Mark on={whole}>
        <span className="text-muted-foreground">scalar</span>
      </Mark>
    );
  }
  return (
    <span className="font-mono text-xs">
      <Mark on={whole}>
        [
        {shape.map((d, i) => (
          <span key={i}>
            {i > 0 ? ", " : ""}
            <Mark on={compare && sameRank && other[i] !== d}>
              <Dim dim={d} />
            </Mark>
          </span>
        ))}
        ]
      </Mark>
    </span>
  );
}

const typeOf = (v: OnnxValueSignature) => v.dtype ?? v.type;

function Absent({ version }: { version: string }) {
  return (
    <span className="font-sans text-muted-foreground">
      —<span className="sr-only"> not in {version}</span>
    </span>
  );
}

const rowTint: Record<Status, string> = {
  same: "",
  changed: "",
  added: "bg-success-subtle [tbody>&:hover]:bg-success-subtle",
  removed: "bg-destructive-subtle [tbody>&:hover]:bg-destructive-subtle",
};

function ChangeBadge({ row }: { row: Row }) {
  if (row.status === "same") return <span className="text-xs text-muted-foreground">same</span>;
  if (row.status === "added") {
    return (
      <Badge variant="success" className="border-success/30">
        added
      </Badge>
    );
  }
  if (row.status === "removed") {
    return (
      <Badge variant="destructive" className="border-destructive/30">
        removed
      </Badge>
    );
  }
  const what = row.changes.map((c) => (c === "dtype" ? "type" : c));
  return <Badge variant="warning">{what.join(", ")} changed</Badge>;
}

/**
 * Inputs and outputs of A and B in one table: added rows tinted green, removed red, and the
 * changed type or shape cells amber with the differing part marked.
 */
export function CompareSignatureTable({
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
  const rows = [
    ...rowsFor("input", a.inputs, b.inputs, diff.inputs),
    ...rowsFor("output", a.outputs, b.outputs, diff.outputs),
  ];
  const groupStart = "border-l border-border";
  return (
    <>
      <CompareSignatureList rows={rows} labelA={labelA} labelB={labelB} />
      <Table aria-label="Inputs and outputs, A and B" containerClassName="hidden sm:block">
        <THead>
          <TR>
            <TH colSpan={3} className="h-7">
              <span className="sr-only">Value</span>
            </TH>
            <TH colSpan={2} className={cn("h-7 text-foreground", groupStart)}>
              A · <span className="font-mono">{labelA}</span>
            </TH>
            <TH colSpan={2} className={cn("h-7 text-foreground", groupStart)}>
              B · <span className="font-mono">{labelB}</span>
            </TH>
          </TR>
          <TR>
            <TH className="w-20">Role</TH>
            <TH>Name</TH>
            <TH>Change</TH>
            <TH className={groupStart}>Type</TH>
            <TH>Shape</TH>
            <TH className={groupStart}>Type</TH>
            <TH>Shape</TH>
          </TR>
        </THead>
        <TBody>
          {rows.length === 0 ? (
            <TEmptyRow colSpan={7}>Neither version declares inputs or outputs.</TEmptyRow>
          ) : (
            rows.map((row) => {
              const typeChanged = row.changes.includes("dtype") || row.changes.includes("kind");
              const shapeChanged = row.changes.includes("shape");
              const warn = "bg-warning-subtle";
              return (
                <TR
                  key={`${row.role}-${row.name}`}
                  className={rowTint[row.status]}
                  data-testid={`compare-${row.role}-${row.name}`}
                  data-status={row.status}
                >
                  <TD>
                    <Badge variant={row.role === "input" ? "accent" : "neutral"}>{row.role}</Badge>
                  </TD>
                  <TD className="font-mono text-xs font-medium">{row.name}</TD>
                  <TD>
                    <ChangeBadge row={row} />
                  </TD>
                  <TD className={cn("font-mono text-xs", groupStart, typeChanged && warn)}>
                    {row.a ? (
                      <Mark on={typeChanged}>{typeOf(row.a)}</Mark>
                    ) : (
                      <Absent version={labelA} />
                    )}
                  </TD>
                  <TD className={cn(shapeChanged && warn)}>
                    {row.a ? (
                      <Shape
                        shape={row.a.shape}
                        other={row.b?.shape ?? null}
                        compare={shapeChanged}
                      />
                    ) : (
                      <Absent version={labelA} />
                    )}
                  </TD>
                  <TD className={cn("font-mono text-xs", groupStart, typeChanged && warn)}>
                    {row.b ? (
                      <Mark on={typeChanged}>{typeOf(row.b)}</Mark>
                    ) : (
                      <Absent version={labelB} />
                    )}
                  </TD>
                  <TD className={cn(shapeChanged && warn)}>
                    {row.b ? (
                      <Shape
                        shape={row.b.shape}
                        other={row.a?.shape ?? null}
                        compare={shapeChanged}
                      />
                    ) : (
                      <Absent version={labelB} />
                    )}
                  </TD>
                </TR>
              );
            })
          )}
        </TBody>
      </Table>
    </>
  );
}

/** The same rows as cards, for phones: each value's A and B one above the other. */
function CompareSignatureList({
  rows,
  labelA,
  labelB,
}: {
  rows: Row[];
  labelA: string;
  labelB: string;
}) {
  if (rows.length === 0) {
    return (
      <p className="rounded-lg border border-border bg-card px-4 py-6 text-center text-[13px] text-muted-foreground sm:hidden">
        Neither version declares inputs or outputs.
      </p>
    );
  }
  const side = (
    label: string,
    v: OnnxValueSignature | null,
    other: OnnxValueSignature | null,
    row: Row,
  ) => {
    const typeChanged = row.changes.includes("dtype") || row.changes.includes("kind");
    return (
      <>
        <dt className="font-mono text-muted-foreground">{label}</dt>
        <dd className="flex min-w-0 flex-wrap items-baseline gap-x-2">
          {v ? (
            <>
              <span className="font-mono">
                <Mark on={typeChanged}>{typeOf(v)}</Mark>
              </span>
              <Shape
                shape={v.shape}
                other={other?.shape ?? null}
                compare={row.changes.includes("shape")}
              />
            </>
          ) : (
            <Absent version={label} />
          )}
        </dd>
      </>
    );
  };
  return (
    <ul className="grid gap-2 sm:hidden" aria-label="Inputs and outputs, A and B">
      {rows.map((row) => (
        <li
          key={`${row.role}-${row.name}`}
          className={cn(
            "rounded-lg border border-border bg-card px-3 py-2.5 text-xs",
            row.status === "added" && "border-success/30 bg-success-subtle",
            row.status === "removed" && "border-destructive/30 bg-destructive-subtle",
            row.status === "changed" && "border-warning/40",
          )}
        >
          <div className="flex items-center gap-2">
            <Badge variant={row.role === "input" ? "accent" : "neutral"}>{row.role}</Badge>
            <span className="min-w-0 truncate font-mono text-[13px] font-medium">{row.name}</span>
            <span className="ml-auto shrink-0">
              <ChangeBadge row={row} />
            </span>
          </div>
          <dl className="mt-2 grid grid-cols-[2rem_minmax(0,1fr)] gap-x-2 gap-y-1">
            {side(labelA, row.a, row.b, row)}
            {side(labelB, row.b, row.a, row)}
          </dl>
        </li>
      ))}
    </ul>
  );
}
