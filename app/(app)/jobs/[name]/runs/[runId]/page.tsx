import Link from "next/link";
import { notFound } from "next/navigation";
import { RunLog } from "@/components/jobs/run-log";
import { RunResult } from "@/components/jobs/run-result";
import { formatDuration, RunStatusBadge } from "@/components/jobs/run-status";
import { Time } from "@/components/time";
import { Alert } from "@/components/ui/alert";
import { Card, CardContent, CardHeader, CardHeading, CardTitle } from "@/components/ui/card";
import { PageHeader } from "@/components/ui/page-header";
import { ApiError } from "@/lib/api/errors";
import { getPrisma } from "@/lib/db/client";
import { getRun } from "@/lib/jobs";
import { requireScope } from "../../../../current-user";

export async function generateMetadata({ params }: { params: Promise<{ name: string }> }) {
  return { title: `Run · ${decodeURIComponent((await params).name)} · Jobs · ModelDeck` };
}

export default async function RunPage({
  params,
}: {
  params: Promise<{ name: string; runId: string }>;
}) {
  const { name: rawName, runId } = await params;
  const name = decodeURIComponent(rawName);
  await requireScope("jobs:read", `/jobs/${encodeURIComponent(name)}/runs/${runId}`);
  const run = await getRun(getPrisma(), runId).catch((error: unknown) => {
    if (error instanceof ApiError && error.status === 404) notFound();
    throw error;
  });
  if (run.job !== name) notFound();
  const jobHref = `/jobs/${encodeURIComponent(run.job)}`;

  const facts: [string, React.ReactNode][] = [
    ["Trigger", run.trigger === "manual" ? `Run now by ${run.requestedBy.label}` : "Schedule"],
    ["Fire time", run.scheduledFor ? <Time value={run.scheduledFor} /> : "—"],
    ["Queued", <Time key="q" value={run.createdAt} />],
    ["Started", run.startedAt ? <Time value={run.startedAt} /> : "—"],
    ["Finished", run.finishedAt ? <Time value={run.finishedAt} /> : "—"],
    ["Duration", formatDuration(run.durationMs)],
    ["Attempt", `${run.attempt} of ${run.maxAttempts}`],
    ["Scheduler", run.instanceId ?? "—"],
  ];

  return (
    <>
      <PageHeader
        breadcrumbs={[
          { label: "Jobs", href: "/jobs" },
          { label: run.job, href: jobHref },
          { label: `Run ${run.id.slice(0, 8)}` },
        ]}
        title={
          <span className="inline-flex items-center gap-3">
            Run {run.id.slice(0, 8)} <RunStatusBadge status={run.status} />
          </span>
        }
        description={
          <>
            Job{" "}
            <Link href={jobHref} className="text-accent hover:underline">
              {run.job}
            </Link>{" "}
            on model{" "}
            <Link
              href={`/models/${encodeURIComponent(run.model)}`}
              className="text-accent hover:underline"
            >
              {run.model}
            </Link>
          </>
        }
      />
      {run.error ? (
        <Alert variant="error" className="mb-4" data-testid="run-error">
          {run.error}
        </Alert>
      ) : null}
      {run.reason ? (
        <Alert variant="warning" className="mb-4">
          {run.reason}
        </Alert>
      ) : null}
      <div className="mb-6 grid gap-4 lg:grid-cols-[20rem_1fr]">
        <Card>
          <CardHeader>
            <CardHeading>
              <CardTitle as="h2">Details</CardTitle>
            </CardHeading>
          </CardHeader>
          <CardContent>
            <dl className="grid grid-cols-[max-content_1fr] gap-x-4 gap-y-1 text-[13px]">
              {facts.map(([k, v]) => (
                <div key={k} className="contents">
                  <dt className="text-muted-foreground">{k}</dt>
                  <dd className="min-w-0 break-words">{v}</dd>
                </div>
              ))}
            </dl>
          </CardContent>
        </Card>
        <Card>
          <CardHeader>
            <CardHeading>
              <CardTitle as="h2">Result</CardTitle>
            </CardHeading>
          </CardHeader>
          <CardContent>
            <RunResult result={run.result} model={run.model} />
          </CardContent>
        </Card>
      </div>
      <h2 className="mb-2 text-sm font-semibold">Log</h2>
      <RunLog
        key={`${run.id}-${run.status}`}
        runId={run.id}
        initialLines={run.log}
        initialCursor={run.logCursor}
        initialStatus={run.status}
        initialMore={run.logMore}
      />
    </>
  );
}
