import { CalendarClockIcon } from "lucide-react";
import { EmptyState } from "@/components/ui/empty-state";
import { PageHeader } from "@/components/ui/page-header";

export const metadata = { title: "Jobs · ModelDeck" };

export default function JobsPage() {
  return (
    <>
      <PageHeader title="Jobs" description="Scheduled refresh jobs and their runs." />
      <EmptyState
        bordered
        icon={<CalendarClockIcon />}
        title="No refresh jobs yet"
        description="Cron schedules that evaluate candidates on held-out data, retrain, and promote when a model's gate passes will be listed here, with each run's status, log and result."
      />
    </>
  );
}
