"use client";

import { useRouter } from "next/navigation";
import { useState } from "react";
import { ApiClientError, apiFetch } from "@/components/api-client";
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
} from "@/components/ui/dialog";
import { Field } from "@/components/ui/field";
import { Input } from "@/components/ui/input";
import { Textarea } from "@/components/ui/textarea";

/** Points a free-form alias (challenger, canary…) at a version. */
export function SetAliasDialog({
  model,
  version,
  current,
  open,
  onOpenChange,
}: {
  model: string;
  version: number;
  current: Record<string, number>;
  open: boolean;
  onOpenChange: (open: boolean) => void;
}) {
  const router = useRouter();
  const [alias, setAlias] = useState("");
  const [reason, setReason] = useState("");
  const [error, setError] = useState<ApiClientError | null>(null);
  const [busy, setBusy] = useState(false);
  const name = alias.trim().toLowerCase();
  const from = current[name];

  async function onSubmit(event: React.FormEvent<HTMLFormElement>) {
    event.preventDefault();
    setBusy(true);
    setError(null);
    try {
      await apiFetch(
        `/api/v1/models/${encodeURIComponent(model)}/aliases/${encodeURIComponent(name)}`,
        {
          method: "PUT",
          body: { version, ...(reason.trim() ? { reason: reason.trim() } : {}) },
        },
      );
      onOpenChange(false);
      setAlias("");
      setReason("");
      router.refresh();
    } catch (e) {
      setError(e instanceof ApiClientError ? e : new ApiClientError(String(e), 0, "network"));
    } finally {
      setBusy(false);
    }
  }

  return (
    <Dialog open={open} onOpenChange={onOpenChange}>
      <DialogContent>
        <DialogHeader>
          <DialogTitle>
            Point an alias at {model} v{version}
          </DialogTitle>
          <DialogDescription>
            Clients can ask for a model by alias. production and staging are listed in the menu; use
            this for others such as challenger or canary.
          </DialogDescription>
        </DialogHeader>
        <form onSubmit={onSubmit}>
          <DialogBody className="space-y-4">
            {error && error.fields.length === 0 ? (
              <Alert variant="error">{error.message}</Alert>
            ) : null}
            <Field
              label="Alias"
              required
              hint={
                name
                  ? from
                    ? `${name} moves from v${from} to v${version}.`
                    : `${name} is created, pointing at v${version}.`
                  : "Lower-case letters, digits, - _ ."
              }
              error={error?.fieldError("alias")}
            >
              <Input
                value={alias}
                onChange={(e) => setAlias(e.target.value)}
                placeholder="challenger"
                autoComplete="off"
              />
            </Field>
            <Field label="Reason" optional>
              <Textarea
                rows={2}
                value={reason}
                onChange={(e) => setReason(e.target.value)}
                maxLength={2000}
              />
            </Field>
          </DialogBody>
          <DialogFooter>
            <Button type="button" variant="outline" onClick={() => onOpenChange(false)}>
              Cancel
            </Button>
            <Button type="submit" variant="primary" loading={busy} disabled={!name}>
              Set alias
            </Button>
          </DialogFooter>
        </form>
      </DialogContent>
    </Dialog>
  );
}
