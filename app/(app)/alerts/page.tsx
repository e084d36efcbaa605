import { BellIcon } from "lucide-react";
import { EmptyState } from "@/components/ui/empty-state";
import { PageHeader } from "@/components/ui/page-header";

export const metadata = { title: "Alerts · ModelDeck" };

export default function AlertsPage() {
  return (
    <>
      <PageHeader title="Alerts" description="Alert rules, their state, and notifications sent." />
      <EmptyState
        bordered
        icon={<BellIcon />}
        title="No alert rules yet"
        description="Rules such as “p99 latency above 50 ms for 5 minutes” or “live accuracy below 0.9” will be listed here with their state (pending, firing, resolved), acknowledgements and silences."
      />
    </>
  );
}
