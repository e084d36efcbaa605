"use client";

import { useRouter } from "next/navigation";
import { useState } from "react";
import { apiFetch } from "@/components/api-client";
import { FormDialog } from "@/components/form-dialog";
import { Field } from "@/components/ui/field";
import { Input } from "@/components/ui/input";
import { Textarea } from "@/components/ui/textarea";
import { PreflightPanel, usePreflightGate } from "./preflight-panel";

/**
 * Points a free-form alias (challenger, canary…) at a version, after its pre-flight, and only
 * if the alias still points where this page showed it.
 */
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
  const preflight = usePreflightGate(model, version);
  const name = alias.trim().toLowerCase();
  const from = current[name];
  return (
    <FormDialog
      open={open}
      onOpenChange={onOpenChange}
      title={`Point an alias at ${model} v${version}`}
      description="Clients can ask for a model by alias. production and staging are listed in the menu; use this for others such as challenger or canary."
      submitLabel="Set alias"
      submitDisabled={!name || !preflight.allowsConfirm}
      onSubmit={async (form) => {
        const reason = String(form.get("reason") ?? "").trim();
        await apiFetch(
          `/api/v1/models/${encodeURIComponent(model)}/aliases/${encodeURIComponent(name)}`,
          {
            method: "PUT",
            body: {
              version,
              expectedVersion: from ?? null,
              ...(reason ? { reason } : {}),
              ...preflight.body,
            },
          },
        );
        setAlias("");
        preflight.setOverride(false);
        router.refresh();
      }}
    >
      {(error) => (
        <>
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
          <PreflightPanel
            version={version}
            state={preflight.state}
            override={preflight.override}
            onOverrideChange={preflight.setOverride}
          />
          <Field label="Reason" optional>
            <Textarea name="reason" rows={2} maxLength={2000} />
          </Field>
        </>
      )}
    </FormDialog>
  );
}
