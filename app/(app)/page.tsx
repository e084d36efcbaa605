import { BoxesIcon } from "lucide-react";
import { HealthPanel } from "@/components/system/health-panel";
import { EmptyState } from "@/components/ui/empty-state";
import { PageHeader } from "@/components/ui/page-header";
import { getConfig } from "@/lib/config";
import { getPrisma } from "@/lib/db/client";
import { checkHealth } from "@/lib/system/health";
import { requireUser } from "./current-user";

export const metadata = { title: "Overview · ModelDeck" };

export default async function OverviewPage() {
  const user = await requireUser("/");
  const health = await checkHealth(getPrisma(), getConfig());
  return (
    <>
      <PageHeader title="Overview" description={`Signed in as ${user.email} (${user.role}).`} />
      <div className="grid gap-6 lg:grid-cols-3">
        <section className="lg:col-span-2" aria-labelledby="models-heading">
          <h2 id="models-heading" className="mb-2 text-sm font-semibold">
            Models in production
          </h2>
          <EmptyState
            bordered
            headingLevel="h3"
            icon={<BoxesIcon />}
            title="Nothing in production yet"
            description="Each model's production version, its traffic and its health will be summarised here, along with pending promotion requests."
          />
        </section>
        <section aria-labelledby="health-heading">
          <h2 id="health-heading" className="mb-2 text-sm font-semibold">
            System health
          </h2>
          <HealthPanel report={health} />
        </section>
      </div>
    </>
  );
}
