import { getConfig } from "@/lib/config";
import { getPrisma } from "@/lib/db/client";
import { checkHealth } from "@/lib/system/health";

export const dynamic = "force-dynamic";

// Open to probes: it reveals process states, no data.
export async function GET() {
  const report = await checkHealth(getPrisma(), getConfig());
  return Response.json(report, {
    status: report.status === "down" ? 503 : 200,
    headers: { "cache-control": "no-store" },
  });
}
