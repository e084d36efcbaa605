import * as contracts from "@/lib/api/contracts/alerts";
import { apiRoute } from "@/lib/api/route";
import { listAlerts } from "@/lib/alerts";

export const GET = apiRoute(contracts.listAlerts, async ({ db, query }) => listAlerts(db, query));
