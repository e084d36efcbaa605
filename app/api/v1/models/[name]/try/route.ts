import { apiRoute } from "@/lib/api/route";
import * as contracts from "@/lib/api/contracts/serving";
import { tryPrediction } from "@/lib/serving/status";

export const POST = apiRoute(contracts.tryModel, async ({ db, params, body }) =>
  tryPrediction(db, {
    modelName: params.name,
    target:
      body.alias !== undefined
        ? { alias: body.alias }
        : body.version !== undefined
          ? { version: body.version }
          : {},
    form: body.form,
    request: body.request,
  }),
);
