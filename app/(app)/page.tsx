import Link from "next/link";
import { BoxesIcon, CircleAlertIcon } from "lucide-react";
import { FiringAlertsBadge } from "@/components/alerts/firing-badge";
import { AliasBadge } from "@/components/registry/alias-badge";
import { ErrorShareCell, ErrorShareHead } from "@/components/monitoring/error-share";
import { HealthPanel } from "@/components/system/health-panel";
import { Time } from "@/components/time";
import { Badge } from "@/components/ui/badge";
import { EmptyState } from "@/components/ui/empty-state";
import { PageHeader } from "@/components/ui/page-header";
import { Table, TBody, TD, TH, THead, TR } from "@/components/ui/table";
import { getConfig } from "@/lib/config";
import { getPrisma } from "@/lib/db/client";
import { getRecentMonitoringOverview } from "@/lib/monitoring/overview";
import { listModels, listPromotionRequests } from "@/lib/registry";
import { checkHealth } from "@/lib/system/health";
import { requireUser } from "./current-user";

export const metadata = { title: "Overview · ModelDeck" };

export default async function OverviewPage() {
  const user = await requireUser("/");
  const db = getPrisma();
  const [health, models, pending, lastHour] = await Promise.all([
    checkHealth(db, getConfig()),
    listModels(db, { pageSize: 100 }),
    listPromotionRequests(db, { status: "pending", pageSize: 20 }),
    getRecentMonitoringOverview(db, 3_600_000),
  ]);
  const trafficOf = new Map(lastHour.models.map((m) => [m.modelId, m]));
  // Alias targets some serving instance does not serve: the same list system health reports.
  const notServed = health.components.serving.notServed ?? [];
  const moreNotServed = (health.components.serving.notServedCount ?? 0) - notServed.length;
  return (
    <>
      <PageHeader
        title="Overview"
        description={`Signed in as ${user.email} (${user.role}).`}
        actions={<FiringAlertsBadge />}
      />
      <div className="grid grid-cols-1 gap-6 lg:grid-cols-3">
        <div className="min-w-0 space-y-6 lg:col-span-2">
          {notServed.length > 0 ? (
            <section aria-labelledby="attention-heading">
              <h2 id="attention-heading" className="mb-2 text-sm font-semibold">
                Needs attention
              </h2>
              <ul
                className="divide-y divide-border rounded-lg border border-destructive/30 bg-card"
                aria-label="Needs attention"
              >
                {notServed.map((a) => (
                  <li
                    key={`${a.model}/${a.alias}`}
                    className="flex gap-2.5 px-4 py-2.5 text-sm"
                    data-testid={`attention-${a.model}-${a.alias}`}
                  >
                    <CircleAlertIcon
                      className="mt-0.5 size-4 shrink-0 text-destructive"
                      aria-hidden
                    />
                    <div className="min-w-0">
                      <p>
                        <Link
                          href={`/models/${encodeURIComponent(a.model)}`}
                          className="font-medium text-accent hover:underline"
                        >
                          {a.model}
                        </Link>{" "}
                        <AliasBadge name={a.alias} version={a.version} />{" "}
                        <span className="font-medium">
                          not served on {a.notServedOn} of {a.instances} serving instance
                          {a.instances === 1 ? "" : "s"}
                        </span>
                        {a.servedInstead.length > 0 ? (
                          <span className="text-muted-foreground">
                            {" "}
                            · answered by {a.servedInstead.map((v) => `v${v}`).join(", ")} instead
                          </span>
                        ) : null}
                      </p>
                      <p className="mt-0.5 text-xs break-words text-muted-foreground">
                        {a.error
                          ? `Load error: ${a.error.message}`
                          : "No load error was reported; the instances have not switched to it."}
                      </p>
                    </div>
                  </li>
                ))}
                {moreNotServed > 0 ? (
                  <li className="px-4 py-2 text-xs text-muted-foreground">
                    and {moreNotServed} more alias targets not served
                  </li>
                ) : null}
              </ul>
            </section>
          ) : null}
          <section aria-labelledby="models-heading">
            <h2 id="models-heading" className="mb-2 text-sm font-semibold">
              Models in production
            </h2>
            {models.total === 0 ? (
              <EmptyState
                bordered
                headingLevel="h3"
                icon={<BoxesIcon />}
                title="No models yet"
                description="Register a model and upload its ONNX versions on the Models page; its production version and pending promotions will show here."
              />
            ) : (
              <Table aria-label="Models in production">
                <THead>
                  <TR>
                    <TH>Model</TH>
                    <TH>Production</TH>
                    <TH>Other aliases</TH>
                    <TH align="right">Versions</TH>
                    <ErrorShareHead window="last hour" />
                    <TH>Updated</TH>
                  </TR>
                </THead>
                <TBody>
                  {models.models.map((m) => (
                    <TR key={m.id} data-testid={`overview-model-${m.name}`}>
                      <TD>
                        <Link
                          href={`/models/${encodeURIComponent(m.name)}`}
                          className="font-medium text-accent hover:underline"
                        >
                          {m.name}
                        </Link>
                        {/* Under the name, so the row leaves room for the error column. */}
                        <div className="text-xs text-muted-foreground">{m.task}</div>
                      </TD>
                      <TD>
                        {m.productionVersion ? (
                          <span className="font-mono">v{m.productionVersion}</span>
                        ) : (
                          <span className="text-muted-foreground">none</span>
                        )}
                        {m.pendingPromotionCount > 0 ? (
                          <Badge variant="warning" className="ml-2">
                            {m.pendingPromotionCount} pending
                          </Badge>
                        ) : null}
                      </TD>
                      <TD>
                        <div className="flex flex-wrap gap-1">
                          {m.aliases
                            .filter((a) => a.name !== "production")
                            .map((a) => (
                              <AliasBadge key={a.name} name={a.name} version={a.version} />
                            ))}
                        </div>
                      </TD>
                      <TD align="right" className="tabular-nums">
                        {m.versionCount}
                      </TD>
                      <ErrorShareCell share={trafficOf.get(m.id)} window="last hour" />
                      <TD className="text-muted-foreground">
                        <Time value={m.updatedAt} />
                      </TD>
                    </TR>
                  ))}
                </TBody>
              </Table>
            )}
          </section>
          {pending.requests.length > 0 ? (
            <section aria-labelledby="pending-heading">
              <h2 id="pending-heading" className="mb-2 text-sm font-semibold">
                Promotions awaiting approval
              </h2>
              <ul className="divide-y divide-border rounded-lg border border-warning/40 bg-card">
                {pending.requests.map((r) => (
                  <li
                    key={r.id}
                    className="flex items-center justify-between gap-3 px-4 py-2.5 text-sm"
                  >
                    <span>
                      <Link
                        href={`/models/${encodeURIComponent(r.model)}`}
                        className="font-medium text-accent hover:underline"
                      >
                        {r.model}
                      </Link>{" "}
                      {r.alias} → v{r.version.version}
                      <span className="text-muted-foreground">
                        {" "}
                        · requested by {r.requestedBy.label}
                      </span>
                    </span>
                    <Time value={r.createdAt} className="text-xs text-muted-foreground" />
                  </li>
                ))}
              </ul>
            </section>
          ) : null}
        </div>
        <section aria-labelledby="health-heading">
          <h2 id="health-heading" className="mb-2 text-sm font-semibold">
            System health
          </h2>
          <HealthPanel report={health} />
        </section>
      </div>
    </>
  );
}
