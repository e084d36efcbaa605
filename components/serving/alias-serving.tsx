import { CircleAlertIcon } from "lucide-react";
import { Badge } from "@/components/ui/badge";
import type { AliasServing } from "@/lib/serving/alias-serving";

/**
 * How an alias's target is served, in the places people look: under the alias card (a quiet
 * line while all is well, an unmistakable error block while it is not) and as a badge in model
 * tables. All read the same AliasServing (lib/serving/alias-serving.ts).
 */

const instances = (n: number) => `${n} instance${n === 1 ? "" : "s"}`;

/** What clients asking for the alias get from the instances that do not serve its target. */
function fallback(a: AliasServing): string {
  if (a.servedInstead.length > 0) {
    return `Requests for ${a.alias} there are answered by ${a.servedInstead.map((v) => `v${v}`).join(", ")}.`;
  }
  return `Requests for ${a.alias} there get an error.`;
}

/** The line (or block) under an alias card. */
export function AliasServingNote({ serving }: { serving: AliasServing | undefined }) {
  if (!serving) return null;
  const testId = `alias-serving-${serving.alias}`;
  switch (serving.state) {
    case "served":
      return (
        <p className="mt-1 text-xs text-muted-foreground" data-testid={testId}>
          Served on {serving.instances} of {instances(serving.instances)}
        </p>
      );
    case "switching":
      return (
        <p className="mt-1 text-xs text-muted-foreground" data-testid={testId}>
          Switching: {serving.instances - serving.switchingOn} of {instances(serving.instances)}{" "}
          serve it so far
        </p>
      );
    case "no_instances":
      return (
        <p className="mt-1 text-xs text-muted-foreground" data-testid={testId}>
          No serving instance is reporting
        </p>
      );
    case "not_served":
      return (
        <div
          role="status"
          className="mt-2 flex gap-2 rounded-md border border-destructive/25 bg-destructive-subtle px-2.5 py-2 text-xs leading-5 text-destructive-subtle-foreground"
          data-testid={testId}
        >
          <CircleAlertIcon className="mt-0.5 size-3.5 shrink-0 text-destructive" aria-hidden />
          <div className="min-w-0">
            <p className="break-words">
              <span className="font-semibold">
                Not served on {serving.notServedOn} of {instances(serving.instances)}
              </span>
              {serving.error ? `: ${serving.error.message}` : " (no load error reported yet)"}
            </p>
            <p className="mt-0.5 opacity-80">{fallback(serving)}</p>
          </div>
        </div>
      );
  }
}

/** One cell per model in tables: the worst state among its aliases. */
export function ModelServingBadge({ model, aliases }: { model: string; aliases: AliasServing[] }) {
  const notServed = aliases.filter((a) => a.state === "not_served");
  const testId = `serving-status-${model}`;
  if (aliases.length === 0) {
    return (
      <span className="text-muted-foreground" data-testid={testId}>
        —
      </span>
    );
  }
  if (notServed.length > 0) {
    const first = notServed[0]!;
    const title = notServed
      .map(
        (a) =>
          `${a.alias} → v${a.version}: not served on ${a.notServedOn} of ${instances(a.instances)}${a.error ? `: ${a.error.message}` : ""}`,
      )
      .join("\n");
    return (
      <Badge variant="destructive" dot title={title} data-testid={testId}>
        {notServed.length === 1
          ? `${first.alias} v${first.version} not served`
          : `${notServed.length} aliases not served`}
      </Badge>
    );
  }
  if (aliases.some((a) => a.state === "switching")) {
    return (
      <Badge variant="neutral" dot data-testid={testId}>
        switching
      </Badge>
    );
  }
  if (aliases.every((a) => a.state === "no_instances")) {
    return (
      <span className="text-xs text-muted-foreground" data-testid={testId}>
        no serving instance
      </span>
    );
  }
  return (
    <Badge variant="success" dot data-testid={testId}>
      served
    </Badge>
  );
}
