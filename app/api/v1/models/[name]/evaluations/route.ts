import { apiRoute } from "@/lib/api/route";
import * as contracts from "@/lib/api/contracts/evaluation";
import { actorOf } from "@/lib/auth/principal";
import { listEvaluations, startEvaluation } from "@/lib/evaluation";
import { createLogger } from "@/lib/log";
import { getArtifactStore } from "@/lib/storage";

const log = createLogger("web");

export const GET = apiRoute(contracts.listEvaluations, async ({ db, params, query }) => ({
  evaluations: await listEvaluations(db, params.name, query),
}));

// 202: the evaluation runs in a child process of this web process; poll GET /evaluations/{id}.
export const POST = apiRoute(
  contracts.startEvaluation,
  async ({ db, principal, params, body, ipAddress }) => ({
    evaluation: await startEvaluation(db, getArtifactStore(), actorOf(principal), {
      modelName: params.name,
      version: body.version,
      datasetName: body.dataset,
      datasetVersion: body.datasetVersion,
      ipAddress,
      onError: (error) => log.error({ err: error }, "evaluation could not be recorded"),
    }),
  }),
);
