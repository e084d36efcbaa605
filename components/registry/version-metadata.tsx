import type * as React from "react";
import { Badge } from "@/components/ui/badge";
import { cn } from "@/components/ui/cn";
import { CopyButton } from "@/components/ui/copy-button";
import { Table, TBody, TD, TH, THead, TR } from "@/components/ui/table";
import { formatBytes } from "@/lib/format";
import type { OnnxOpsetImport, OnnxSignature } from "@/lib/onnx/types";
import type { VersionDetail } from "@/lib/registry";

/** Thousands separators, the same on server and browser. */
export const formatCount = (n: number) => new Intl.NumberFormat("en-US").format(n);

/**
 * The stored signature as lib/onnx wrote it, or null when the JSON has another layout (the
 * registry keeps it opaque, so pages check before reading fields).
 */
export function readSignature(value: unknown): OnnxSignature | null {
  if (typeof value !== "object" || value === null) return null;
  const s = value as Partial<OnnxSignature>;
  if (s.schemaVersion !== 1 || !Array.isArray(s.inputs) || !Array.isArray(s.outputs)) return null;
  if (!Array.isArray(s.opsets) || typeof s.opTypes !== "object" || s.opTypes === null) return null;
  return s as OnnxSignature;
}

/** "" and "ai.onnx" both name the default operator domain. */
export const opsetDomain = (domain: string) => (domain === "" ? "ai.onnx" : domain);

export function OpsetBadges({ opsets }: { opsets: readonly OnnxOpsetImport[] }) {
  if (opsets.length === 0) return <Muted>none declared</Muted>;
  return (
    <ul className="flex flex-wrap gap-1" aria-label="Operator sets">
      {opsets.map((o) => (
        <li key={`${o.domain}@${o.version}`}>
          <Badge variant={o.domain === "" || o.domain === "ai.onnx" ? "accent" : "outline"}>
            <span className="font-mono">
              {opsetDomain(o.domain)}@{o.version}
            </span>
          </Badge>
        </li>
      ))}
    </ul>
  );
}

export function Muted({ children }: { children: React.ReactNode }) {
  return <span className="text-muted-foreground">{children}</span>;
}

/** One label/value row of a dense definition list: label beside the value, or above it. */
export function DefRow({
  label,
  children,
  stacked = false,
  className,
}: {
  label: React.ReactNode;
  children: React.ReactNode;
  /** For the page's side column: label above the value once that column is narrow (xl). */
  stacked?: boolean;
  className?: string;
}) {
  return (
    <div
      className={cn(
        "grid gap-1 border-b border-border px-4 py-2.5 last:border-b-0",
        "sm:grid-cols-[10rem_minmax(0,1fr)] sm:gap-4",
        stacked && "xl:grid-cols-1 xl:gap-0.5 xl:py-2",
        className,
      )}
    >
      <dt className={cn("text-[13px] leading-5 text-muted-foreground", stacked && "xl:text-xs")}>
        {label}
      </dt>
      <dd className="min-w-0 text-[13px] leading-5">{children}</dd>
    </div>
  );
}

/** An h2 with an optional one-line note on the right, above a table or panel. */
export function SectionHeading({
  id,
  title,
  aside,
}: {
  id: string;
  title: React.ReactNode;
  aside?: React.ReactNode;
}) {
  return (
    <div className="mb-2 flex flex-wrap items-baseline justify-between gap-x-4 gap-y-0.5">
      <h2 id={id} className="text-sm font-semibold">
        {title}
      </h2>
      {aside ? <div className="text-xs text-muted-foreground">{aside}</div> : null}
    </div>
  );
}

/** The bordered surface a definition list sits on. */
export const panelClass = "min-w-0 rounded-lg border border-border bg-card shadow-xs";

const TOP_OPS = 10;

/** Operators by use, most used first; the long tail folds away. */
function OpTypes({ opTypes }: { opTypes: Record<string, number> }) {
  const ops = Object.entries(opTypes).sort(([a, x], [b, y]) => y - x || (a < b ? -1 : 1));
  if (ops.length === 0) return <Muted>none</Muted>;
  const total = ops.reduce((sum, [, n]) => sum + n, 0);
  const chip = ([op, n]: [string, number]) => (
    <li
      key={op}
      className="inline-flex h-6 items-center gap-1.5 rounded-md border border-border bg-subtle pr-1.5 pl-2 text-xs"
    >
      <span className="font-mono">{op}</span>
      <span className="text-muted-foreground tabular-nums">×{formatCount(n)}</span>
    </li>
  );
  const rest = ops.slice(TOP_OPS);
  return (
    <div className="grid gap-1.5">
      <p className="text-xs text-muted-foreground">
        {ops.length} operator {ops.length === 1 ? "type" : "types"}, {formatCount(total)}{" "}
        {total === 1 ? "use" : "uses"}
      </p>
      <ul className="flex flex-wrap gap-1" aria-label="Most used operators">
        {ops.slice(0, TOP_OPS).map(chip)}
      </ul>
      {rest.length > 0 ? (
        <details className="group">
          <summary className="w-fit cursor-pointer rounded-sm text-xs font-medium text-accent select-none hover:underline">
            <span className="group-open:hidden">Show {rest.length} more</span>
            <span className="hidden group-open:inline">Show fewer</span>
          </summary>
          <ul className="mt-1.5 flex flex-wrap gap-1" aria-label="Other operators">
            {rest.map(chip)}
          </ul>
        </details>
      ) : null}
    </div>
  );
}

function DocString({ text }: { text: string }) {
  if (!text.trim()) return <Muted>none</Muted>;
  return (
    <div className="max-h-40 overflow-auto rounded-md border border-border bg-subtle px-2.5 py-1.5 text-xs leading-5 whitespace-pre-wrap">
      {text}
    </div>
  );
}

function MetadataProps({ metadata }: { metadata: Record<string, string> }) {
  const entries = Object.entries(metadata);
  if (entries.length === 0) return <Muted>none</Muted>;
  return (
    <Table aria-label="Metadata properties" className="text-xs">
      <THead>
        <TR>
          <TH>Key</TH>
          <TH>Value</TH>
        </TR>
      </THead>
      <TBody>
        {entries.map(([key, value]) => (
          <TR key={key}>
            <TD mono className="h-8 align-top font-medium">
              {key}
            </TD>
            <TD wrap className="h-8 align-top font-mono text-xs break-all whitespace-pre-wrap">
              {value || <Muted>(empty)</Muted>}
            </TD>
          </TR>
        ))}
      </TBody>
    </Table>
  );
}

/** Everything the file says about itself, plus the stored artifact's size and checksum. */
export function VersionMetadata({
  version,
  signature,
}: {
  version: VersionDetail;
  signature: OnnxSignature | null;
}) {
  const s = signature;
  return (
    <div className={panelClass}>
      <dl>
        <DefRow label="Size">
          <span className="font-medium tabular-nums">{formatBytes(version.sizeBytes)}</span>
          {version.sizeBytes >= 1024 ? (
            <Muted>
              {" "}
              <span className="tabular-nums">{formatCount(version.sizeBytes)}</span> bytes
            </Muted>
          ) : null}
        </DefRow>
        <DefRow label="SHA-256">
          <div className="flex items-start gap-2">
            <code className="min-w-0 font-mono text-xs leading-5 break-all" data-testid="sha256">
              {version.sha256}
            </code>
            <CopyButton
              value={version.sha256}
              label="Copy SHA-256"
              iconOnly
              variant="ghost"
              className="-my-1 size-7 shrink-0"
            />
          </div>
        </DefRow>
        {s ? (
          <>
            <DefRow label="ONNX IR version">
              <span className="tabular-nums">{s.irVersion}</span>
            </DefRow>
            <DefRow label="Operator sets">
              <OpsetBadges opsets={s.opsets} />
            </DefRow>
            <DefRow label="Producer">
              {s.producerName ? (
                <>
                  <span className="font-medium">{s.producerName}</span>
                  {s.producerVersion ? (
                    <span className="ml-1.5 font-mono text-xs text-muted-foreground">
                      {s.producerVersion}
                    </span>
                  ) : null}
                </>
              ) : (
                <Muted>not stated</Muted>
              )}
            </DefRow>
            {s.domain ? (
              <DefRow label="Model domain">
                <span className="font-mono text-xs">{s.domain}</span>
              </DefRow>
            ) : null}
            {s.modelVersion ? (
              <DefRow label="Model version">
                <span className="tabular-nums">{s.modelVersion}</span>{" "}
                <Muted>set in the file by its author</Muted>
              </DefRow>
            ) : null}
            <DefRow label="Graph">
              {s.graphName ? (
                <span className="font-mono text-xs">{s.graphName}</span>
              ) : (
                <Muted>unnamed</Muted>
              )}
            </DefRow>
            <DefRow label="Nodes">
              <span className="tabular-nums">{formatCount(s.nodeCount)}</span>
              {s.subgraphNodeCount > 0 ? (
                <Muted>
                  {" "}
                  + <span className="tabular-nums">{formatCount(s.subgraphNodeCount)}</span> in
                  subgraphs
                </Muted>
              ) : null}
              {s.functionCount > 0 ? (
                <Muted>
                  {" "}
                  · {formatCount(s.functionCount)} local function
                  {s.functionCount === 1 ? "" : "s"}
                </Muted>
              ) : null}
            </DefRow>
            <DefRow label="Parameters">
              <span className="tabular-nums">{formatCount(s.parameterCount)}</span>{" "}
              <Muted>
                elements · <span className="tabular-nums">{formatBytes(s.parameterBytes)}</span>
              </Muted>
            </DefRow>
            <DefRow label="Initializers">
              <span className="tabular-nums">{formatCount(s.initializerCount)}</span>
            </DefRow>
            <DefRow label="Operators">
              <OpTypes opTypes={s.opTypes} />
            </DefRow>
            <DefRow label="Doc string">
              <DocString text={s.docString} />
            </DefRow>
            {s.graphDocString.trim() ? (
              <DefRow label="Graph doc string">
                <DocString text={s.graphDocString} />
              </DefRow>
            ) : null}
            <DefRow label="Metadata properties">
              <MetadataProps metadata={s.metadata} />
            </DefRow>
          </>
        ) : (
          <DefRow label="ONNX details">
            <Muted>Not recorded in a format this version of ModelDeck reads.</Muted>
          </DefRow>
        )}
      </dl>
    </div>
  );
}
