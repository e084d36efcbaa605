import { apiRoute } from "@/lib/api/route";
import * as contracts from "@/lib/api/contracts/identity";
import { actorOf } from "@/lib/auth/principal";
import { createApiToken, listApiTokens } from "@/lib/auth/tokens";

export const GET = apiRoute(contracts.listTokens, async ({ db }) => ({
  tokens: await listApiTokens(db),
}));

export const POST = apiRoute(contracts.createToken, async ({ db, principal, body, ipAddress }) =>
  createApiToken(
    db,
    actorOf(principal),
    {
      name: body.name,
      role: body.role,
      expiresAt: body.expiresAt ? new Date(body.expiresAt) : null,
    },
    ipAddress,
  ),
);
