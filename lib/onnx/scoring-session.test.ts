import { describe, expect, it } from "vitest";
import { buildLogisticRegressionModel } from "./build";
import { createScoringSession, WARM_UP_MODEL, warmUpOnnxRuntime } from "./scoring-session";

describe("warmUpOnnxRuntime", () => {
  it("loads the one-weight model the project's own writer produces", async () => {
    const built = buildLogisticRegressionModel({ weights: [[0, 0]], bias: [0, 0] });
    expect(Buffer.from(WARM_UP_MODEL, "base64").equals(built)).toBe(true);
    // warmUpOnnxRuntime swallows failures by design, so load the bytes here where one shows.
    const session = await createScoringSession(Buffer.from(WARM_UP_MODEL, "base64"), 1);
    expect(session.inputNames).toEqual(["features"]);
    expect([...session.outputNames].sort()).toEqual(["label", "probabilities"]);
    await session.release();
    await warmUpOnnxRuntime();
  });
});
