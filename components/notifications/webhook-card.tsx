"use client";

import { useRouter } from "next/navigation";
import { Fragment, useState } from "react";
import { ChevronRightIcon, MoreHorizontalIcon, SendIcon } from "lucide-react";
import { ApiClientError, apiFetch } from "@/components/api-client";
import { Time } from "@/components/time";
import { Alert } from "@/components/ui/alert";
import { ConfirmDialog } from "@/components/ui/alert-dialog";
import { Badge, type BadgeVariant } from "@/components/ui/badge";
import { Button } from "@/components/ui/button";
import { cn } from "@/components/ui/cn";
import {
  DropdownMenu,
  DropdownMenuContent,
  DropdownMenuItem,
  DropdownMenuSeparator,
  DropdownMenuTrigger,
} from "@/components/ui/dropdown-menu";
import { Table, TBody, TD, TEmptyRow, TH, THead, TR } from "@/components/ui/table";
import { usePollWhile } from "@/components/use-poll-while";
import type { DeliveryErrorClass } from "@/lib/notifications/queue";
import type { DeliveryStatus, DeliveryView, WebhookView } from "@/lib/notifications/webhooks";
import { EditWebhookDialog, RotatedSecretDialog } from "./webhook-dialogs";

const statusVariant: Record<DeliveryStatus, BadgeVariant> = {
  pending: "warning",
  delivering: "accent",
  succeeded: "success",
  failed: "destructive",
};

export function DeliveryStatusBadge({ status }: { status: DeliveryStatus }) {
  return (
    <Badge variant={statusVariant[status]} dot>
      {status}
    </Badge>
  );
}

const inProgress = (d: DeliveryView) => d.status === "pending" || d.status === "delivering";

function HttpStatus({ code }: { code: number | null }) {
  if (code === null) return <span className="text-muted-foreground">—</span>;
  const ok = code >= 200 && code < 300;
  return (
    <span className={cn("font-mono tabular-nums", ok ? "text-success" : "text-destructive")}>
      {code}
    </span>
  );
}

/** What each failure class is called in the delivery log (the receiver's body is never kept). */
const errorClassLabel: Record<DeliveryErrorClass, string> = {
  http_status: "HTTP error",
  redirect: "redirect",
  timeout: "timeout",
  dns: "DNS",
  connection: "connection",
  tls: "TLS",
  outbound_refused: "outbound policy",
  lost: "lost",
  secret: "signing secret",
  network: "network",
};

function ErrorClass({ value }: { value: DeliveryErrorClass | null }) {
  if (!value) return null;
  return (
    <Badge variant="destructive" className="mr-1.5 shrink-0" data-testid="delivery-error-class">
      {errorClassLabel[value]}
    </Badge>
  );
}

/** One webhook: what it receives, its last outcome, Send test, and its delivery log. */
export function WebhookCard({
  webhook,
  initialDeliveries,
}: {
  webhook: WebhookView;
  initialDeliveries: DeliveryView[];
}) {
  const router = useRouter();
  const [deliveries, setDeliveries] = useState(initialDeliveries);
  const [open, setOpen] = useState<Set<string>>(new Set());
  const [error, setError] = useState<string | null>(null);
  const [sending, setSending] = useState(false);
  const [editing, setEditing] = useState(false);
  const [deleting, setDeleting] = useState(false);
  const [rotated, setRotated] = useState<string | null>(null);
  const url = `/api/v1/webhooks/${webhook.id}/deliveries?limit=20`;

  usePollWhile<{ deliveries: DeliveryView[] }>(deliveries.some(inProgress), url, 1000, (data) => {
    setDeliveries(data.deliveries);
    if (!data.deliveries.some(inProgress)) router.refresh();
  });

  async function act(fn: () => Promise<void>) {
    setError(null);
    try {
      await fn();
    } catch (e) {
      setError(e instanceof ApiClientError ? e.message : String(e));
    }
  }

  const sendTest = () =>
    act(async () => {
      setSending(true);
      try {
        const { delivery } = await apiFetch<{ delivery: DeliveryView }>(
          `/api/v1/webhooks/${webhook.id}/test`,
          { method: "POST" },
        );
        setDeliveries((list) => [delivery, ...list.filter((d) => d.id !== delivery.id)]);
      } finally {
        setSending(false);
      }
    });

  const last = deliveries[0] ?? null;
  const headingId = `webhook-${webhook.id}`;

  return (
    <section
      className="rounded-lg border border-border bg-card"
      aria-labelledby={headingId}
      data-testid={`webhook-${webhook.name}`}
    >
      <div className="flex flex-wrap items-start justify-between gap-3 border-b border-border px-4 py-3">
        <div className="grid min-w-0 gap-1.5">
          <div className="flex items-center gap-2">
            <h2 id={headingId} className="text-sm font-semibold">
              {webhook.name}
            </h2>
            {webhook.enabled ? (
              <Badge variant="success">enabled</Badge>
            ) : (
              <Badge variant="neutral">disabled</Badge>
            )}
          </div>
          <p className="truncate font-mono text-xs text-muted-foreground" title={webhook.url}>
            POST {webhook.url}
          </p>
          <ul className="flex flex-wrap gap-1" aria-label="Events">
            {webhook.events.map((e) => (
              <li key={e}>
                <Badge variant="outline" className="font-mono font-normal">
                  {e}
                </Badge>
              </li>
            ))}
          </ul>
        </div>
        <div className="flex items-center gap-2">
          <dl className="mr-2 hidden text-right text-xs sm:block">
            <dt className="text-muted-foreground">Last delivery</dt>
            <dd className="mt-0.5 flex items-center justify-end gap-1.5">
              {last ? (
                <>
                  <DeliveryStatusBadge status={last.status} />
                  <HttpStatus code={last.lastStatusCode} />
                </>
              ) : (
                <span className="text-muted-foreground">none yet</span>
              )}
            </dd>
          </dl>
          <Button variant="outline" size="sm" onClick={sendTest} loading={sending}>
            <SendIcon aria-hidden /> Send test
          </Button>
          <DropdownMenu>
            <DropdownMenuTrigger asChild>
              <Button variant="ghost" size="icon" aria-label={`More actions for ${webhook.name}`}>
                <MoreHorizontalIcon aria-hidden />
              </Button>
            </DropdownMenuTrigger>
            <DropdownMenuContent align="end">
              <DropdownMenuItem onSelect={() => setEditing(true)}>Edit…</DropdownMenuItem>
              <DropdownMenuItem
                onSelect={() =>
                  act(async () => {
                    await apiFetch(`/api/v1/webhooks/${webhook.id}`, {
                      method: "PATCH",
                      body: { enabled: !webhook.enabled },
                    });
                    router.refresh();
                  })
                }
              >
                {webhook.enabled ? "Disable" : "Enable"}
              </DropdownMenuItem>
              <DropdownMenuItem
                onSelect={() =>
                  act(async () => {
                    const r = await apiFetch<{ secret: string }>(
                      `/api/v1/webhooks/${webhook.id}/rotate-secret`,
                      { method: "POST" },
                    );
                    setRotated(r.secret);
                    router.refresh();
                  })
                }
              >
                Rotate secret
              </DropdownMenuItem>
              <DropdownMenuSeparator />
              <DropdownMenuItem variant="destructive" onSelect={() => setDeleting(true)}>
                Delete…
              </DropdownMenuItem>
            </DropdownMenuContent>
          </DropdownMenu>
        </div>
      </div>
      {error ? (
        <div className="px-4 pt-3">
          <Alert variant="error">{error}</Alert>
        </div>
      ) : null}
      <div className="px-4 py-3">
        <div className="mb-2 flex items-baseline justify-between gap-2">
          <h3 className="text-[13px] font-medium">Delivery log</h3>
          <span className="text-xs text-muted-foreground">
            Signed with {webhook.secretHint} · created by {webhook.createdBy}
          </span>
        </div>
        <Table aria-label={`Deliveries of ${webhook.name}`} data-testid="delivery-log">
          <THead>
            <TR>
              <TH className="w-8">
                <span className="sr-only">Details</span>
              </TH>
              <TH>Event</TH>
              <TH>Status</TH>
              <TH align="right">HTTP</TH>
              <TH align="right">Attempts</TH>
              <TH align="right">Duration</TH>
              <TH>Outcome</TH>
              <TH>Queued</TH>
            </TR>
          </THead>
          <TBody>
            {deliveries.length === 0 ? (
              <TEmptyRow colSpan={8}>
                Nothing delivered yet. “Send test” queues a signed webhook.test event.
              </TEmptyRow>
            ) : (
              deliveries.map((d) => {
                const lastAttempt = d.attemptLog[d.attemptLog.length - 1];
                const expanded = open.has(d.id);
                return (
                  <Fragment key={d.id}>
                    <TR data-testid="delivery-row">
                      <TD>
                        <Button
                          variant="ghost"
                          size="icon"
                          className="size-6"
                          aria-expanded={expanded}
                          aria-label={expanded ? "Hide attempts" : "Show attempts"}
                          onClick={() =>
                            setOpen((s) => {
                              const next = new Set(s);
                              if (expanded) next.delete(d.id);
                              else next.add(d.id);
                              return next;
                            })
                          }
                        >
                          <ChevronRightIcon
                            aria-hidden
                            className={cn("size-3.5 transition-transform", expanded && "rotate-90")}
                          />
                        </Button>
                      </TD>
                      <TD className="font-mono text-xs">{d.eventType}</TD>
                      <TD>
                        <DeliveryStatusBadge status={d.status} />
                      </TD>
                      <TD align="right" data-testid="delivery-http">
                        <HttpStatus code={d.lastStatusCode} />
                      </TD>
                      <TD align="right" className="tabular-nums">
                        {d.attempts}/{d.maxAttempts}
                      </TD>
                      <TD align="right" className="tabular-nums text-muted-foreground">
                        {lastAttempt ? `${lastAttempt.durationMs} ms` : "—"}
                      </TD>
                      <TD className="max-w-80">
                        <span
                          className="flex min-w-0 items-center"
                          title={d.lastError ?? undefined}
                        >
                          <ErrorClass value={d.lastErrorClass} />
                          <span
                            className={cn(
                              "truncate font-mono text-xs",
                              d.lastError ? "text-destructive" : "text-muted-foreground",
                            )}
                          >
                            {d.lastError ??
                              (d.status === "succeeded"
                                ? "delivered"
                                : d.nextAttemptAt
                                  ? "waiting for its attempt…"
                                  : "")}
                          </span>
                        </span>
                      </TD>
                      <TD className="whitespace-nowrap text-muted-foreground">
                        <Time value={d.createdAt} />
                      </TD>
                    </TR>
                    {expanded ? (
                      <TR>
                        <TD colSpan={8} className="bg-muted/40">
                          <AttemptList delivery={d} />
                        </TD>
                      </TR>
                    ) : null}
                  </Fragment>
                );
              })
            )}
          </TBody>
        </Table>
      </div>
      <EditWebhookDialog webhook={webhook} open={editing} onOpenChange={setEditing} />
      <RotatedSecretDialog secret={rotated} onClose={() => setRotated(null)} />
      <ConfirmDialog
        open={deleting}
        onOpenChange={setDeleting}
        title={`Delete the webhook “${webhook.name}”?`}
        changes={[
          `Nothing more is sent to ${webhook.url}.`,
          "Its pending deliveries and its delivery log are deleted.",
        ]}
        destructive
        confirmLabel="Delete webhook"
        onConfirm={async () => {
          await apiFetch(`/api/v1/webhooks/${webhook.id}`, { method: "DELETE" }).catch(
            (e: unknown) => {
              throw new Error(e instanceof ApiClientError ? e.message : String(e));
            },
          );
          router.refresh();
        }}
      />
    </section>
  );
}

function AttemptList({ delivery }: { delivery: DeliveryView }) {
  return (
    <div className="grid gap-2 py-1">
      <div className="text-xs text-muted-foreground">
        Delivery <span className="font-mono">{delivery.id}</span>
        {delivery.nextAttemptAt ? (
          <>
            {" "}
            · next attempt <Time value={delivery.nextAttemptAt} />
          </>
        ) : null}
      </div>
      {delivery.attemptLog.length === 0 ? (
        <p className="text-xs text-muted-foreground">No attempt yet.</p>
      ) : (
        <ol className="grid gap-1.5">
          {delivery.attemptLog.map((a) => (
            <li
              key={a.attempt}
              className="grid grid-cols-[5rem_2.5rem_4.5rem_minmax(0,1fr)] items-baseline gap-3 text-xs"
            >
              <span className="text-muted-foreground">Attempt {a.attempt}</span>
              <HttpStatus code={a.statusCode} />
              <span className="tabular-nums text-muted-foreground">{a.durationMs} ms</span>
              <span className="flex min-w-0 items-baseline">
                <ErrorClass value={a.errorClass} />
                {a.error ? (
                  <span className="text-destructive">{a.error}</span>
                ) : (
                  <span className="text-muted-foreground">delivered</span>
                )}
              </span>
            </li>
          ))}
        </ol>
      )}
    </div>
  );
}
