import { apiRoute } from "@/lib/api/route";
import * as contracts from "@/lib/api/contracts/identity";
import { listSignInLocks } from "@/lib/auth/sign-in-limits";

export const GET = apiRoute(contracts.listSignInLocks, async ({ db }) => ({
  locks: await listSignInLocks(db),
}));
