import Link from "next/link";
import { ArrowRightIcon, BellIcon, BellOffIcon, CheckCircle2Icon } from "lucide-react";
import {
  AcknowledgeDialog,
  DeleteRuleButton,
  ExpireSilenceButton,
  SilenceDialog,
} from "@/components/alerts/alert-actions";
import { AlertsLiveRefresh } from "@/components/alerts/live-refresh";
import { AlertRuleFormDialog } from "@/components/alerts/rule-form-dialog";
import { AlertStateBadge, SeverityBadge } from "@/components/alerts/state-badge";
import { Time } from "@/components/time";
import { Badge } from "@/components/ui/badge";
import { EmptyState } from "@/components/ui/empty-state";
import { PageHeader } from "@/components/ui/page-header";
import { ActionsTH, Table, TBody, TD, TH, THead, TR } from "@/components/ui/table";
import { PageSection } from "@/components/ui/page-section";
import { listAlertRules, listAlerts, listSilences } from "@/lib/alerts";
import { ApiError } from "@/lib/api/errors";
import {
  COMPARISON_SYMBOLS,
  formatDurationSeconds,
  formatMetricValue,
  METRIC_DEFINITIONS,
} from "@/lib/alerts/definitions";
import { userCan } from "@/lib/auth/guard";
import { getPrisma } from "@/lib/db/client";
import { listModels } from "@/lib/registry";
import { requireScope } from "../current-user";
import { firstParam, type SearchParams } from "../search-params";

export const metadata = { title: "Alerts · ModelDeck" };

export default async function AlertsPage({
  searchParams,
}: {
  searchParams: Promise<SearchParams>;
}) {
  const user = await requireScope("alerts:read", "/alerts");
  const canWrite = userCan(user, "alerts:write");
  const model = firstParam((await searchParams).model);
  const db = getPrisma();
  const [{ alerts, transitions }, rules, silences, models] = await Promise.all([
    listAlerts(db, { model, limit: 30 }).catch((error: unknown) => {
      // An unknown model in the URL shows nothing rather than failing the page.
      if (error instanceof ApiError && error.code === "not_found")
        return { alerts: [], transitions: [] };
      throw error;
    }),
    listAlertRules(db, { model }),
    listSilences(db),
    canWrite ? listModels(db, { pageSize: 200 }) : null,
  ]);
  const open = alerts.filter((a) => a.state === "firing" || a.state === "pending");
  const modelChoices =
    models?.models.map((m) => ({
      name: m.name,
      task: m.task,
      latestVersion: m.latestVersion,
      aliases: m.aliases.map((a) => a.name),
    })) ?? [];
  const silenceChoices = {
    rules: rules.map((r) => ({ id: r.id, name: r.name, model: r.model.name })),
    models: modelChoices.map((m) => m.name),
  };
  const activeSilences = silences.filter((s) => s.status === "active");

  return (
    <>
      <PageHeader
        title="Alerts"
        description={
          model
            ? `Alert rules on ${model}, their state, acknowledgements and silences.`
            : "Alert rules, their state, acknowledgements and silences."
        }
        breadcrumbs={model ? [{ label: "Alerts", href: "/alerts" }, { label: model }] : undefined}
        actions={
          canWrite ? (
            <>
              <SilenceDialog choices={silenceChoices} />
              <AlertRuleFormDialog models={modelChoices} />
            </>
          ) : null
        }
      />
      <AlertsLiveRefresh />
      <div className="grid gap-6">
        <PageSection
          id="firing-and-pending"
          title="Firing and pending"
          description="Pending: the condition holds but not yet for the rule’s “for”. Firing: it held long enough; webhooks are notified unless a silence matches."
        >
          {open.length === 0 ? (
            <div className="flex items-center gap-2 rounded-lg border border-border bg-card px-4 py-3 text-sm text-muted-foreground">
              <CheckCircle2Icon className="size-4 text-success" aria-hidden /> Nothing is firing or
              pending.
            </div>
          ) : (
            <Table aria-label="Open alerts">
              <THead>
                <TR>
                  <TH>State</TH>
                  <TH>Severity</TH>
                  <TH>Rule</TH>
                  <TH>Scope</TH>
                  <TH align="right">Value</TH>
                  <TH align="right">Threshold</TH>
                  <TH>Since</TH>
                  <TH>Acknowledged</TH>
                  {canWrite ? <ActionsTH /> : null}
                </TR>
              </THead>
              <TBody>
                {open.map((a) => (
                  <TR key={a.id} data-testid={`alert-row-${a.rule.name}`}>
                    <TD>
                      <div className="flex flex-wrap items-center gap-1">
                        <AlertStateBadge state={a.state} />
                        {a.silencedBy ? (
                          <Badge variant="outline" title={a.silencedBy.comment}>
                            <BellOffIcon aria-hidden /> silenced
                          </Badge>
                        ) : null}
                      </div>
                    </TD>
                    <TD>
                      <SeverityBadge severity={a.severity} />
                    </TD>
                    <TD>
                      <div className="font-medium">{a.rule.name}</div>
                      <div className="text-xs text-muted-foreground">
                        {METRIC_DEFINITIONS[a.rule.metric].label}
                      </div>
                    </TD>
                    <TD>
                      <Link
                        href={`/models/${encodeURIComponent(a.model.name)}`}
                        className="hover:underline"
                      >
                        {a.model.name}
                      </Link>
                      <div className="text-xs text-muted-foreground">
                        {a.rule.scope}
                        {a.version != null && !a.rule.scope.startsWith("version")
                          ? ` (v${a.version})`
                          : ""}
                      </div>
                    </TD>
                    <TD
                      align="right"
                      className="font-medium tabular-nums"
                      data-testid="alert-value"
                    >
                      {formatMetricValue(a.rule.metric, a.value)}
                    </TD>
                    <TD align="right" className="text-muted-foreground tabular-nums">
                      {COMPARISON_SYMBOLS[a.rule.comparison]}{" "}
                      {formatMetricValue(a.rule.metric, a.threshold)}
                    </TD>
                    <TD className="text-muted-foreground">
                      <Time value={a.firingSince ?? a.startedAt} />
                    </TD>
                    <TD>
                      {a.acknowledged ? (
                        <div className="text-xs" data-testid="alert-ack">
                          <span className="font-medium">{a.acknowledged.by}</span>
                          <div
                            className="max-w-44 truncate text-muted-foreground"
                            title={a.acknowledged.comment ?? ""}
                          >
                            {a.acknowledged.comment}
                          </div>
                        </div>
                      ) : (
                        <span className="text-muted-foreground">—</span>
                      )}
                    </TD>
                    {canWrite ? (
                      <TD align="right">
                        <div className="flex justify-end gap-1">
                          {a.acknowledged ? null : (
                            <AcknowledgeDialog alertId={a.id} ruleName={a.rule.name} />
                          )}
                          {a.silencedBy ? null : (
                            <SilenceDialog
                              compact
                              choices={silenceChoices}
                              preset={{ ruleId: a.rule.id, ruleName: a.rule.name }}
                            />
                          )}
                        </div>
                      </TD>
                    ) : null}
                  </TR>
                ))}
              </TBody>
            </Table>
          )}
        </PageSection>

        <PageSection
          id="rules"
          title="Rules"
          description="Evaluated by the scheduler every few seconds over per-minute rollups."
        >
          {rules.length === 0 ? (
            <EmptyState
              bordered
              icon={<BellIcon />}
              title="No alert rules yet"
              description={
                canWrite
                  ? "Create a rule such as “p95 latency above 250 ms for 2 minutes” or “live accuracy below 0.9”."
                  : "Rules appear here once an operator creates them."
              }
            />
          ) : (
            <Table aria-label="Alert rules">
              <THead>
                <TR>
                  <TH>Rule</TH>
                  <TH>Condition</TH>
                  <TH>Severity</TH>
                  <TH>State</TH>
                  <TH align="right">Last value</TH>
                  {canWrite ? <ActionsTH /> : null}
                </TR>
              </THead>
              <TBody>
                {rules.map((r) => (
                  <TR key={r.id} data-testid={`rule-row-${r.name}`}>
                    <TD>
                      <div className="font-medium">{r.name}</div>
                      <div className="text-xs text-muted-foreground">
                        {r.model.name} · {r.scope}
                      </div>
                    </TD>
                    <TD>
                      <div>
                        {METRIC_DEFINITIONS[r.metric].label} {COMPARISON_SYMBOLS[r.comparison]}{" "}
                        {formatMetricValue(r.metric, r.threshold)}
                      </div>
                      <div className="text-xs text-muted-foreground">
                        over {formatDurationSeconds(r.windowSeconds)} · for{" "}
                        {formatDurationSeconds(r.forSeconds)}
                        {r.keepFiringForSeconds
                          ? ` · keep firing ${formatDurationSeconds(r.keepFiringForSeconds)}`
                          : ""}
                      </div>
                    </TD>
                    <TD>
                      <SeverityBadge severity={r.severity} />
                    </TD>
                    <TD>
                      {r.enabled ? (
                        <AlertStateBadge state={r.state === "resolved" ? "inactive" : r.state} />
                      ) : (
                        <Badge variant="outline">Disabled</Badge>
                      )}
                    </TD>
                    <TD align="right" className="tabular-nums">
                      {r.lastEvaluatedAt ? (
                        formatMetricValue(r.metric, r.lastValue)
                      ) : (
                        <span className="text-muted-foreground">not evaluated</span>
                      )}
                    </TD>
                    {canWrite ? (
                      <TD align="right">
                        <div className="flex justify-end gap-1">
                          <AlertRuleFormDialog models={modelChoices} rule={r} />
                          <DeleteRuleButton ruleId={r.id} ruleName={r.name} />
                        </div>
                      </TD>
                    ) : null}
                  </TR>
                ))}
              </TBody>
            </Table>
          )}
        </PageSection>

        <div className="grid gap-6 xl:grid-cols-2">
          <PageSection
            id="timeline"
            title="Timeline"
            description="Every transition, newest first, with the value that caused it."
          >
            {transitions.length === 0 ? (
              <p className="rounded-lg border border-border bg-card px-4 py-3 text-sm text-muted-foreground">
                No transitions yet.
              </p>
            ) : (
              <ol
                className="grid max-h-[28rem] gap-3 overflow-y-auto rounded-lg border border-border bg-card p-4"
                aria-label="Alert timeline"
                data-testid="alert-timeline"
              >
                {transitions.map((t) => (
                  <li key={t.id} className="grid gap-0.5 border-l-2 border-border pl-3">
                    <div className="flex flex-wrap items-center gap-1.5 text-sm">
                      {t.from ? <AlertStateBadge state={t.from} /> : null}
                      <ArrowRightIcon className="size-3 text-muted-foreground" aria-label="to" />
                      <AlertStateBadge state={t.to} episode />
                      <span className="font-medium">{t.ruleName}</span>
                      {t.silenced ? (
                        <Badge variant="outline">
                          <BellOffIcon aria-hidden /> silenced
                        </Badge>
                      ) : null}
                    </div>
                    <div className="text-xs text-muted-foreground">
                      <Time value={t.at} /> · {t.model} · {t.reason}
                    </div>
                  </li>
                ))}
              </ol>
            )}
          </PageSection>

          <PageSection
            id="silences"
            title="Silences"
            description={
              activeSilences.length
                ? `${activeSilences.length} active: matching alerts change state but send no webhooks.`
                : "None active. A silence mutes the webhooks of matching alerts until it expires."
            }
          >
            {silences.length === 0 ? null : (
              <Table aria-label="Silences">
                <THead>
                  <TR>
                    <TH>Status</TH>
                    <TH>Matches</TH>
                    <TH>Comment</TH>
                    <TH>By</TH>
                    <TH>Ends</TH>
                    {canWrite ? <ActionsTH /> : null}
                  </TR>
                </THead>
                <TBody>
                  {silences.map((s) => (
                    <TR key={s.id}>
                      <TD>
                        <Badge variant={s.status === "active" ? "accent" : "neutral"}>
                          {s.status}
                        </Badge>
                      </TD>
                      <TD className="text-xs">
                        {[
                          s.rule ? `rule ${s.rule.name}` : null,
                          s.model ? `model ${s.model.name}` : null,
                          s.severity ? `severity ${s.severity}` : null,
                        ]
                          .filter(Boolean)
                          .join(" · ")}
                      </TD>
                      <TD className="max-w-80 truncate" title={s.comment}>
                        {s.comment}
                      </TD>
                      <TD className="text-muted-foreground">{s.createdBy.label}</TD>
                      <TD className="text-muted-foreground">
                        <Time value={s.expiredAt ?? s.endsAt} />
                        {s.expiredBy ? ` (expired by ${s.expiredBy})` : ""}
                      </TD>
                      {canWrite ? (
                        <TD align="right">
                          {s.status === "active" ? <ExpireSilenceButton silenceId={s.id} /> : null}
                        </TD>
                      ) : null}
                    </TR>
                  ))}
                </TBody>
              </Table>
            )}
          </PageSection>
        </div>
      </div>
    </>
  );
}
