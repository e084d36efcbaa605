import { CreateTokenDialog } from "@/components/admin/create-token-dialog";
import { RevokeTokenButton } from "@/components/admin/revoke-token-button";
import { RoleBadge } from "@/components/admin/role-badge";
import { Badge } from "@/components/ui/badge";
import { PageHeader } from "@/components/ui/page-header";
import { ActionsTH, Table, TBody, TD, TEmptyRow, TH, THead, TR } from "@/components/ui/table";
import { listApiTokens } from "@/lib/auth/tokens";
import { getPrisma } from "@/lib/db/client";
import { Time } from "@/components/time";
import { requireScope } from "../../current-user";

export const metadata = { title: "API tokens · ModelDeck" };

const statusVariant = { active: "success", expired: "warning", revoked: "destructive" } as const;

export default async function TokensPage() {
  await requireScope("tokens:read", "/settings/tokens");
  const tokens = await listApiTokens(getPrisma());
  return (
    <>
      <PageHeader
        title="API tokens"
        description="Machine access to the management API and the serving endpoint. Secrets are shown once and stored only as a SHA-256 hash."
        breadcrumbs={[{ label: "Settings", href: "/settings" }, { label: "API tokens" }]}
        actions={<CreateTokenDialog />}
      />
      <Table aria-label="API tokens">
        <THead>
          <TR>
            <TH>Name</TH>
            <TH>Token</TH>
            <TH>Role</TH>
            <TH>Status</TH>
            <TH>Created</TH>
            <TH>Expires</TH>
            <TH>Last used</TH>
            <ActionsTH />
          </TR>
        </THead>
        <TBody>
          {tokens.length === 0 ? (
            <TEmptyRow colSpan={8}>
              No tokens yet. Create one for each pipeline or client that calls ModelDeck.
            </TEmptyRow>
          ) : (
            tokens.map((t) => (
              <TR key={t.id} data-testid={`token-row-${t.name}`}>
                <TD className="font-medium">{t.name}</TD>
                <TD className="font-mono text-xs text-muted-foreground">{t.prefix}…</TD>
                <TD>
                  <RoleBadge role={t.role} />
                </TD>
                <TD>
                  <Badge variant={statusVariant[t.status]}>{t.status}</Badge>
                </TD>
                <TD className="whitespace-nowrap text-muted-foreground">
                  <Time value={t.createdAt} />
                  <div className="text-xs">
                    {t.createdBy ? `by ${t.createdBy.email}` : "by system"}
                  </div>
                </TD>
                <TD className="whitespace-nowrap text-muted-foreground">
                  {t.expiresAt ? <Time value={t.expiresAt} /> : "never"}
                </TD>
                <TD className="whitespace-nowrap text-muted-foreground">
                  {t.lastUsedAt ? <Time value={t.lastUsedAt} /> : "never"}
                </TD>
                <TD align="right">
                  {t.status === "active" ? <RevokeTokenButton token={t} /> : null}
                </TD>
              </TR>
            ))
          )}
        </TBody>
      </Table>
    </>
  );
}
