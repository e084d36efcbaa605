"use client";

import { useState } from "react";
import { Alert } from "@/components/ui/alert";
import { Button } from "@/components/ui/button";
import { Field } from "@/components/ui/field";
import { Input } from "@/components/ui/input";

/** Posts to better-auth's email sign-in endpoint and explains each way it can fail. */
export function SignInForm({ next }: { next: string }) {
  const [error, setError] = useState<string | null>(null);
  const [busy, setBusy] = useState(false);

  async function onSubmit(event: React.FormEvent<HTMLFormElement>) {
    event.preventDefault();
    const form = new FormData(event.currentTarget);
    setBusy(true);
    setError(null);
    try {
      const response = await fetch("/api/auth/sign-in/email", {
        method: "POST",
        headers: { "content-type": "application/json" },
        body: JSON.stringify({ email: form.get("email"), password: form.get("password") }),
      });
      if (response.ok) {
        window.location.assign(next);
        return;
      }
      const body = (await response.json().catch(() => ({}))) as { message?: string };
      if (response.status === 429) {
        const wait = Number(
          response.headers.get("x-retry-after") ?? response.headers.get("retry-after"),
        );
        const when = !(wait > 0)
          ? "later"
          : wait > 90
            ? `in ${Math.ceil(wait / 60)} minutes`
            : `in ${wait} seconds`;
        setError(`Too many sign-in attempts. Try again ${when}, or ask an administrator.`);
      } else if (response.status === 401) {
        setError("Wrong email or password.");
      } else {
        setError(body.message ?? `Sign-in failed (HTTP ${response.status}).`);
      }
    } catch {
      setError("Could not reach ModelDeck. Is the server running?");
    } finally {
      setBusy(false);
    }
  }

  return (
    <form onSubmit={onSubmit} className="space-y-4" noValidate={false}>
      {error ? (
        <Alert variant="error" role="alert">
          {error}
        </Alert>
      ) : null}
      <Field label="Email" required>
        <Input name="email" type="email" autoComplete="username" autoFocus />
      </Field>
      <Field label="Password" required>
        <Input name="password" type="password" autoComplete="current-password" />
      </Field>
      <Button type="submit" variant="primary" className="w-full" loading={busy}>
        Sign in
      </Button>
    </form>
  );
}
