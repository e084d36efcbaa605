import { WebhookIcon } from "lucide-react";
import { WebhookCard } from "@/components/notifications/webhook-card";
import { CreateWebhookDialog } from "@/components/notifications/webhook-dialogs";
import { EmptyState } from "@/components/ui/empty-state";
import { PageHeader } from "@/components/ui/page-header";
import { getPrisma } from "@/lib/db/client";
import { listDeliveries, listWebhooks } from "@/lib/notifications";
import { requireScope } from "../../current-user";

export const metadata = { title: "Webhooks · ModelDeck" };

export default async function WebhooksPage() {
  await requireScope("webhooks:manage", "/settings/webhooks");
  const db = getPrisma();
  const webhooks = await listWebhooks(db);
  const logs = await Promise.all(
    webhooks.map((w) => listDeliveries(db, w.id, { limit: 20 }).then((l) => l.deliveries)),
  );
  return (
    <>
      <PageHeader
        title="Webhooks"
        description="Alert transitions and registry events, POSTed as JSON signed with HMAC-SHA256 (ModelDeck-Signature header) and retried with backoff until the receiver answers 2xx."
        breadcrumbs={[{ label: "Settings", href: "/settings" }, { label: "Webhooks" }]}
        actions={<CreateWebhookDialog />}
      />
      {webhooks.length === 0 ? (
        <EmptyState
          icon={<WebhookIcon />}
          title="No webhooks yet"
          description="Create one to send alerts to a pager, chat or your own service. The README's “Webhooks” section shows how to verify the signature."
        />
      ) : (
        <div className="grid gap-4">
          {webhooks.map((w, i) => (
            <WebhookCard key={w.id} webhook={w} initialDeliveries={logs[i]!} />
          ))}
        </div>
      )}
    </>
  );
}
