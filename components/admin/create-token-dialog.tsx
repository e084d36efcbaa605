"use client";

import { useRouter } from "next/navigation";
import { useState } from "react";
import { KeyRoundIcon } from "lucide-react";
import { ApiClientError, apiFetch } from "@/components/api-client";
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
import { SimpleSelect } from "@/components/ui/select";

const expiryOptions = [
  { value: "7", label: "7 days" },
  { value: "30", label: "30 days" },
  { value: "90", label: "90 days" },
  { value: "365", label: "1 year" },
  { value: "never", label: "No expiry" },
];

/** Creates an API token and shows its secret exactly once. */
export function CreateTokenDialog() {
  const router = useRouter();
  const [open, setOpen] = useState(false);
  const [role, setRole] = useState("viewer");
  const [expiry, setExpiry] = useState("90");
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
    const name = new FormData(event.currentTarget).get("name");
    setBusy(true);
    setError(null);
    try {
      const expiresAt =
        expiry === "never"
          ? undefined
          : new Date(Date.now() + Number(expiry) * 86_400_000).toISOString();
      const result = await apiFetch<{ secret: string }>("/api/v1/tokens", {
        method: "POST",
        body: { name, role, ...(expiresAt ? { expiresAt } : {}) },
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
          <KeyRoundIcon aria-hidden /> New token
        </Button>
      </DialogTrigger>
      <DialogContent>
        <DialogHeader>
          <DialogTitle>{secret ? "Token created" : "New API token"}</DialogTitle>
          <DialogDescription>
            {secret
              ? "Send it as `Authorization: Bearer <token>` to /api/v1 and to the serving endpoint."
              : "For CI pipelines and inference clients. The token acts with the role you pick."}
          </DialogDescription>
        </DialogHeader>
        {secret ? (
          <>
            <DialogBody className="space-y-3">
              <OneTimeSecret
                value={secret}
                testId="token-secret"
                warning="Copy the token now. Only a hash is stored; it cannot be shown again."
              />
            </DialogBody>
            <DialogFooter>
              <Button variant="primary" onClick={() => change(false)}>
                Done
              </Button>
            </DialogFooter>
          </>
        ) : (
          <form onSubmit={onSubmit}>
            <DialogBody className="space-y-4">
              {error && error.fields.length === 0 ? (
                <Alert variant="error">{error.message}</Alert>
              ) : null}
              <Field
                label="Name"
                required
                hint="Say where it is used, e.g. “ci-train-pipeline”."
                error={error?.fieldError("name")}
              >
                <Input name="name" autoComplete="off" />
              </Field>
              <Field label="Role" required error={error?.fieldError("role")}>
                {(control) => (
                  <SimpleSelect
                    {...control}
                    value={role}
                    onValueChange={setRole}
                    options={[
                      { value: "viewer", label: "Viewer — read and predict" },
                      { value: "operator", label: "Operator — upload, promote, run jobs" },
                      { value: "admin", label: "Admin — everything" },
                    ]}
                  />
                )}
              </Field>
              <Field label="Expires" error={error?.fieldError("expiresAt")}>
                {(control) => (
                  <SimpleSelect
                    {...control}
                    value={expiry}
                    onValueChange={setExpiry}
                    options={expiryOptions}
                  />
                )}
              </Field>
            </DialogBody>
            <DialogFooter>
              <Button type="button" variant="outline" onClick={() => change(false)}>
                Cancel
              </Button>
              <Button type="submit" variant="primary" loading={busy}>
                Create token
              </Button>
            </DialogFooter>
          </form>
        )}
      </DialogContent>
    </Dialog>
  );
}
