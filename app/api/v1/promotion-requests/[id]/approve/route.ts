import { apiRoute } from "@/lib/api/route";
import * as contracts from "@/lib/api/contracts/registry";
import { actorOf } from "@/lib/auth/principal";
import { approvePromotion } from "@/lib/registry";

export const POST = apiRoute(
  contracts.approvePromotion,
  async ({ db, principal, params, body, ipAddress }) =>
    approvePromotion(
      db,
      actorOf(principal),
      {
        requestId: params.id,
        note: body.note ?? null,
        ...(body.expectedVersion !== undefined ? { expectedVersion: body.expectedVersion } : {}),
      },
      ipAddress,
    ),
);
