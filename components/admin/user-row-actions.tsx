"use client";

import { useRouter } from "next/navigation";
import { useState } from "react";
import { ApiClientError, apiFetch } from "@/components/api-client";
import { Button } from "@/components/ui/button";
import { ConfirmDialog } from "@/components/ui/alert-dialog";
import { SimpleSelect } from "@/components/ui/select";

type Role = "viewer" | "operator" | "admin";

/** Role picker and disable/enable for one user; each change asks for confirmation. */
export function UserRowActions({
  user,
  isSelf,
}: {
  user: { id: string; email: string; role: Role; disabled: boolean };
  isSelf: boolean;
}) {
  const router = useRouter();
  const [pendingRole, setPendingRole] = useState<Role | null>(null);
  const [message, setMessage] = useState<string | null>(null);

  async function patch(body: Record<string, unknown>) {
    setMessage(null);
    try {
      await apiFetch(`/api/v1/users/${user.id}`, { method: "PATCH", body });
      router.refresh();
    } catch (e) {
      const text = e instanceof ApiClientError ? e.message : String(e);
      setMessage(text);
      throw new Error(text);
    }
  }

  return (
    <div className="flex items-center justify-end gap-2">
      {message ? (
        <span role="alert" className="max-w-56 truncate text-xs text-destructive" title={message}>
          {message}
        </span>
      ) : null}
      <SimpleSelect
        aria-label={`Role of ${user.email}`}
        size="sm"
        className="w-28"
        value={user.role}
        onValueChange={(value) => setPendingRole(value as Role)}
        options={[
          { value: "viewer", label: "Viewer" },
          { value: "operator", label: "Operator" },
          { value: "admin", label: "Admin" },
        ]}
      />
      <ConfirmDialog
        open={pendingRole !== null}
        onOpenChange={(open) => !open && setPendingRole(null)}
        title={`Change ${user.email}'s role?`}
        changes={[
          `Role changes from ${user.role} to ${pendingRole}.`,
          "Takes effect on their next request.",
        ]}
        confirmLabel="Change role"
        onConfirm={async () => {
          await patch({ role: pendingRole });
          setPendingRole(null);
        }}
      />
      {isSelf ? null : (
        <ConfirmDialog
          trigger={
            <Button size="sm" variant={user.disabled ? "outline" : "ghost"}>
              {user.disabled ? "Enable" : "Disable"}
            </Button>
          }
          title={user.disabled ? `Enable ${user.email}?` : `Disable ${user.email}?`}
          changes={
            user.disabled
              ? ["They can sign in again with their existing password."]
              : [
                  "They are signed out everywhere at once.",
                  "They cannot sign in until enabled again.",
                ]
          }
          destructive={!user.disabled}
          confirmLabel={user.disabled ? "Enable user" : "Disable user"}
          onConfirm={() => patch({ disabled: !user.disabled })}
        />
      )}
    </div>
  );
}
