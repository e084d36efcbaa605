import { apiRoute } from "@/lib/api/route";
import * as contracts from "@/lib/api/contracts/identity";
import { actorOf } from "@/lib/auth/principal";
import { createUser, listUsers } from "@/lib/auth/users";

export const GET = apiRoute(contracts.listUsers, async ({ db }) => ({
  users: await listUsers(db),
}));

export const POST = apiRoute(contracts.createUser, async ({ db, principal, body, ipAddress }) => {
  const { user, password, generated } = await createUser(db, actorOf(principal), body, ipAddress);
  return { user, ...(generated ? { password } : {}) };
});
