import Link from "next/link";
import { Time } from "@/components/time";
import { Badge } from "@/components/ui/badge";
import { formatBytes } from "@/lib/format";
import type { VersionDetail } from "@/lib/registry";
import { AliasBadge } from "./alias-badge";

/** One side of a comparison: which version, its aliases, and where it came from. */
export function CompareVersionCard({ side, version }: { side: "A" | "B"; version: VersionDetail }) {
  const href = `/models/${encodeURIComponent(version.model)}/versions/${version.version}`;
  return (
    <div
      className="flex min-w-0 items-start gap-3 rounded-lg border border-border bg-card px-4 py-3 shadow-xs"
      data-testid={`compare-side-${side.toLowerCase()}`}
    >
      <span
        aria-hidden
        className="flex size-7 shrink-0 items-center justify-center rounded-md bg-muted text-xs font-semibold text-muted-foreground"
      >
        {side}
      </span>
      <div className="grid min-w-0 flex-1 gap-1">
        <div className="flex flex-wrap items-center gap-1.5">
          <span className="sr-only">{side}: </span>
          <Link
            href={href}
            className="font-mono text-base leading-6 font-semibold text-accent hover:underline"
          >
            v{version.version}
          </Link>
          <Badge variant={version.status === "ready" ? "success" : "neutral"} dot>
            {version.status}
          </Badge>
          {version.aliases.map((a) => (
            <AliasBadge key={a} name={a} />
          ))}
        </div>
        <p className="truncate text-xs text-muted-foreground">
          <Time value={version.createdAt} className="tabular-nums" /> · {version.createdBy.label} ·{" "}
          <span className="tabular-nums">{formatBytes(version.sizeBytes)}</span>
          {version.description ? <> · {version.description}</> : null}
        </p>
      </div>
    </div>
  );
}
