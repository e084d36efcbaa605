import * as contracts from "@/lib/api/contracts/alerts";
import { apiRoute } from "@/lib/api/route";
import { createSilence, listSilences } from "@/lib/alerts";
import { actorOf } from "@/lib/auth/principal";

export const GET = apiRoute(contracts.listSilences, async ({ db, query }) => ({
  silences: await listSilences(db, query),
}));

export const POST = apiRoute(
  contracts.createSilence,
  async ({ db, principal, body, ipAddress }) => ({
    silence: await createSilence(db, actorOf(principal), body, ipAddress),
  }),
);
