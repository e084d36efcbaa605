"use client";

import { useRouter } from "next/navigation";
import { useState } from "react";
import { UserPlusIcon } from "lucide-react";
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

const roleOptions = [
  { value: "viewer", label: "Viewer — reads everything" },
  { value: "operator", label: "Operator — uploads, promotes, runs jobs" },
  { value: "admin", label: "Admin — users, tokens, settings" },
];

type Created = { user: { email: string }; password?: string };

/** Creates a user; a generated password is shown once, with a copy button. */
export function CreateUserDialog() {
  const router = useRouter();
  const [open, setOpen] = useState(false);
  const [role, setRole] = useState("viewer");
  const [error, setError] = useState<ApiClientError | null>(null);
  const [busy, setBusy] = useState(false);
  const [created, setCreated] = useState<Created | null>(null);

  function reset(next: boolean) {
    setOpen(next);
    if (!next) {
      setError(null);
      setCreated(null);
      setRole("viewer");
    }
  }

  async function onSubmit(event: React.FormEvent<HTMLFormElement>) {
    event.preventDefault();
    const form = new FormData(event.currentTarget);
    const password = String(form.get("password") ?? "");
    setBusy(true);
    setError(null);
    try {
      const result = await apiFetch<Created>("/api/v1/users", {
        method: "POST",
        body: {
          email: form.get("email"),
          name: form.get("name"),
          role,
          ...(password ? { password } : {}),
        },
      });
      setCreated(result);
      router.refresh();
    } catch (e) {
      setError(e instanceof ApiClientError ? e : new ApiClientError(String(e), 0, "network"));
    } finally {
      setBusy(false);
    }
  }

  return (
    <Dialog open={open} onOpenChange={reset}>
      <DialogTrigger asChild>
        <Button variant="primary">
          <UserPlusIcon aria-hidden /> New user
        </Button>
      </DialogTrigger>
      <DialogContent>
        <DialogHeader>
          <DialogTitle>{created ? "User created" : "New user"}</DialogTitle>
          <DialogDescription>
            {created
              ? `${created.user.email} can now sign in.`
              : "They sign in with their email and the password set here."}
          </DialogDescription>
        </DialogHeader>
        {created ? (
          <>
            <DialogBody className="space-y-3">
              {created.password ? (
                <OneTimeSecret
                  value={created.password}
                  testId="generated-password"
                  warning="Copy this password now and hand it over securely; it is not shown again."
                />
              ) : (
                <p className="text-sm text-muted-foreground">They use the password you entered.</p>
              )}
            </DialogBody>
            <DialogFooter>
              <Button variant="primary" onClick={() => reset(false)}>
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
              <Field label="Name" required error={error?.fieldError("name")}>
                <Input name="name" autoComplete="off" />
              </Field>
              <Field label="Email" required error={error?.fieldError("email")}>
                <Input name="email" type="email" autoComplete="off" />
              </Field>
              <Field label="Role" required error={error?.fieldError("role")}>
                {(control) => (
                  <SimpleSelect
                    {...control}
                    name="role"
                    value={role}
                    onValueChange={setRole}
                    options={roleOptions}
                  />
                )}
              </Field>
              <Field
                label="Password"
                optional
                hint="At least 10 characters. Leave empty to generate one."
                error={error?.fieldError("password")}
              >
                <Input name="password" type="password" autoComplete="new-password" />
              </Field>
            </DialogBody>
            <DialogFooter>
              <Button type="button" variant="outline" onClick={() => reset(false)}>
                Cancel
              </Button>
              <Button type="submit" variant="primary" loading={busy}>
                Create user
              </Button>
            </DialogFooter>
          </form>
        )}
      </DialogContent>
    </Dialog>
  );
}
