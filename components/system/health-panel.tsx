import Link from "next/link";
import { Badge } from "@/components/ui/badge";
import type { HealthReport } from "@/lib/system/health";

type State = "up" | "degraded" | "down";

const variant = { up: "success", degraded: "warning", down: "destructive" } as const;

/** The deployment's processes at a glance: the same data as GET /api/health. */
export function HealthPanel({ report }: { report: HealthReport }) {
  const c = report.components;
  const serving = c.serving;
  const rows: { name: string; status: State; detail: string; problem?: React.ReactNode }[] = [
    {
      name: "Web + API",
      status: c.web.status,
      detail: `pid ${c.web.pid}, up ${c.web.uptimeSeconds}s`,
    },
    {
      name: "Database",
      status: c.database.status,
      detail:
        c.database.status === "up"
          ? `${c.database.latencyMs} ms round trip`
          : (c.database.error ?? ""),
    },
    {
      name: "Serving",
      status: serving.status,
      detail:
        serving.status === "down"
          ? `${new URL(serving.url).host} unreachable`
          : `port ${new URL(serving.url).port} · ${serving.instances} instance${serving.instances === 1 ? "" : "s"}`,
      problem:
        serving.status === "degraded" && serving.notServed?.length ? (
          <ul className="grid gap-1" data-testid="health-not-served">
            {serving.notServed.map((a) => (
              <li key={`${a.model}/${a.alias}`} className="break-words">
                <Link
                  href={`/models/${encodeURIComponent(a.model)}`}
                  className="font-medium text-foreground hover:underline"
                >
                  {a.model}
                </Link>{" "}
                {a.alias} → v{a.version}: not served on {a.notServedOn} of {a.instances}
                {a.error ? `: ${a.error.message}` : ""}
              </li>
            ))}
            {(serving.notServedCount ?? 0) > serving.notServed.length ? (
              <li>and {serving.notServedCount! - serving.notServed.length} more</li>
            ) : null}
          </ul>
        ) : null,
    },
    {
      name: "Scheduler",
      status: c.scheduler.status,
      detail:
        c.scheduler.status === "up"
          ? `${c.scheduler.instances} instance${c.scheduler.instances === 1 ? "" : "s"} reporting`
          : "no heartbeat in the last 30 s",
    },
  ];
  return (
    <ul
      className="divide-y divide-border rounded-lg border border-border bg-card"
      aria-label="Process health"
    >
      {rows.map((r) => (
        <li key={r.name} className="px-4 py-2.5 text-sm" data-testid={`health-${r.name}`}>
          <div className="flex items-center justify-between gap-4">
            <span className="font-medium">{r.name}</span>
            <span className="flex min-w-0 items-center gap-3">
              <span className="truncate text-muted-foreground">{r.detail}</span>
              <Badge dot variant={variant[r.status]}>
                {r.status}
              </Badge>
            </span>
          </div>
          {r.problem ? (
            <div className="mt-1.5 text-xs leading-5 text-warning-subtle-foreground">
              {r.problem}
            </div>
          ) : null}
        </li>
      ))}
    </ul>
  );
}
