import { apiRoute } from "@/lib/api/route";
import * as contracts from "@/lib/api/contracts/registry";
import { actorOf } from "@/lib/auth/principal";
import { deleteModel, findUnreferencedStorageKeys, getModel, updateModel } from "@/lib/registry";
import { getArtifactStore } from "@/lib/storage";

export const GET = apiRoute(contracts.getModel, async ({ db, params }) => ({
  model: await getModel(db, params.name),
}));

export const PATCH = apiRoute(
  contracts.updateModel,
  async ({ db, principal, params, body, ipAddress }) => ({
    model: await updateModel(db, actorOf(principal), params.name, body, ipAddress),
  }),
);

export const DELETE = apiRoute(
  contracts.deleteModel,
  async ({ db, principal, params, ipAddress }) => {
    const result = await deleteModel(db, actorOf(principal), params.name, ipAddress);
    // Files are shared by content: remove only those no remaining version refers to.
    const store = getArtifactStore();
    for (const key of await findUnreferencedStorageKeys(db, result.unreferencedStorageKeys)) {
      await store.remove(key);
    }
    return { deleted: { name: result.name, deletedVersions: result.deletedVersions } };
  },
);
