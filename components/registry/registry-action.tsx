"use client";

import { useRouter } from "next/navigation";
import { useState } from "react";
import { ApiClientError, apiFetch } from "@/components/api-client";
import { ConfirmDialog } from "@/components/ui/alert-dialog";
import { Field } from "@/components/ui/field";
import { Textarea } from "@/components/ui/textarea";

export type ApiCall = {
  method: "POST" | "PUT" | "PATCH" | "DELETE";
  path: string;
  body?: Record<string, unknown>;
};

export type RegistryActionProps = {
  /** Uncontrolled: the element that opens the dialog. Controlled: pass open/onOpenChange. */
  trigger?: React.ReactElement;
  open?: boolean;
  onOpenChange?: (open: boolean) => void;
  title: React.ReactNode;
  changes: React.ReactNode[];
  confirmLabel: string;
  destructive?: boolean;
  /** Ask for a reason (kept in the alias history and the audit log). */
  reason?: { field: "reason" | "note"; label: string; placement?: "body" | "query" };
  call: ApiCall;
  /** Where to go afterwards (default: refresh the current page). */
  then?: string;
};

/**
 * A confirmed registry change: states what will change, optionally asks why, calls the API,
 * and refreshes. Errors from the API stay in the dialog.
 */
export function RegistryAction({ reason, call, then, ...dialog }: RegistryActionProps) {
  const router = useRouter();
  const [text, setText] = useState("");
  return (
    <ConfirmDialog
      {...dialog}
      onConfirm={async () => {
        const trimmed = text.trim();
        let path = call.path;
        let body = call.body;
        if (reason && trimmed) {
          if (reason.placement === "query")
            path += `${path.includes("?") ? "&" : "?"}${reason.field}=${encodeURIComponent(trimmed)}`;
          else body = { ...body, [reason.field]: trimmed };
        }
        try {
          await apiFetch(path, { method: call.method, body });
        } catch (e) {
          throw new Error(e instanceof ApiClientError ? e.message : String(e));
        }
        setText("");
        if (then) router.push(then);
        router.refresh();
      }}
    >
      {reason ? (
        <Field label={reason.label} optional>
          <Textarea
            rows={2}
            value={text}
            onChange={(e) => setText(e.target.value)}
            maxLength={2000}
          />
        </Field>
      ) : null}
    </ConfirmDialog>
  );
}
