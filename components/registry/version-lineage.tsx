import Link from "next/link";
import { ExternalLinkIcon, GitCompareIcon } from "lucide-react";
import { Time } from "@/components/time";
import { Badge } from "@/components/ui/badge";
import { cn } from "@/components/ui/cn";
import type { VersionDetail } from "@/lib/registry";
import { DefRow, Muted, panelClass } from "./version-metadata";

const actorKind: Record<string, string> = { user: "user", token: "API token", system: "system" };

const lineageText = {
  upload: "Uploaded as a file",
  retrain: "Retrained by a refresh job",
  import: "Imported from elsewhere",
} as const;

/** A source that is a web address becomes a link; anything else (a commit, a run id) is text. */
function Source({ value }: { value: string }) {
  let url: URL | null = null;
  try {
    url = /^https?:\/\//i.test(value) ? new URL(value) : null;
  } catch {
    url = null;
  }
  if (!url) return <span className="font-mono text-xs [overflow-wrap:anywhere]">{value}</span>;
  return (
    <a
      href={url.href}
      target="_blank"
      rel="noopener noreferrer"
      className="font-medium [overflow-wrap:anywhere] text-accent hover:underline"
    >
      {value}
      <ExternalLinkIcon aria-hidden className="ml-1 inline size-3.5 align-[-2px]" />
      <span className="sr-only"> (opens in a new tab)</span>
    </a>
  );
}

/** Who uploaded the version, when, from where, and what it was derived from. */
export function VersionLineage({ version }: { version: VersionDetail }) {
  const model = encodeURIComponent(version.model);
  const parent = version.lineage.parent;
  const kind = actorKind[version.createdBy.type] ?? version.createdBy.type;
  return (
    <div className={panelClass}>
      <dl>
        <DefRow label="Uploaded by" stacked>
          <span className="font-medium [overflow-wrap:anywhere]">{version.createdBy.label}</span>
          {kind !== version.createdBy.label ? (
            <span className="text-xs text-muted-foreground"> ({kind})</span>
          ) : null}
        </DefRow>
        <DefRow label="When" stacked>
          <Time value={version.createdAt} className="tabular-nums" />
        </DefRow>
        <DefRow label="Kind" stacked>
          <Badge variant="neutral">{version.lineage.kind}</Badge>
          <span className="ml-1.5 text-xs text-muted-foreground">
            {lineageText[version.lineage.kind]}
          </span>
        </DefRow>
        <DefRow label="Parent" stacked>
          {parent ? (
            <span className="inline-flex flex-wrap items-center gap-x-2">
              <Link
                href={`/models/${model}/versions/${parent.version}`}
                className="font-mono font-medium text-accent hover:underline"
              >
                v{parent.version}
              </Link>
              <Link
                href={`/models/${model}/compare?a=${parent.version}&b=${version.version}`}
                className="inline-flex items-center gap-1 text-xs text-muted-foreground hover:text-foreground hover:underline"
              >
                <GitCompareIcon aria-hidden className="size-3" />
                compare with parent
              </Link>
            </span>
          ) : (
            <Muted>none</Muted>
          )}
        </DefRow>
        <DefRow label="Source" stacked>
          {version.source ? <Source value={version.source} /> : <Muted>not stated</Muted>}
        </DefRow>
        <DefRow label="Original file" stacked>
          {version.originalFilename ? (
            <span className="font-mono text-xs [overflow-wrap:anywhere]">
              {version.originalFilename}
            </span>
          ) : (
            <Muted>unknown</Muted>
          )}
        </DefRow>
        {version.archivedAt ? (
          <DefRow label="Archived" stacked>
            <Time value={version.archivedAt} className="tabular-nums" />
          </DefRow>
        ) : null}
      </dl>
    </div>
  );
}

/** The uploader's description and tags. */
export function VersionAbout({ version }: { version: VersionDetail }) {
  return (
    <div className={cn(panelClass, "grid gap-3 px-4 py-3 text-[13px] leading-5")}>
      {version.description ? (
        <p className="break-words whitespace-pre-wrap">{version.description}</p>
      ) : (
        <p className="text-muted-foreground">No description.</p>
      )}
      <div>
        <h3 className="mb-1.5 text-xs font-medium text-muted-foreground">Tags</h3>
        {version.tags.length > 0 ? (
          <ul className="flex flex-wrap gap-1" aria-label="Tags">
            {version.tags.map((t) => (
              <li key={t}>
                <Badge variant="outline">{t}</Badge>
              </li>
            ))}
          </ul>
        ) : (
          <p className="text-xs text-muted-foreground">No tags.</p>
        )}
      </div>
    </div>
  );
}
