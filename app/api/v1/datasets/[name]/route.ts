import { apiRoute } from "@/lib/api/route";
import * as contracts from "@/lib/api/contracts/evaluation";
import { getDataset, getDatasetVersion } from "@/lib/datasets";

export const GET = apiRoute(contracts.getDataset, async ({ db, params, query }) => {
  const { dataset, versions } = await getDataset(db, params.name);
  return { dataset, versions, version: await getDatasetVersion(db, params.name, query.version) };
});
