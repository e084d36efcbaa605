import { apiRoute } from "@/lib/api/route";
import * as contracts from "@/lib/api/contracts/evaluation";
import { actorOf } from "@/lib/auth/principal";
import { getGate, setGate } from "@/lib/evaluation";

export const GET = apiRoute(contracts.getGate, async ({ db, params }) => ({
  gate: await getGate(db, params.name),
}));

export const PUT = apiRoute(
  contracts.setGate,
  async ({ db, principal, params, body, ipAddress }) => ({
    gate: await setGate(db, actorOf(principal), params.name, body, ipAddress),
  }),
);
