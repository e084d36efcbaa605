import { Badge } from "@/components/ui/badge";
import type { HealthReport } from "@/lib/system/health";

const label = { up: "up", down: "down" } as const;

/** The deployment's processes at a glance: the same data as GET /api/health. */
export function HealthPanel({ report }: { report: HealthReport }) {
  const c = report.components;
  const rows: { name: string; status: "up" | "down"; detail: string }[] = [
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
      status: c.serving.status,
      detail:
        c.serving.status === "up"
          ? `port ${new URL(c.serving.url).port} · ${c.serving.instances} instance${c.serving.instances === 1 ? "" : "s"}`
          : `${new URL(c.serving.url).host} unreachable`,
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
        <li key={r.name} className="flex items-center justify-between gap-4 px-4 py-2.5 text-sm">
          <span className="font-medium">{r.name}</span>
          <span className="flex min-w-0 items-center gap-3">
            <span className="truncate text-muted-foreground">{r.detail}</span>
            <Badge dot variant={r.status === "up" ? "success" : "destructive"}>
              {label[r.status]}
            </Badge>
          </span>
        </li>
      ))}
    </ul>
  );
}
