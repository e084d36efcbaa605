"use client";

import { useRouter } from "next/navigation";
import { useState } from "react";
import { ApiClientError, apiFetch } from "@/components/api-client";
import { ConfirmDialog } from "@/components/ui/alert-dialog";
import { Field } from "@/components/ui/field";
import { Textarea } from "@/components/ui/textarea";
import { PreflightPanel, usePreflightGate } from "./preflight-panel";

/**
 * Promote a version to production or staging (or request it, when production needs approval):
 * says what will change, runs the pre-flight while the person reads, and moves the alias only
 * if it still points where this page showed it (expectedVersion): a move someone else made
 * meanwhile is reported, never overwritten.
 */
export function PromoteDialog({
  model,
  version,
  alias,
  /** The version the alias points at on this page (null: not set). */
  from,
  needsApproval,
  onOpenChange,
}: {
  model: string;
  version: number;
  alias: string;
  from: number | null;
  needsApproval: boolean;
  onOpenChange: (open: boolean) => void;
}) {
  const router = useRouter();
  const [reason, setReason] = useState("");
  const preflight = usePreflightGate(model, version);

  return (
    <ConfirmDialog
      open
      onOpenChange={onOpenChange}
      title={
        needsApproval
          ? `Request production for ${model} v${version}?`
          : `Promote ${model} v${version} to ${alias}?`
      }
      changes={
        needsApproval
          ? [
              `A promotion request is created; production stays on ${from ? `v${from}` : "nothing"} until another admin approves it.`,
            ]
          : [
              from
                ? `${alias} moves from v${from} to v${version}.`
                : `${alias} is created, pointing at v${version}.`,
              alias === "production"
                ? `Serving switches to v${version} for requests without a version.`
                : `Clients that ask for ${alias} get v${version}.`,
              "The move is recorded in the alias history and the audit log.",
            ]
      }
      confirmLabel={needsApproval ? "Request approval" : `Promote to ${alias}`}
      destructive={preflight.overriding}
      confirmDisabled={!preflight.allowsConfirm}
      onConfirm={async () => {
        const trimmed = reason.trim();
        try {
          await apiFetch(
            `/api/v1/models/${encodeURIComponent(model)}/aliases/${encodeURIComponent(alias)}`,
            {
              method: "PUT",
              body: {
                version,
                expectedVersion: from,
                ...(trimmed ? { reason: trimmed } : {}),
                ...preflight.body,
              },
            },
          );
        } catch (e) {
          // Moved meanwhile: show the page as it is now behind the dialog and its message.
          if (e instanceof ApiClientError && e.code === "conflict") router.refresh();
          throw new Error(e instanceof ApiClientError ? e.message : String(e));
        }
        router.refresh();
      }}
    >
      <PreflightPanel
        version={version}
        state={preflight.state}
        override={preflight.override}
        onOverrideChange={preflight.setOverride}
      />
      <Field label="Reason" optional>
        <Textarea
          rows={2}
          value={reason}
          onChange={(e) => setReason(e.target.value)}
          maxLength={2000}
        />
      </Field>
    </ConfirmDialog>
  );
}
