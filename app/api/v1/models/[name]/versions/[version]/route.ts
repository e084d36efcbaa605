import { apiRoute } from "@/lib/api/route";
import * as contracts from "@/lib/api/contracts/registry";
import { actorOf } from "@/lib/auth/principal";
import { archiveVersion, getVersion, unarchiveVersion } from "@/lib/registry";

export const GET = apiRoute(contracts.getVersion, async ({ db, params }) => ({
  version: await getVersion(db, params.name, params.version),
}));

export const PATCH = apiRoute(
  contracts.updateVersionStatus,
  async ({ db, principal, params, body, ipAddress }) => {
    const change = body.status === "archived" ? archiveVersion : unarchiveVersion;
    return {
      version: await change(
        db,
        actorOf(principal),
        { modelName: params.name, version: params.version },
        ipAddress,
      ),
    };
  },
);
