import { describe, expect, it } from "vitest";
import { buildLogisticRegressionModel } from "./build";
import { WARM_UP_MODEL, warmUpOnnxRuntime } from "./scoring-session";

describe("warmUpOnnxRuntime", () => {
  it("loads the one-weight model the project's own writer produces", async () => {
    const built = buildLogisticRegressionModel({ weights: [[0, 0]], bias: [0, 0] });
    expect(Buffer.from(WARM_UP_MODEL, "base64").equals(built)).toBe(true);
    await expect(warmUpOnnxRuntime()).resolves.toBeUndefined();
  });
});
