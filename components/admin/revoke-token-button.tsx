"use client";

import { useRouter } from "next/navigation";
import { ApiClientError, apiFetch } from "@/components/api-client";
import { ConfirmDialog } from "@/components/ui/alert-dialog";
import { Button } from "@/components/ui/button";

export function RevokeTokenButton({
  token,
}: {
  token: { id: string; name: string; prefix: string };
}) {
  const router = useRouter();
  return (
    <ConfirmDialog
      trigger={
        <Button size="sm" variant="ghost">
          Revoke
        </Button>
      }
      title={`Revoke the token “${token.name}”?`}
      changes={[
        `Requests with ${token.prefix}… are refused (401) from now on.`,
        "This cannot be undone; create a new token to restore access.",
      ]}
      destructive
      confirmLabel="Revoke token"
      onConfirm={async () => {
        try {
          await apiFetch(`/api/v1/tokens/${token.id}`, { method: "DELETE" });
          router.refresh();
        } catch (e) {
          throw new Error(e instanceof ApiClientError ? e.message : String(e));
        }
      }}
    />
  );
}
