import Link from "next/link";
import { notFound } from "next/navigation";
import { AutoRefresh } from "@/components/evaluation/auto-refresh";
import { JobEnabledToggle, RunNowButton } from "@/components/jobs/job-controls";
import { JobFormDialog } from "@/components/jobs/job-form-dialog";
import { formatDuration, RunStatusBadge } from "@/components/jobs/run-status";
import { RegistryAction } from "@/components/registry/registry-action";
import { Time } from "@/components/time";
import { Badge } from "@/components/ui/badge";
import { Button } from "@/components/ui/button";
import {
  Card,
  CardContent,
  CardDescription,
  CardHeader,
  CardHeading,
  CardTitle,
} from "@/components/ui/card";
import { PageHeader } from "@/components/ui/page-header";
import { Table, TBody, TD, TEmptyRow, TH, THead, TR } from "@/components/ui/table";
import { ApiError } from "@/lib/api/errors";
import { userCan } from "@/lib/auth/guard";
import { listDatasets } from "@/lib/datasets";
import { getPrisma } from "@/lib/db/client";
import { getJob, listRuns } from "@/lib/jobs";
import { listModels } from "@/lib/registry";
import { requireScope } from "../../current-user";

export async function generateMetadata({ params }: { params: Promise<{ name: string }> }) {
  return { title: `${decodeURIComponent((await params).name)} · Jobs · ModelDeck` };
}

export default async function JobPage({ params }: { params: Promise<{ name: string }> }) {
  const name = decodeURIComponent((await params).name);
  const user = await requireScope("jobs:read", `/jobs/${encodeURIComponent(name)}`);
  const db = getPrisma();
  const job = await getJob(db, name).catch((error: unknown) => {
    if (error instanceof ApiError && error.status === 404) notFound();
    throw error;
  });
  const canRun = userCan(user, "jobs:run");
  const [{ runs, more }, models, datasets] = await Promise.all([
    listRuns(db, job.id, { limit: 100 }),
    canRun ? listModels(db, { pageSize: 200 }) : null,
    canRun ? listDatasets(db) : null,
  ]);
  const choices = {
    models: models?.models.map((m) => m.name) ?? [],
    datasets: datasets?.map((d) => d.name) ?? [],
  };
  const base = `/jobs/${encodeURIComponent(job.name)}`;

  return (
    <>
      <PageHeader
        breadcrumbs={[{ label: "Jobs", href: "/jobs" }, { label: job.name }]}
        title={job.name}
        description={job.description || job.actionSummary}
        actions={
          canRun ? (
            <>
              <JobFormDialog choices={choices} job={job} />
              <RegistryAction
                trigger={
                  <Button
                    variant="ghost"
                    disabled={job.activeRun !== null}
                    title={job.activeRun ? "Wait for the active run to end" : undefined}
                  >
                    Delete job
                  </Button>
                }
                title={`Delete ${job.name}?`}
                changes={[
                  "The job stops firing and its run history is deleted.",
                  "Versions it imported or trained stay. The audit log keeps the record.",
                ]}
                confirmLabel="Delete job"
                destructive
                call={{ method: "DELETE", path: `/api/v1/jobs/${job.id}` }}
                then="/jobs"
              />
              <RunNowButton jobId={job.id} jobName={job.name} />
            </>
          ) : null
        }
      >
        <div className="flex flex-wrap items-center gap-3 text-[13px]">
          <span>
            Model{" "}
            <Link
              href={`/models/${encodeURIComponent(job.model.name)}`}
              className="font-medium text-accent hover:underline"
            >
              {job.model.name}
            </Link>
          </span>
          <JobEnabledToggle
            jobId={job.id}
            jobName={job.name}
            enabled={job.enabled}
            canChange={canRun}
          />
          {job.activeRun ? <Badge variant="accent">a run is {job.activeRun.status}</Badge> : null}
        </div>
      </PageHeader>
      <AutoRefresh active={job.activeRun !== null} ms={2_000} />

      <div className="mb-6 grid gap-4 lg:grid-cols-2">
        <Card>
          <CardHeader>
            <CardHeading>
              <CardTitle as="h2">Schedule</CardTitle>
              <CardDescription>
                {job.scheduleDescription} · <span className="font-mono">{job.schedule}</span> ·{" "}
                {job.timezone}
              </CardDescription>
            </CardHeading>
          </CardHeader>
          <CardContent>
            {job.enabled ? (
              <>
                <p className="mb-1 text-xs text-muted-foreground">
                  Next five fire times ({job.timezone})
                </p>
                <ol className="grid gap-0.5 font-mono text-xs" data-testid="next-runs">
                  {job.nextRunsLocal.map((t, i) => (
                    <li key={job.nextRuns[i]}>{t}</li>
                  ))}
                </ol>
              </>
            ) : (
              <p className="text-sm text-muted-foreground">
                Disabled: the job does not fire. Run now still works.
              </p>
            )}
          </CardContent>
        </Card>
        <Card>
          <CardHeader>
            <CardHeading>
              <CardTitle as="h2">Action</CardTitle>
              <CardDescription>{job.actionSummary}</CardDescription>
            </CardHeading>
          </CardHeader>
          <CardContent>
            <pre className="overflow-auto rounded-md bg-subtle p-3 font-mono text-xs">
              {JSON.stringify(job.action, null, 2)}
            </pre>
            <p className="mt-2 text-xs text-muted-foreground">
              Created by {job.createdBy.label} <Time value={job.createdAt} />; last changed by{" "}
              {job.updatedBy.label} <Time value={job.updatedAt} />.
            </p>
          </CardContent>
        </Card>
      </div>

      <h2 className="mb-2 text-sm font-semibold">Runs</h2>
      <Table aria-label="Runs">
        <THead>
          <TR>
            <TH>Status</TH>
            <TH>Trigger</TH>
            <TH>Fire time / requested</TH>
            <TH>Started</TH>
            <TH align="right">Duration</TH>
            <TH align="right">Attempt</TH>
            <TH>Note</TH>
          </TR>
        </THead>
        <TBody>
          {runs.length === 0 ? (
            <TEmptyRow colSpan={7}>No runs yet.</TEmptyRow>
          ) : (
            runs.map((run) => (
              <TR key={run.id} data-testid={`run-row-${run.id}`}>
                <TD>
                  <Link
                    href={`${base}/runs/${run.id}`}
                    className="inline-flex hover:underline"
                    aria-label={`Run ${run.id}: ${run.status}`}
                  >
                    <RunStatusBadge status={run.status} />
                  </Link>
                </TD>
                <TD className="text-muted-foreground">
                  {run.trigger === "manual" ? `manual (${run.requestedBy.label})` : "schedule"}
                </TD>
                <TD className="text-muted-foreground">
                  <Time value={run.scheduledFor ?? run.createdAt} />
                </TD>
                <TD className="text-muted-foreground">
                  {run.startedAt ? <Time value={run.startedAt} /> : "—"}
                </TD>
                <TD align="right" className="tabular-nums">
                  {formatDuration(run.durationMs)}
                </TD>
                <TD align="right" className="tabular-nums">
                  {run.attempt}/{run.maxAttempts}
                </TD>
                <TD
                  className="max-w-96 truncate text-[13px] text-muted-foreground"
                  title={run.error ?? run.reason ?? ""}
                >
                  {run.error ?? run.reason ?? ""}
                </TD>
              </TR>
            ))
          )}
        </TBody>
      </Table>
      {more ? (
        <p className="mt-2 text-xs text-muted-foreground">Showing the newest 100 runs.</p>
      ) : null}
    </>
  );
}
