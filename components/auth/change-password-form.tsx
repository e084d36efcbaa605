"use client";

import { useState } from "react";
import { ApiClientError, apiFetch } from "@/components/api-client";
import { Alert } from "@/components/ui/alert";
import { Button } from "@/components/ui/button";
import { Field } from "@/components/ui/field";
import { Input } from "@/components/ui/input";

/** Replaces the signed-in person's password; their other sessions end. */
export function ChangePasswordForm() {
  const [error, setError] = useState<ApiClientError | null>(null);
  const [done, setDone] = useState(false);
  const [busy, setBusy] = useState(false);

  async function onSubmit(event: React.FormEvent<HTMLFormElement>) {
    event.preventDefault();
    const formElement = event.currentTarget;
    const form = new FormData(formElement);
    setBusy(true);
    setError(null);
    setDone(false);
    try {
      if (form.get("newPassword") !== form.get("confirmPassword")) {
        throw new ApiClientError("The two new passwords differ.", 400, "validation_failed", [
          { field: "confirmPassword", message: "does not match the new password" },
        ]);
      }
      await apiFetch("/api/v1/me/password", {
        method: "POST",
        body: {
          currentPassword: form.get("currentPassword"),
          newPassword: form.get("newPassword"),
        },
      });
      formElement.reset();
      setDone(true);
    } catch (e) {
      setError(e instanceof ApiClientError ? e : new ApiClientError(String(e), 0, "network"));
    } finally {
      setBusy(false);
    }
  }

  return (
    <form onSubmit={onSubmit} className="max-w-sm space-y-3" aria-label="Change password">
      {done ? (
        <Alert variant="success">Password changed. Your other sessions were signed out.</Alert>
      ) : null}
      {error && error.fields.length === 0 ? <Alert variant="error">{error.message}</Alert> : null}
      <Field label="Current password" required error={error?.fieldError("currentPassword")}>
        <Input name="currentPassword" type="password" autoComplete="current-password" />
      </Field>
      <Field
        label="New password"
        required
        hint="At least 10 characters."
        error={error?.fieldError("newPassword")}
      >
        <Input name="newPassword" type="password" autoComplete="new-password" />
      </Field>
      <Field label="Repeat new password" required error={error?.fieldError("confirmPassword")}>
        <Input name="confirmPassword" type="password" autoComplete="new-password" />
      </Field>
      <Button type="submit" variant="primary" loading={busy}>
        Change password
      </Button>
    </form>
  );
}
