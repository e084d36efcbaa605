import Link from "next/link";
import { CalendarClockIcon } from "lucide-react";
import { JobEnabledToggle } from "@/components/jobs/job-controls";
import { JobFormDialog } from "@/components/jobs/job-form-dialog";
import { RunStatusBadge } from "@/components/jobs/run-status";
import { AutoRefresh } from "@/components/evaluation/auto-refresh";
import { Time } from "@/components/time";
import { EmptyState } from "@/components/ui/empty-state";
import { PageHeader } from "@/components/ui/page-header";
import { Table, TBody, TD, TH, THead, TR } from "@/components/ui/table";
import { userCan } from "@/lib/auth/guard";
import { listDatasets } from "@/lib/datasets";
import { getPrisma } from "@/lib/db/client";
import { listJobs } from "@/lib/jobs";
import { listModels } from "@/lib/registry";
import { requireScope } from "../current-user";

export const metadata = { title: "Jobs · ModelDeck" };

export default async function JobsPage() {
  const user = await requireScope("jobs:read", "/jobs");
  const db = getPrisma();
  const canRun = userCan(user, "jobs:run");
  const [{ jobs }, models, datasets] = await Promise.all([
    listJobs(db, { pageSize: 200 }),
    canRun ? listModels(db, { pageSize: 200 }) : null,
    canRun ? listDatasets(db) : null,
  ]);
  const choices = {
    models: models?.models.map((m) => m.name) ?? [],
    datasets: datasets?.map((d) => d.name) ?? [],
  };

  return (
    <>
      <PageHeader
        title="Jobs"
        description="Scheduled refresh jobs: each fire imports, retrains or evaluates and promotes, and is recorded as a run with its log and result."
        actions={canRun ? <JobFormDialog choices={choices} /> : null}
      />
      <AutoRefresh active={jobs.some((j) => j.activeRun !== null)} ms={3_000} />
      {jobs.length === 0 ? (
        <EmptyState
          bordered
          icon={<CalendarClockIcon />}
          title="No refresh jobs yet"
          description={
            canRun
              ? "Create a job: a cron schedule and an action (import new .onnx files, retrain, or evaluate candidates and promote the best that passes the gate)."
              : "Jobs appear here once an operator creates them."
          }
        />
      ) : (
        <Table aria-label="Refresh jobs">
          <THead>
            <TR>
              <TH>Name</TH>
              <TH>Model</TH>
              <TH>Schedule</TH>
              <TH>Next run</TH>
              <TH>Last run</TH>
              <TH>Enabled</TH>
            </TR>
          </THead>
          <TBody>
            {jobs.map((job) => {
              const last = job.activeRun ?? job.lastRun;
              return (
                <TR key={job.id} data-testid={`job-row-${job.name}`}>
                  <TD>
                    <Link
                      href={`/jobs/${encodeURIComponent(job.name)}`}
                      className="font-medium text-accent hover:underline"
                    >
                      {job.name}
                    </Link>
                    <div
                      className="max-w-80 truncate text-xs text-muted-foreground"
                      title={job.actionSummary}
                    >
                      {job.actionSummary}
                    </div>
                  </TD>
                  <TD>
                    <Link
                      href={`/models/${encodeURIComponent(job.model.name)}`}
                      className="text-foreground hover:underline"
                    >
                      {job.model.name}
                    </Link>
                  </TD>
                  <TD>
                    <div>{job.scheduleDescription}</div>
                    <div className="text-xs text-muted-foreground">
                      <span className="font-mono">{job.schedule}</span> · {job.timezone}
                    </div>
                  </TD>
                  <TD className="text-muted-foreground">
                    {job.enabled && job.nextRunsLocal[0] ? (
                      <time dateTime={job.nextRuns[0]} className="tabular-nums">
                        {job.nextRunsLocal[0]}
                      </time>
                    ) : (
                      "—"
                    )}
                  </TD>
                  <TD>
                    {last ? (
                      <Link
                        href={`/jobs/${encodeURIComponent(job.name)}/runs/${last.id}`}
                        className="grid justify-items-start gap-0.5 hover:underline"
                      >
                        <RunStatusBadge status={last.status} />
                        <span className="text-xs text-muted-foreground">
                          <Time value={last.finishedAt ?? last.startedAt ?? last.createdAt} />
                        </span>
                      </Link>
                    ) : (
                      <span className="text-muted-foreground">never run</span>
                    )}
                  </TD>
                  <TD>
                    <JobEnabledToggle
                      jobId={job.id}
                      jobName={job.name}
                      enabled={job.enabled}
                      canChange={canRun}
                    />
                  </TD>
                </TR>
              );
            })}
          </TBody>
        </Table>
      )}
    </>
  );
}
