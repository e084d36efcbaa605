import Link from "next/link";
import { ChevronRightIcon } from "lucide-react";
import { RoleBadge } from "@/components/admin/role-badge";
import { ChangePasswordForm } from "@/components/auth/change-password-form";
import { PageHeader } from "@/components/ui/page-header";
import { userCan } from "@/lib/auth/guard";
import { ROLE_DESCRIPTIONS } from "@/lib/auth/roles";
import { getConfig } from "@/lib/config";
import { requireUser } from "../current-user";

export const metadata = { title: "Settings · ModelDeck" };

export default async function SettingsPage() {
  const user = await requireUser("/settings");
  const config = getConfig();
  const adminLinks = [
    { href: "/admin/users", title: "Users", text: "Create users, set roles, disable accounts." },
    {
      href: "/settings/tokens",
      title: "API tokens",
      text: "Tokens for pipelines and inference clients.",
    },
    { href: "/admin/audit", title: "Audit log", text: "Who changed what, and when." },
    { href: "/settings/webhooks", title: "Webhooks", text: "Signed alert and registry events." },
  ];
  return (
    <>
      <PageHeader title="Settings" description="Your account and this ModelDeck instance." />
      <div className="grid gap-6 lg:grid-cols-2">
        <section
          className="rounded-lg border border-border bg-card"
          aria-labelledby="account-heading"
        >
          <h2
            id="account-heading"
            className="border-b border-border px-4 py-3 text-sm font-semibold"
          >
            Your account
          </h2>
          <dl className="grid grid-cols-[8rem_1fr] gap-y-2 px-4 py-3 text-sm">
            <dt className="text-muted-foreground">Name</dt>
            <dd>{user.name}</dd>
            <dt className="text-muted-foreground">Email</dt>
            <dd>{user.email}</dd>
            <dt className="text-muted-foreground">Role</dt>
            <dd>
              <RoleBadge role={user.role} />
              <p className="mt-1 text-xs text-muted-foreground">{ROLE_DESCRIPTIONS[user.role]}</p>
            </dd>
          </dl>
          <div className="border-t border-border px-4 py-3">
            <h3 className="mb-2 text-sm font-medium">Change password</h3>
            <ChangePasswordForm />
          </div>
        </section>
        <section
          className="self-start rounded-lg border border-border bg-card"
          aria-labelledby="instance-heading"
        >
          <h2
            id="instance-heading"
            className="border-b border-border px-4 py-3 text-sm font-semibold"
          >
            Instance
          </h2>
          <dl className="grid grid-cols-[8rem_1fr] gap-y-2 px-4 py-3 text-sm">
            <dt className="text-muted-foreground">Public URL</dt>
            <dd className="font-mono text-xs leading-5">{config.publicUrl}</dd>
            <dt className="text-muted-foreground">Serving</dt>
            <dd className="font-mono text-xs leading-5">
              http://{config.host}:{config.servingPort}
            </dd>
            <dt className="text-muted-foreground">Database</dt>
            <dd>
              {process.env.MODELDECK_EMBEDDED_DB === "1"
                ? "Embedded PostgreSQL"
                : "PostgreSQL (DATABASE_URL)"}
            </dd>
            {userCan(user, "settings:write") ? (
              <>
                <dt className="text-muted-foreground">Data directory</dt>
                <dd className="break-all font-mono text-xs leading-5">{config.dataDir}</dd>
              </>
            ) : null}
          </dl>
        </section>
        {userCan(user, "users:read") ? (
          <section className="lg:col-span-2" aria-labelledby="admin-heading">
            <h2 id="admin-heading" className="mb-2 text-sm font-semibold">
              Administration
            </h2>
            <ul className="grid gap-3 sm:grid-cols-2 xl:grid-cols-4">
              {adminLinks.map((l) => (
                <li key={l.href}>
                  <Link
                    href={l.href}
                    className="flex items-center justify-between rounded-lg border border-border bg-card px-4 py-3 hover:border-border-strong hover:bg-muted/50"
                  >
                    <span>
                      <span className="block text-sm font-medium">{l.title}</span>
                      <span className="block text-xs text-muted-foreground">{l.text}</span>
                    </span>
                    <ChevronRightIcon className="size-4 text-muted-foreground" aria-hidden />
                  </Link>
                </li>
              ))}
            </ul>
          </section>
        ) : null}
      </div>
    </>
  );
}
