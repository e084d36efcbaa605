import { CreateUserDialog } from "@/components/admin/create-user-dialog";
import { RoleBadge } from "@/components/admin/role-badge";
import { UserRowActions } from "@/components/admin/user-row-actions";
import { Badge } from "@/components/ui/badge";
import { PageHeader } from "@/components/ui/page-header";
import { ActionsTH, Table, TBody, TD, TH, THead, TR } from "@/components/ui/table";
import { SignInLocksTable } from "@/components/admin/sign-in-locks-table";
import { roleHasScope } from "@/lib/auth/roles";
import { listSignInLocks } from "@/lib/auth/sign-in-limits";
import { listUsers } from "@/lib/auth/users";
import { getPrisma } from "@/lib/db/client";
import { Time } from "@/components/time";
import { requireScope } from "../../current-user";

export const metadata = { title: "Users · ModelDeck" };

export default async function UsersPage() {
  const me = await requireScope("users:read", "/admin/users");
  const db = getPrisma();
  const [users, locks] = await Promise.all([listUsers(db), listSignInLocks(db)]);
  return (
    <>
      <PageHeader
        title="Users"
        description="People who sign in to ModelDeck, and what their role lets them do."
        actions={<CreateUserDialog />}
      />
      <Table aria-label="Users">
        <THead>
          <TR>
            <TH>Name</TH>
            <TH>Email</TH>
            <TH>Role</TH>
            <TH>Status</TH>
            <TH>Created</TH>
            <TH>Last active</TH>
            <ActionsTH />
          </TR>
        </THead>
        <TBody>
          {users.map((u) => (
            <TR key={u.id} data-testid={`user-row-${u.email}`}>
              <TD className="font-medium">
                {u.name}
                {u.id === me.id ? (
                  <span className="ml-1.5 text-xs text-muted-foreground">(you)</span>
                ) : null}
              </TD>
              <TD>{u.email}</TD>
              <TD>
                <RoleBadge role={u.role} />
              </TD>
              <TD>
                {u.disabled ? (
                  <Badge variant="destructive">disabled</Badge>
                ) : (
                  <Badge variant="success">active</Badge>
                )}
              </TD>
              <TD className="whitespace-nowrap text-muted-foreground">
                <Time value={u.createdAt} />
              </TD>
              <TD className="whitespace-nowrap text-muted-foreground">
                {u.lastSeenAt ? <Time value={u.lastSeenAt} /> : "never"}
              </TD>
              <TD align="right">
                <UserRowActions user={u} isSelf={u.id === me.id} />
              </TD>
            </TR>
          ))}
        </TBody>
      </Table>
      <SignInLocksTable locks={locks} canUnlock={roleHasScope(me.role, "users:write")} />
    </>
  );
}
