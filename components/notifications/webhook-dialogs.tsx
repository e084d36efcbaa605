"use client";

import { useRouter } from "next/navigation";
import { useState } from "react";
import { PlusIcon } from "lucide-react";
import { ApiClientError, apiFetch } from "@/components/api-client";
import { FormDialog } from "@/components/form-dialog";
import { OneTimeSecret } from "@/components/admin/one-time-secret";
import { Alert } from "@/components/ui/alert";
import { Button } from "@/components/ui/button";
import {
  Dialog,
  DialogBody,
  DialogContent,
  DialogDescription,
  DialogFooter,
  DialogHeader,
  DialogTitle,
  DialogTrigger,
} from "@/components/ui/dialog";
import { Field } from "@/components/ui/field";
import { Input } from "@/components/ui/input";
import { EVENT_DESCRIPTIONS, SUBSCRIBABLE_EVENT_TYPES } from "@/lib/notifications/event-types";

export type WebhookFormValues = { name: string; url: string; events: string[] };

function readForm(form: FormData): WebhookFormValues {
  return {
    name: String(form.get("name") ?? ""),
    url: String(form.get("url") ?? ""),
    events: form.getAll("events").map(String),
  };
}

/** Name, URL and the event checkboxes, shared by "New webhook" and "Edit". */
function WebhookFields({
  error,
  initial,
}: {
  error: ApiClientError | null;
  initial?: WebhookFormValues;
}) {
  const eventsError =
    error?.fields.find((f) => f.field === "events" || f.field.startsWith("events."))?.message ??
    undefined;
  return (
    <>
      <Field
        label="Name"
        required
        hint="Who receives it, e.g. “ops-pager”."
        error={error?.fieldError("name")}
      >
        <Input name="name" autoComplete="off" defaultValue={initial?.name} />
      </Field>
      <Field
        label="Payload URL"
        required
        hint="ModelDeck POSTs signed JSON here (http:// or https://)."
        error={error?.fieldError("url")}
      >
        <Input
          name="url"
          type="text"
          inputMode="url"
          autoComplete="off"
          spellCheck={false}
          placeholder="https://hooks.example.com/modeldeck"
          defaultValue={initial?.url}
          className="font-mono text-xs"
        />
      </Field>
      <fieldset
        className="grid gap-x-3 gap-y-1.5 sm:grid-cols-2"
        aria-describedby={eventsError ? "events-error" : undefined}
      >
        <legend className="mb-1.5 text-[13px] font-medium">Events</legend>
        {SUBSCRIBABLE_EVENT_TYPES.map((type) => (
          <label
            key={type}
            className="flex cursor-pointer items-start gap-2 rounded-md px-1 py-0.5 hover:bg-muted/60"
          >
            <input
              type="checkbox"
              name="events"
              value={type}
              defaultChecked={initial ? initial.events.includes(type) : type.startsWith("alert.")}
              className="mt-0.5 size-3.5 accent-[var(--color-accent)]"
            />
            <span className="grid">
              <span className="font-mono text-xs">{type}</span>
              <span className="text-xs text-muted-foreground">{EVENT_DESCRIPTIONS[type]}</span>
            </span>
          </label>
        ))}
        {eventsError ? (
          <p id="events-error" className="text-xs text-destructive sm:col-span-2">
            {eventsError.charAt(0).toUpperCase() + eventsError.slice(1)}.
          </p>
        ) : null}
      </fieldset>
    </>
  );
}

/** Creates a webhook and shows its signing secret exactly once. */
export function CreateWebhookDialog() {
  const router = useRouter();
  const [open, setOpen] = useState(false);
  const [error, setError] = useState<ApiClientError | null>(null);
  const [busy, setBusy] = useState(false);
  const [secret, setSecret] = useState<string | null>(null);

  function change(next: boolean) {
    setOpen(next);
    if (!next) {
      setSecret(null);
      setError(null);
    }
  }

  async function onSubmit(event: React.FormEvent<HTMLFormElement>) {
    event.preventDefault();
    setBusy(true);
    setError(null);
    try {
      const result = await apiFetch<{ secret: string }>("/api/v1/webhooks", {
        method: "POST",
        body: readForm(new FormData(event.currentTarget)),
      });
      setSecret(result.secret);
      router.refresh();
    } catch (e) {
      setError(e instanceof ApiClientError ? e : new ApiClientError(String(e), 0, "network"));
    } finally {
      setBusy(false);
    }
  }

  return (
    <Dialog open={open} onOpenChange={change}>
      <DialogTrigger asChild>
        <Button variant="primary">
          <PlusIcon aria-hidden /> New webhook
        </Button>
      </DialogTrigger>
      <DialogContent size="lg">
        <DialogHeader>
          <DialogTitle>{secret ? "Webhook created" : "New webhook"}</DialogTitle>
          <DialogDescription>
            {secret
              ? "Give this signing secret to the receiver: it verifies the ModelDeck-Signature header with it."
              : "Alert transitions and registry events are POSTed as JSON, signed with HMAC-SHA256, and retried with backoff."}
          </DialogDescription>
        </DialogHeader>
        {secret ? (
          <>
            <DialogBody className="space-y-3">
              <OneTimeSecret
                value={secret}
                testId="webhook-secret"
                warning="Copy the secret now. It is not shown again (rotate it to get a new one)."
              />
            </DialogBody>
            <DialogFooter>
              <Button variant="primary" onClick={() => change(false)}>
                Done
              </Button>
            </DialogFooter>
          </>
        ) : (
          <form onSubmit={onSubmit} noValidate>
            <DialogBody className="space-y-4">
              {error && error.fields.length === 0 ? (
                <Alert variant="error">{error.message}</Alert>
              ) : null}
              <WebhookFields error={error} />
            </DialogBody>
            <DialogFooter>
              <Button type="button" variant="outline" onClick={() => change(false)}>
                Cancel
              </Button>
              <Button type="submit" variant="primary" loading={busy}>
                Create webhook
              </Button>
            </DialogFooter>
          </form>
        )}
      </DialogContent>
    </Dialog>
  );
}

export function EditWebhookDialog({
  webhook,
  open,
  onOpenChange,
}: {
  webhook: { id: string } & WebhookFormValues;
  open: boolean;
  onOpenChange: (open: boolean) => void;
}) {
  const router = useRouter();
  return (
    <FormDialog
      open={open}
      onOpenChange={onOpenChange}
      size="lg"
      title={`Edit ${webhook.name}`}
      submitLabel="Save"
      onSubmit={async (form) => {
        await apiFetch(`/api/v1/webhooks/${webhook.id}`, { method: "PATCH", body: readForm(form) });
        router.refresh();
      }}
    >
      {(error) => <WebhookFields error={error} initial={webhook} />}
    </FormDialog>
  );
}

/** The new secret after a rotation, shown once. */
export function RotatedSecretDialog({
  secret,
  onClose,
}: {
  secret: string | null;
  onClose: () => void;
}) {
  return (
    <Dialog open={secret !== null} onOpenChange={(next) => (next ? undefined : onClose())}>
      <DialogContent>
        <DialogHeader>
          <DialogTitle>New signing secret</DialogTitle>
          <DialogDescription>
            Every delivery from now on is signed with it; the old secret no longer verifies.
          </DialogDescription>
        </DialogHeader>
        <DialogBody className="space-y-3">
          {secret ? (
            <OneTimeSecret
              value={secret}
              testId="webhook-rotated-secret"
              warning="Copy the secret now and update the receiver. It is not shown again."
            />
          ) : null}
        </DialogBody>
        <DialogFooter>
          <Button variant="primary" onClick={onClose}>
            Done
          </Button>
        </DialogFooter>
      </DialogContent>
    </Dialog>
  );
}
