"use client";

import { useRouter } from "next/navigation";
import { ApiClientError, apiFetch } from "@/components/api-client";
import { ConfirmDialog } from "@/components/ui/alert-dialog";
import { Button } from "@/components/ui/button";

export function UnlockSignInButton({ lock }: { lock: { id: string; label: string } }) {
  const router = useRouter();
  return (
    <ConfirmDialog
      trigger={
        <Button size="sm" variant="ghost">
          Unlock
        </Button>
      }
      title={`Unlock sign-in for ${lock.label}?`}
      changes={[
        "Sign-in is allowed again at once; the failed attempts counted so far are forgotten.",
        "Recorded in the audit log.",
      ]}
      confirmLabel="Unlock"
      onConfirm={async () => {
        try {
          await apiFetch(`/api/v1/sign-in-locks/${lock.id}`, { method: "DELETE" });
          router.refresh();
        } catch (e) {
          throw new Error(e instanceof ApiClientError ? e.message : String(e));
        }
      }}
    />
  );
}
