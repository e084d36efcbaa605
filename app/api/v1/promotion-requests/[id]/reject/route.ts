import { apiRoute } from "@/lib/api/route";
import * as contracts from "@/lib/api/contracts/registry";
import { actorOf } from "@/lib/auth/principal";
import { rejectPromotion } from "@/lib/registry";

export const POST = apiRoute(
  contracts.rejectPromotion,
  async ({ db, principal, params, body, ipAddress }) => ({
    request: await rejectPromotion(
      db,
      actorOf(principal),
      { requestId: params.id, note: body.note ?? null },
      ipAddress,
    ),
  }),
);
