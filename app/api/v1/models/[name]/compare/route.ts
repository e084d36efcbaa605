import { apiRoute } from "@/lib/api/route";
import * as contracts from "@/lib/api/contracts/registry";
import { compareSignatures } from "@/lib/onnx/compare";
import type { OnnxSignature } from "@/lib/onnx/types";
import { getVersion } from "@/lib/registry";

export const GET = apiRoute(contracts.compareVersions, async ({ db, params, query }) => {
  const [a, b] = await Promise.all([
    getVersion(db, params.name, query.a),
    getVersion(db, params.name, query.b),
  ]);
  return {
    a,
    b,
    diff: compareSignatures(a.signature as OnnxSignature, b.signature as OnnxSignature),
  };
});
