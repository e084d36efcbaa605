import { apiRoute } from "@/lib/api/route";
import * as contracts from "@/lib/api/contracts/jobs";
import { describeSchedule, DEFAULT_TIMEZONE } from "@/lib/jobs";

export const POST = apiRoute(contracts.describeCron, async ({ body }) =>
  describeSchedule(body.schedule, body.timezone ?? DEFAULT_TIMEZONE),
);
