import {
  ActivityIcon,
  ArrowUpCircleIcon,
  BellIcon,
  BoxesIcon,
  CalendarClockIcon,
  DownloadIcon,
  EllipsisIcon,
  PencilIcon,
  PlusIcon,
  RefreshCwIcon,
  Trash2Icon,
  ZapIcon,
} from "lucide-react";
import type { Metadata } from "next";
import Link from "next/link";
import { notFound } from "next/navigation";
import type * as React from "react";

import { AppShell } from "@/components/shell/app-shell";
import { Alert } from "@/components/ui/alert";
import { ConfirmDialog } from "@/components/ui/alert-dialog";
import { Badge, type BadgeVariant } from "@/components/ui/badge";
import { Button } from "@/components/ui/button";
import {
  Card,
  CardActions,
  CardContent,
  CardDescription,
  CardFooter,
  CardHeader,
  CardHeading,
  CardTitle,
} from "@/components/ui/card";
import { CopyButton } from "@/components/ui/copy-button";
import {
  Dialog,
  DialogBody,
  DialogClose,
  DialogContent,
  DialogDescription,
  DialogFooter,
  DialogHeader,
  DialogTitle,
  DialogTrigger,
} from "@/components/ui/dialog";
import {
  DropdownMenu,
  DropdownMenuContent,
  DropdownMenuItem,
  DropdownMenuLabel,
  DropdownMenuSeparator,
  DropdownMenuTrigger,
} from "@/components/ui/dropdown-menu";
import { EmptyState } from "@/components/ui/empty-state";
import { Field } from "@/components/ui/field";
import { Input } from "@/components/ui/input";
import { PageHeader } from "@/components/ui/page-header";
import { Pagination } from "@/components/ui/pagination";
import { SimpleSelect } from "@/components/ui/select";
import { Spinner } from "@/components/ui/spinner";
import { Stat } from "@/components/ui/stat";
import { TBody, TD, TH, THead, TR, Table, TableCaption } from "@/components/ui/table";
import { Textarea } from "@/components/ui/textarea";
import { Tooltip } from "@/components/ui/tooltip";

export const metadata: Metadata = {
  title: "UI preview · ModelDeck",
  robots: { index: false, follow: false },
};

const sampleUser = {
  name: "Ada Lovelace",
  email: "ada@modeldeck.internal",
  role: "admin",
} as const;

type VersionStatus = "ready" | "validating" | "failed" | "archived";

const statusBadge: Record<VersionStatus, { label: string; variant: BadgeVariant }> = {
  ready: { label: "Ready", variant: "success" },
  validating: { label: "Validating", variant: "warning" },
  failed: { label: "Failed", variant: "destructive" },
  archived: { label: "Archived", variant: "neutral" },
};

const versions: {
  version: number;
  aliases: string[];
  status: VersionStatus;
  opset: number;
  sizeMb: number;
  auc: number | null;
  createdAt: string;
  createdBy: string;
  sha: string;
}[] = [
  {
    version: 14,
    aliases: ["staging"],
    status: "ready",
    opset: 17,
    sizeMb: 48.2,
    auc: 0.9182,
    createdAt: "2026-11-21 16:42",
    createdBy: "refresh-job",
    sha: "9f2c4ab1",
  },
  {
    version: 13,
    aliases: ["production"],
    status: "ready",
    opset: 17,
    sizeMb: 47.9,
    auc: 0.9141,
    createdAt: "2026-11-14 16:40",
    createdBy: "refresh-job",
    sha: "1e77d0c3",
  },
  {
    version: 12,
    aliases: [],
    status: "failed",
    opset: 17,
    sizeMb: 47.9,
    auc: null,
    createdAt: "2026-11-07 16:41",
    createdBy: "refresh-job",
    sha: "c0ffee42",
  },
  {
    version: 11,
    aliases: ["candidate"],
    status: "validating",
    opset: 17,
    sizeMb: 46.1,
    auc: 0.9098,
    createdAt: "2026-11-03 09:12",
    createdBy: "grace@modeldeck.internal",
    sha: "5ab9e210",
  },
  {
    version: 10,
    aliases: [],
    status: "ready",
    opset: 15,
    sizeMb: 45.4,
    auc: 0.9077,
    createdAt: "2026-10-31 16:39",
    createdBy: "refresh-job",
    sha: "7d1f9c88",
  },
  {
    version: 9,
    aliases: [],
    status: "archived",
    opset: 15,
    sizeMb: 45.0,
    auc: 0.9012,
    createdAt: "2026-10-24 16:38",
    createdBy: "refresh-job",
    sha: "e4b3a901",
  },
  {
    version: 8,
    aliases: [],
    status: "archived",
    opset: 15,
    sizeMb: 44.8,
    auc: 0.8987,
    createdAt: "2026-10-17 16:40",
    createdBy: "refresh-job",
    sha: "0a9d2f6e",
  },
  {
    version: 7,
    aliases: [],
    status: "archived",
    opset: 13,
    sizeMb: 39.7,
    auc: 0.8934,
    createdAt: "2026-10-10 16:37",
    createdBy: "ada@modeldeck.internal",
    sha: "b7e01c55",
  },
];

const aliasVariant = (alias: string): BadgeVariant =>
  alias === "production" ? "accent" : alias === "staging" ? "warning" : "outline";

const jobs = [
  {
    name: "churn-xgb weekly refresh",
    schedule: "Fri 16:30 UTC",
    lastRun: "succeeded",
    duration: "11m 42s",
  },
  {
    name: "fraud-detector drift check",
    schedule: "Every 15 min",
    lastRun: "running",
    duration: "—",
  },
  {
    name: "ranker-bert nightly eval",
    schedule: "Daily 02:00 UTC",
    lastRun: "failed",
    duration: "3m 08s",
  },
];

async function promoteVersion() {
  "use server";
  await new Promise((resolve) => setTimeout(resolve, 900));
}

async function deleteModel() {
  "use server";
  await new Promise((resolve) => setTimeout(resolve, 600));
  throw new Error("churn-xgb is still served by 2 deployments. Remove its aliases first.");
}

async function saveForm() {
  "use server";
}

function Section({
  id,
  title,
  description,
  children,
}: {
  id: string;
  title: string;
  description?: string;
  children: React.ReactNode;
}) {
  return (
    <section aria-labelledby={id} className="grid min-w-0 grid-cols-1 content-start gap-3">
      <div>
        <h2 id={id} className="text-sm font-semibold text-foreground">
          {title}
        </h2>
        {description ? <p className="text-[13px] text-muted-foreground">{description}</p> : null}
      </div>
      {children}
    </section>
  );
}

export default function UiPreviewPage() {
  if (process.env.NODE_ENV === "production" && process.env.MODELDECK_UI_PREVIEW !== "1") {
    notFound();
  }

  return (
    <AppShell user={sampleUser}>
      <PageHeader
        breadcrumbs={[{ label: "Models", href: "/models" }, { label: "churn-xgb" }]}
        title={
          <span className="flex flex-wrap items-center gap-2">
            churn-xgb
            <Badge variant="accent">production v13</Badge>
            <Badge variant="warning">staging v14</Badge>
          </span>
        }
        description="Gradient-boosted churn classifier exported to ONNX. Refreshed weekly from the CRM warehouse."
        actions={
          <>
            <CopyButton value="models:/churn-xgb@production" label="Copy URI" />
            <Dialog>
              <DialogTrigger asChild>
                <Button variant="outline">
                  <PencilIcon aria-hidden="true" />
                  Edit
                </Button>
              </DialogTrigger>
              <DialogContent>
                <DialogHeader>
                  <DialogTitle>Edit churn-xgb</DialogTitle>
                  <DialogDescription>
                    Changes apply to the model record, not to existing versions.
                  </DialogDescription>
                </DialogHeader>
                <DialogBody className="grid gap-4">
                  <Field label="Display name" required>
                    <Input name="displayName" defaultValue="Churn classifier (XGBoost)" />
                  </Field>
                  <Field label="Description" hint="Markdown is supported." optional>
                    <Textarea
                      name="description"
                      defaultValue="Gradient-boosted churn classifier exported to ONNX."
                    />
                  </Field>
                </DialogBody>
                <DialogFooter>
                  <DialogClose asChild>
                    <Button variant="outline">Cancel</Button>
                  </DialogClose>
                  <DialogClose asChild>
                    <Button variant="primary">Save changes</Button>
                  </DialogClose>
                </DialogFooter>
              </DialogContent>
            </Dialog>
            <ConfirmDialog
              trigger={
                <Button variant="primary">
                  <ArrowUpCircleIcon aria-hidden="true" />
                  Promote v14
                </Button>
              }
              title="Promote churn-xgb v14 to production?"
              description="Live traffic switches to the new version within a few seconds. You can roll back by promoting v13 again."
              changes={[
                <span key="production">
                  Move the <strong>production</strong> alias from v13 to v14
                </span>,
                <span key="staging">
                  Remove the <strong>staging</strong> alias from v14
                </span>,
                "Record the change in the audit log",
              ]}
              confirmLabel="Promote to production"
              onConfirm={promoteVersion}
            />
          </>
        }
      />

      <div className="grid grid-cols-1 gap-8">
        <Section id="kpis" title="Stats">
          <div className="grid grid-cols-1 gap-3 sm:grid-cols-2 xl:grid-cols-4">
            <Stat
              label="Requests / min"
              value="1,284"
              delta={{ value: "+8.2%", direction: "up", label: "vs last hour" }}
              icon={<ZapIcon />}
            />
            <Stat
              label="p95 latency"
              value="42"
              unit="ms"
              delta={{ value: "+6 ms", direction: "up", positive: false, label: "vs last hour" }}
              icon={<ActivityIcon />}
            />
            <Stat
              label="Error rate"
              value="0.03"
              unit="%"
              delta={{ value: "0.00", direction: "flat" }}
              hint="Over the last 24 hours"
            />
            <Stat label="Open alerts" value="2" hint="1 warning, 1 critical" icon={<BellIcon />} />
          </div>
        </Section>

        <Section id="alerts" title="Alerts">
          <div className="grid gap-2">
            <Alert variant="info" title="Scheduled refresh">
              The next weekly refresh of churn-xgb starts Friday at 16:30 UTC.
            </Alert>
            <Alert variant="success">
              v14 passed validation against the holdout set (AUC 0.918).
            </Alert>
            <Alert
              variant="warning"
              title="Input drift detected"
              action={
                <Button asChild variant="outline" size="sm">
                  <Link href="/monitoring">View drift</Link>
                </Button>
              }
            >
              Feature <code>tenure_months</code> shifted 2.4σ from the training distribution.
            </Alert>
            <Alert variant="error" title="Refresh failed">
              v12 failed validation: output tensor <code>probabilities</code> has shape [1, 3],
              expected [1, 2].
            </Alert>
          </div>
        </Section>

        <Section
          id="versions"
          title="Table"
          description="Dense table with sticky header, row actions and pagination."
        >
          <Card>
            <CardHeader>
              <CardHeading>
                <CardTitle as="h3">Versions</CardTitle>
                <CardDescription>Every ONNX artifact registered for churn-xgb.</CardDescription>
              </CardHeading>
              <CardActions>
                <Tooltip content="Refresh list">
                  <Button variant="ghost" size="icon" aria-label="Refresh list">
                    <RefreshCwIcon aria-hidden="true" />
                  </Button>
                </Tooltip>
                <Button variant="outline" size="sm">
                  <DownloadIcon aria-hidden="true" />
                  Export CSV
                </Button>
              </CardActions>
            </CardHeader>
            <Table
              stickyHeader
              maxHeight="20rem"
              bordered={false}
              containerClassName="border-t border-border"
              aria-label="Versions of churn-xgb"
            >
              <THead>
                <TR>
                  <TH>Version</TH>
                  <TH>Aliases</TH>
                  <TH>Status</TH>
                  <TH align="right">Opset</TH>
                  <TH align="right">Size</TH>
                  <TH align="right">AUC</TH>
                  <TH>SHA</TH>
                  <TH>Created</TH>
                  <TH>Created by</TH>
                  <TH>
                    <span className="sr-only">Actions</span>
                  </TH>
                </TR>
              </THead>
              <TBody>
                {versions.map((row) => (
                  <TR key={row.version} selected={row.version === 14}>
                    <TD className="font-medium">
                      <Link href="#" className="rounded-sm hover:text-accent hover:underline">
                        v{row.version}
                      </Link>
                    </TD>
                    <TD>
                      {row.aliases.length > 0 ? (
                        <span className="flex gap-1">
                          {row.aliases.map((alias) => (
                            <Badge key={alias} variant={aliasVariant(alias)}>
                              {alias}
                            </Badge>
                          ))}
                        </span>
                      ) : (
                        <span className="text-muted-foreground">—</span>
                      )}
                    </TD>
                    <TD>
                      <Badge variant={statusBadge[row.status].variant} dot>
                        {statusBadge[row.status].label}
                      </Badge>
                    </TD>
                    <TD numeric>{row.opset}</TD>
                    <TD numeric>{row.sizeMb.toFixed(1)} MB</TD>
                    <TD numeric>{row.auc === null ? "—" : row.auc.toFixed(4)}</TD>
                    <TD mono muted>
                      {row.sha}
                    </TD>
                    <TD muted className="whitespace-nowrap">
                      {row.createdAt}
                    </TD>
                    <TD muted className="max-w-48 truncate">
                      {row.createdBy}
                    </TD>
                    <TD align="right" className="w-10">
                      <DropdownMenu>
                        <DropdownMenuTrigger asChild>
                          <Button
                            variant="ghost"
                            size="icon"
                            className="size-7"
                            aria-label={`Actions for v${row.version}`}
                          >
                            <EllipsisIcon aria-hidden="true" />
                          </Button>
                        </DropdownMenuTrigger>
                        <DropdownMenuContent align="end">
                          <DropdownMenuLabel>v{row.version}</DropdownMenuLabel>
                          <DropdownMenuItem>
                            <ArrowUpCircleIcon aria-hidden="true" />
                            Promote to production
                          </DropdownMenuItem>
                          <DropdownMenuItem>
                            <DownloadIcon aria-hidden="true" />
                            Download .onnx
                          </DropdownMenuItem>
                          <DropdownMenuSeparator />
                          <DropdownMenuItem variant="destructive">
                            <Trash2Icon aria-hidden="true" />
                            Archive version
                          </DropdownMenuItem>
                        </DropdownMenuContent>
                      </DropdownMenu>
                    </TD>
                  </TR>
                ))}
              </TBody>
            </Table>
            <CardFooter>
              <Pagination
                className="w-full"
                page={1}
                pageSize={8}
                total={14}
                prevHref={null}
                nextHref="/ui-preview?page=2"
                noun="versions"
              />
            </CardFooter>
          </Card>

          <Table>
            <TableCaption className="sr-only">Refresh jobs</TableCaption>
            <THead>
              <TR>
                <TH>Job</TH>
                <TH>Schedule</TH>
                <TH>Last run</TH>
                <TH align="right">Duration</TH>
              </TR>
            </THead>
            <TBody>
              {jobs.map((job) => (
                <TR key={job.name}>
                  <TD className="font-medium">{job.name}</TD>
                  <TD muted>{job.schedule}</TD>
                  <TD>
                    {job.lastRun === "running" ? (
                      <span className="inline-flex items-center gap-1.5 text-muted-foreground">
                        <Spinner size="sm" label={null} />
                        Running
                      </span>
                    ) : (
                      <Badge variant={job.lastRun === "failed" ? "destructive" : "success"} dot>
                        {job.lastRun === "failed" ? "Failed" : "Succeeded"}
                      </Badge>
                    )}
                  </TD>
                  <TD numeric>{job.duration}</TD>
                </TR>
              ))}
            </TBody>
          </Table>
        </Section>

        <div className="grid grid-cols-1 gap-8 xl:grid-cols-2">
          <Section id="form" title="Form" description="Field wiring: label, hint, error, required.">
            <Card>
              <form action={saveForm} noValidate>
                <CardHeader>
                  <CardHeading>
                    <CardTitle as="h3">Register a model</CardTitle>
                    <CardDescription>Upload an ONNX file to create version 1.</CardDescription>
                  </CardHeading>
                </CardHeader>
                <CardContent className="grid gap-4">
                  <Field
                    label="Model name"
                    required
                    hint="Lowercase letters, digits and dashes. Used in URLs and the serving API."
                    error="A model named churn-xgb already exists."
                  >
                    <Input name="name" defaultValue="churn-xgb" autoComplete="off" />
                  </Field>
                  <Field label="Runtime" hint="Execution provider used by the serving worker.">
                    {(control) => (
                      <SimpleSelect
                        {...control}
                        name="runtime"
                        defaultValue="cpu"
                        options={[
                          { value: "cpu", label: "ONNX Runtime · CPU" },
                          { value: "cuda", label: "ONNX Runtime · CUDA" },
                          { value: "openvino", label: "OpenVINO", disabled: true },
                        ]}
                      />
                    )}
                  </Field>
                  <Field label="Description" optional>
                    <Textarea name="description" placeholder="What does this model predict?" />
                  </Field>
                  <Field label="Disabled input" disabled hint="Fields can be disabled too.">
                    <Input name="owner" defaultValue="ml-platform" />
                  </Field>
                </CardContent>
                <CardFooter className="justify-end">
                  <Button variant="ghost" type="reset">
                    Reset
                  </Button>
                  <Button variant="primary" type="submit">
                    Register model
                  </Button>
                </CardFooter>
              </form>
            </Card>
          </Section>

          <div className="grid min-w-0 grid-cols-1 content-start gap-8">
            <Section id="buttons" title="Buttons and badges">
              <Card>
                <CardContent className="grid gap-4 pt-4">
                  <div className="flex flex-wrap items-center gap-2">
                    <Button variant="primary">Primary</Button>
                    <Button variant="secondary">Secondary</Button>
                    <Button variant="outline">Outline</Button>
                    <Button variant="ghost">Ghost</Button>
                    <Button variant="destructive">Destructive</Button>
                  </div>
                  <div className="flex flex-wrap items-center gap-2">
                    <Button variant="primary" size="sm">
                      <PlusIcon aria-hidden="true" />
                      Small
                    </Button>
                    <Button variant="outline" loading>
                      Saving
                    </Button>
                    <Button variant="outline" disabled>
                      Disabled
                    </Button>
                    <Button asChild variant="outline">
                      <Link href="/docs/api">Link as button</Link>
                    </Button>
                    <Tooltip content="Delete model">
                      <Button variant="ghost" size="icon" aria-label="Delete model">
                        <Trash2Icon aria-hidden="true" />
                      </Button>
                    </Tooltip>
                    <Spinner />
                  </div>
                  <div className="flex flex-wrap items-center gap-2">
                    <Badge>neutral</Badge>
                    <Badge variant="accent">production</Badge>
                    <Badge variant="warning">staging</Badge>
                    <Badge variant="success" dot>
                      Healthy
                    </Badge>
                    <Badge variant="destructive" dot>
                      Down
                    </Badge>
                    <Badge variant="outline">onnx opset 17</Badge>
                  </div>
                  <div className="flex flex-wrap items-center gap-2 border-t border-border pt-4">
                    <code className="rounded-md bg-muted px-2 py-1 text-xs">md_live_7Hq2…c91F</code>
                    <CopyButton value="md_live_7Hq2xYpP0c91F" label="Copy token" iconOnly />
                    <ConfirmDialog
                      destructive
                      trigger={
                        <Button variant="destructive" size="sm">
                          <Trash2Icon aria-hidden="true" />
                          Delete model
                        </Button>
                      }
                      title="Delete churn-xgb?"
                      description="This cannot be undone."
                      changes={[
                        "Delete 14 versions and their ONNX files (672 MB)",
                        "Stop serving at /v1/models/churn-xgb/predict",
                        "Keep the audit log entries",
                      ]}
                      confirmLabel="Delete model"
                      onConfirm={deleteModel}
                    />
                  </div>
                </CardContent>
              </Card>
            </Section>

            <Section id="empty" title="Empty state">
              <EmptyState
                icon={<CalendarClockIcon />}
                title="No scheduled jobs yet"
                description="Scheduled refreshes retrain and re-validate a model on a cron schedule. They arrive with the jobs feature."
                action={
                  <Button variant="primary" disabled>
                    <PlusIcon aria-hidden="true" />
                    New job
                  </Button>
                }
              />
              <EmptyState
                bordered={false}
                icon={<BoxesIcon />}
                title="No models match “fraud”"
                description="Try a different name or clear the filter."
                className="py-6"
              />
            </Section>
          </div>
        </div>
      </div>
    </AppShell>
  );
}
