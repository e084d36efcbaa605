import { MonitoringOverviewTable } from "@/components/monitoring/monitoring-overview";
import { parseTimeRange, resolveTimeRange } from "@/components/monitoring/time-range";
import { PageHeader } from "@/components/ui/page-header";
import { getPrisma } from "@/lib/db/client";
import { getMonitoringOverview } from "@/lib/monitoring/overview";
import { firstParam, type SearchParams } from "../search-params";
import { requireScope } from "../current-user";

export const metadata = { title: "Monitoring · ModelDeck" };

export default async function MonitoringPage({
  searchParams,
}: {
  searchParams: Promise<SearchParams>;
}) {
  const params = await searchParams;
  await requireScope("monitoring:read", "/monitoring");
  const range = parseTimeRange({ get: (name) => firstParam(params[name]) ?? null });
  const overview = await getMonitoringOverview(getPrisma(), resolveTimeRange(range));
  return (
    <>
      <PageHeader
        title="Monitoring"
        description="Every model with traffic: throughput, p95 latency, client (4xx) and server (5xx) errors, and live accuracy. Open a model for its charts per version."
      />
      <MonitoringOverviewTable overview={overview} />
    </>
  );
}
