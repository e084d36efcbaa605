import { getConfig } from "@/lib/config";
import { getPrisma } from "@/lib/db/client";
import { checkHealth } from "@/lib/system/health";

export const dynamic = "force-dynamic";

// Open to probes: it reveals process states, and which alias targets serving does not serve
// (model, alias, version, load error) so a probe sees why serving is degraded; no other data.
export async function GET() {
  const report = await checkHealth(getPrisma(), getConfig());
  return Response.json(report, {
    status: report.status === "down" ? 503 : 200,
    headers: { "cache-control": "no-store" },
  });
}
