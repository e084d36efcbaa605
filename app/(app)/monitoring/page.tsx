import { ActivityIcon } from "lucide-react";
import { EmptyState } from "@/components/ui/empty-state";
import { PageHeader } from "@/components/ui/page-header";

export const metadata = { title: "Monitoring · ModelDeck" };

export default function MonitoringPage() {
  return (
    <>
      <PageHeader
        title="Monitoring"
        description="Traffic, latency, accuracy and drift per model version."
      />
      <EmptyState
        bordered
        icon={<ActivityIcon />}
        title="No traffic to chart yet"
        description="Once models are served, per-minute charts of requests, errors, latency percentiles, live accuracy and input drift appear here for every version."
      />
    </>
  );
}
