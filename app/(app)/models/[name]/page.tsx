import Link from "next/link";
import { notFound } from "next/navigation";
import { GitCompareIcon, HistoryIcon, ShieldCheckIcon } from "lucide-react";
import { FiringAlertsBadge } from "@/components/alerts/firing-badge";
import { DriftSection } from "@/components/monitoring/drift-section";
import { AliasBadge } from "@/components/registry/alias-badge";
import { EditModelDialog } from "@/components/registry/edit-model-dialog";
import { RegistryAction } from "@/components/registry/registry-action";
import { UploadVersion } from "@/components/registry/upload-version";
import { VersionActions } from "@/components/registry/version-actions";
import { ModelMonitoring } from "@/components/monitoring/model-monitoring";
import { AliasServingNote } from "@/components/serving/alias-serving";
import { ServingCard } from "@/components/serving/serving-card";
import { TryItPanel } from "@/components/serving/try-it-panel";
import { Time } from "@/components/time";
import { Badge } from "@/components/ui/badge";
import { Button } from "@/components/ui/button";
import { cn } from "@/components/ui/cn";
import { EmptyState } from "@/components/ui/empty-state";
import { PageHeader } from "@/components/ui/page-header";
import { ActionsTH, Table, TBody, TD, TEmptyRow, TH, THead, TR } from "@/components/ui/table";
import { ApiError } from "@/lib/api/errors";
import { userCan } from "@/lib/auth/guard";
import { formatBytes } from "@/lib/format";
import { getPrisma } from "@/lib/db/client";
import {
  canChangeAlias,
  getAliasHistory,
  getModel,
  listAliases,
  listPromotionRequests,
  listVersions,
  getVersion,
} from "@/lib/registry";
import { getAliasServing } from "@/lib/serving/alias-serving";
import type { SampleRequest } from "@/lib/serving/sample-request";
import { getServingStatus } from "@/lib/serving/status";
import { trySignatureOf, type TrySignature } from "@/lib/serving/try-example";
import { requireUser } from "../../current-user";
import { BatchSection } from "./batch-section";
import { EvaluationSection } from "./evaluation-section";

export async function generateMetadata({ params }: { params: Promise<{ name: string }> }) {
  return { title: `${decodeURIComponent((await params).name)} · Models · ModelDeck` };
}

const kindLabel = {
  promote: "promoted",
  rollback: "rolled back",
  remove: "removed",
  approval: "approved",
} as const;

export default async function ModelPage({ params }: { params: Promise<{ name: string }> }) {
  const name = decodeURIComponent((await params).name);
  const user = await requireUser(`/models/${encodeURIComponent(name)}`);
  const db = getPrisma();
  const model = await getModel(db, name).catch((error: unknown) => {
    if (error instanceof ApiError && error.status === 404) notFound();
    throw error;
  });
  const [versions, aliases, history, pending, serving, aliasServing] = await Promise.all([
    listVersions(db, name),
    listAliases(db, name),
    getAliasHistory(db, name, undefined, { limit: 50 }),
    listPromotionRequests(db, { modelName: name, status: "pending" }),
    getServingStatus(db, name),
    getAliasServing(db, { modelIds: [model.id] }),
  ]);
  const servingOf = new Map(aliasServing.map((a) => [a.alias, a]));
  // "Try it" prefills its request with the sample request of the version its target points at,
  // else one from its signature (unless serving found that such a request fails on it).
  const trySignatures: Record<number, TrySignature> = {};
  const trySamples: Record<number, SampleRequest> = {};
  for (const v of await Promise.all(
    [...new Set(aliases.map((a) => a.version))].map((v) => getVersion(db, name, v)),
  )) {
    const signature = trySignatureOf(v.signature);
    if (signature) trySignatures[v.version] = signature;
    if (v.sampleRequest) trySamples[v.version] = v.sampleRequest;
  }
  const warmUpWarnings = Object.fromEntries(
    serving.warmUpWarnings.map((w) => [w.version, w.warning]),
  );
  const current = Object.fromEntries(aliases.map((a) => [a.name, a.version]));
  const canWrite = userCan(user, "models:write");
  const canPromote = userCan(user, "models:promote");
  const base = `/api/v1/models/${encodeURIComponent(name)}`;
  const latestHistoryId = new Map<string, string>();
  for (const h of history) if (!latestHistoryId.has(h.alias)) latestHistoryId.set(h.alias, h.id);

  return (
    <>
      <PageHeader
        breadcrumbs={[{ label: "Models", href: "/models" }, { label: name }]}
        title={name}
        description={model.description || undefined}
        actions={
          <>
            {canWrite ? <EditModelDialog model={model} isAdmin={user.role === "admin"} /> : null}
            {versions.length >= 2 ? (
              <Button asChild variant="outline">
                <Link
                  href={`/models/${encodeURIComponent(name)}/compare?a=${versions[1]!.version}&b=${versions[0]!.version}`}
                >
                  <GitCompareIcon aria-hidden /> Compare
                </Link>
              </Button>
            ) : null}
            {userCan(user, "models:delete") ? (
              <RegistryAction
                trigger={
                  <Button
                    variant="ghost"
                    disabled={aliases.length > 0}
                    title={aliases.length > 0 ? "Remove its aliases first" : undefined}
                  >
                    Delete model
                  </Button>
                }
                title={`Delete ${name}?`}
                changes={[
                  `Its ${versions.length} version${versions.length === 1 ? "" : "s"}, alias history and requests are deleted.`,
                  "Files no other model uses are removed. The audit log keeps the record.",
                ]}
                confirmLabel="Delete model"
                destructive
                call={{ method: "DELETE", path: base }}
                then="/models"
              />
            ) : null}
          </>
        }
      >
        <div className="mt-2 flex flex-wrap items-center gap-1.5">
          <FiringAlertsBadge model={model} />
          <Badge variant="neutral">{model.task}</Badge>
          {model.tags.map((t) => (
            <Badge key={t} variant="outline">
              {t}
            </Badge>
          ))}
          {model.approvalRequired ? (
            <Badge variant="accent">
              <ShieldCheckIcon className="size-3" aria-hidden /> production needs approval
            </Badge>
          ) : null}
        </div>
      </PageHeader>

      <section aria-labelledby="aliases-heading" className="mb-6">
        <h2 id="aliases-heading" className="mb-2 text-sm font-semibold">
          Aliases
        </h2>
        {aliases.length === 0 ? (
          <p className="rounded-lg border border-dashed border-border px-4 py-3 text-sm text-muted-foreground">
            No aliases yet. Promote a version to staging or production from the versions table.
          </p>
        ) : (
          <ul className="grid gap-3 sm:grid-cols-2 xl:grid-cols-4">
            {aliases.map((a) => (
              <li
                key={a.name}
                className={cn(
                  "rounded-lg border bg-card px-4 py-3",
                  // A card that explains a failure gets the room to say it.
                  servingOf.get(a.name)?.state === "not_served"
                    ? "border-destructive/40 sm:col-span-2"
                    : "border-border",
                )}
                data-testid={`alias-card-${a.name}`}
              >
                <div className="flex items-center justify-between gap-2">
                  <AliasBadge name={a.name} />
                  {a.protected ? (
                    <span className="text-xs text-muted-foreground">protected</span>
                  ) : null}
                </div>
                <div className="mt-2 font-mono text-2xl font-semibold tracking-tight">
                  <Link
                    href={`/models/${encodeURIComponent(name)}/versions/${a.version}`}
                    className="hover:underline"
                  >
                    v{a.version}
                  </Link>
                </div>
                <div className="mt-1 text-xs text-muted-foreground">
                  by {a.updatedBy.label} · <Time value={a.updatedAt} />
                </div>
                <AliasServingNote serving={servingOf.get(a.name)} />
              </li>
            ))}
          </ul>
        )}
      </section>

      {pending.requests.length > 0 ? (
        <section aria-labelledby="requests-heading" className="mb-6">
          <h2 id="requests-heading" className="mb-2 text-sm font-semibold">
            Pending promotion requests
          </h2>
          <ul className="divide-y divide-border rounded-lg border border-warning/40 bg-warning-subtle/40">
            {pending.requests.map((r) => {
              const mine = r.requestedBy.id === user.id;
              return (
                <li
                  key={r.id}
                  className="flex flex-wrap items-center justify-between gap-3 px-4 py-3 text-sm"
                  data-testid="promotion-request"
                >
                  <div>
                    <span className="font-medium">
                      {r.alias} → v{r.version.version}
                    </span>
                    <span className="text-muted-foreground">
                      {" "}
                      requested by {r.requestedBy.label} · <Time value={r.createdAt} />
                    </span>
                    {r.reason ? (
                      <div className="text-xs text-muted-foreground">“{r.reason}”</div>
                    ) : null}
                  </div>
                  <div className="flex gap-2">
                    {user.role === "admin" && !mine ? (
                      <>
                        <RegistryAction
                          trigger={
                            <Button size="sm" variant="primary">
                              Approve
                            </Button>
                          }
                          title={`Approve ${r.alias} → v${r.version.version}?`}
                          changes={[
                            `${r.alias} moves from ${current[r.alias] ? `v${current[r.alias]}` : "nothing"} to v${r.version.version}.`,
                            "The approval is recorded in the alias history and the audit log.",
                          ]}
                          confirmLabel="Approve and promote"
                          reason={{ field: "note", label: "Note" }}
                          call={{
                            method: "POST",
                            path: `/api/v1/promotion-requests/${r.id}/approve`,
                            // What the dialog said production moves from: approving is
                            // refused (409) if it moved meanwhile.
                            body: { expectedVersion: current[r.alias] ?? null },
                          }}
                        />
                        <RegistryAction
                          trigger={
                            <Button size="sm" variant="outline">
                              Reject
                            </Button>
                          }
                          title={`Reject ${r.alias} → v${r.version.version}?`}
                          changes={["Nothing moves; the request is closed as rejected."]}
                          confirmLabel="Reject"
                          destructive
                          reason={{ field: "note", label: "Why" }}
                          call={{
                            method: "POST",
                            path: `/api/v1/promotion-requests/${r.id}/reject`,
                            body: {},
                          }}
                        />
                      </>
                    ) : null}
                    {mine ? (
                      <RegistryAction
                        trigger={
                          <Button size="sm" variant="outline">
                            Withdraw
                          </Button>
                        }
                        title="Withdraw your request?"
                        changes={["The request is cancelled; nothing moves."]}
                        confirmLabel="Withdraw request"
                        call={{
                          method: "POST",
                          path: `/api/v1/promotion-requests/${r.id}/cancel`,
                          body: {},
                        }}
                      />
                    ) : null}
                    {!mine && user.role !== "admin" ? (
                      <span className="text-xs text-muted-foreground">Awaiting an admin</span>
                    ) : null}
                  </div>
                </li>
              );
            })}
          </ul>
        </section>
      ) : null}

      <section aria-labelledby="versions-heading" className="mb-6">
        <h2 id="versions-heading" className="mb-2 text-sm font-semibold">
          Versions
        </h2>
        <Table aria-label="Versions">
          <THead>
            <TR>
              <TH>Version</TH>
              <TH>Created</TH>
              <TH align="right">Size</TH>
              <TH align="right">Opset</TH>
              <TH align="right">In / out</TH>
              <TH>Aliases</TH>
              <TH>Status</TH>
              <TH>Uploaded by</TH>
              <ActionsTH />
            </TR>
          </THead>
          <TBody>
            {versions.length === 0 ? (
              <TEmptyRow colSpan={9}>
                No versions yet.{canWrite ? " Upload the first one below." : ""}
              </TEmptyRow>
            ) : (
              versions.map((v) => (
                <TR key={v.id} data-testid={`version-row-${v.version}`}>
                  <TD>
                    <Link
                      href={`/models/${encodeURIComponent(name)}/versions/${v.version}`}
                      className="font-mono font-medium text-accent hover:underline"
                    >
                      v{v.version}
                    </Link>
                    {v.description ? (
                      <div
                        className="max-w-64 truncate text-xs text-muted-foreground"
                        title={v.description}
                      >
                        {v.description}
                      </div>
                    ) : null}
                  </TD>
                  <TD className="text-muted-foreground">
                    <Time value={v.createdAt} />
                  </TD>
                  <TD align="right" className="tabular-nums">
                    {formatBytes(v.sizeBytes)}
                  </TD>
                  <TD align="right" className="tabular-nums">
                    {v.opset ?? "—"}
                  </TD>
                  <TD align="right" className="tabular-nums">
                    {v.inputCount ?? "?"} / {v.outputCount ?? "?"}
                  </TD>
                  <TD>
                    <div className="flex flex-wrap gap-1">
                      {v.aliases.map((a) => (
                        <AliasBadge key={a} name={a} />
                      ))}
                    </div>
                  </TD>
                  <TD>
                    <Badge variant={v.status === "ready" ? "success" : "neutral"}>{v.status}</Badge>
                  </TD>
                  <TD className="text-muted-foreground">{v.createdBy.label}</TD>
                  <TD align="right">
                    <VersionActions
                      model={name}
                      version={v.version}
                      status={v.status}
                      aliases={v.aliases}
                      current={current}
                      approvalRequired={model.approvalRequired}
                      canPromote={canPromote}
                      canWrite={canWrite}
                    />
                  </TD>
                </TR>
              ))
            )}
          </TBody>
        </Table>
      </section>

      <ModelMonitoring model={name} modelId={model.id} task={model.task} />
      <EvaluationSection db={db} model={model} versions={versions} canWrite={canWrite} />
      <BatchSection db={db} model={model} canSubmit={userCan(user, "predict")} />
      <DriftSection model={name} versions={versions.map((v) => v.version)} />

      <div className="mb-6 grid gap-6 lg:grid-cols-[minmax(0,2fr)_minmax(0,3fr)]">
        <section aria-labelledby="serving-heading" className="min-w-0">
          <h2 id="serving-heading" className="mb-2 text-sm font-semibold">
            Serving
          </h2>
          <ServingCard model={name} initial={serving} canEdit={canWrite} />
        </section>
        <section aria-labelledby="try-heading" className="min-w-0">
          <h2 id="try-heading" className="mb-2 text-sm font-semibold">
            Try it
          </h2>
          <TryItPanel
            model={name}
            aliases={aliases.map((a) => ({ name: a.name, version: a.version }))}
            versions={versions.map((v) => ({ version: v.version, status: v.status }))}
            signatures={trySignatures}
            samples={trySamples}
            warmUpWarnings={warmUpWarnings}
          />
        </section>
      </div>

      {canWrite ? (
        <section
          aria-labelledby="upload-heading"
          className="mb-6 rounded-lg border border-border bg-card p-4"
        >
          <h2 id="upload-heading" className="mb-3 text-sm font-semibold">
            Upload a new version
          </h2>
          <UploadVersion modelName={name} />
        </section>
      ) : null}

      <section aria-labelledby="history-heading">
        <h2 id="history-heading" className="mb-2 flex items-center gap-1.5 text-sm font-semibold">
          <HistoryIcon className="size-4" aria-hidden /> Alias history
        </h2>
        {history.length === 0 ? (
          <EmptyState
            bordered
            headingLevel="h3"
            title="No promotions yet"
            description="Every move of an alias (promotion, rollback, approval, removal) is listed here with who made it and why."
          />
        ) : (
          <ol
            className="divide-y divide-border rounded-lg border border-border bg-card"
            aria-label="Alias history"
          >
            {history.map((h) => {
              const isCurrent = latestHistoryId.get(h.alias) === h.id;
              const target = h.toVersion;
              const restorable =
                !isCurrent &&
                target !== null &&
                current[h.alias] !== target.version &&
                canChangeAlias(user.role, h.alias);
              return (
                <li
                  key={h.id}
                  className="flex flex-wrap items-center justify-between gap-3 px-4 py-2.5 text-sm"
                  data-testid="history-entry"
                >
                  <div className="min-w-0">
                    <AliasBadge name={h.alias} />{" "}
                    <span className="font-mono">
                      {h.fromVersion ? `v${h.fromVersion.version}` : "∅"} →{" "}
                      {h.toVersion ? `v${h.toVersion.version}` : "removed"}
                    </span>{" "}
                    <span className="text-muted-foreground">
                      {kindLabel[h.kind]} by {h.actor.label} · <Time value={h.at} />
                    </span>
                    {h.reason ? (
                      <div className="truncate text-xs text-muted-foreground">“{h.reason}”</div>
                    ) : null}
                  </div>
                  {isCurrent ? (
                    <Badge variant="outline">current</Badge>
                  ) : restorable ? (
                    <RegistryAction
                      trigger={
                        <Button size="sm" variant="outline">
                          Roll back to v{target.version}
                        </Button>
                      }
                      title={`Roll ${h.alias} back to v${target.version}?`}
                      changes={[
                        `${h.alias} moves from ${current[h.alias] ? `v${current[h.alias]}` : "nothing"} to v${target.version}.`,
                        "The rollback is appended to this history.",
                      ]}
                      confirmLabel="Roll back"
                      reason={{ field: "reason", label: "Reason" }}
                      call={{
                        method: "POST",
                        path: `${base}/aliases/${encodeURIComponent(h.alias)}/rollback`,
                        // Only if it still points where this page shows it.
                        body: { toHistoryEntryId: h.id, expectedVersion: current[h.alias] ?? null },
                      }}
                    />
                  ) : null}
                </li>
              );
            })}
          </ol>
        )}
      </section>
    </>
  );
}
