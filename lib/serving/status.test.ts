import { describe, expect, it } from "vitest";
import {
  aliasedVersionServing,
  heartbeatModelIn,
  type ServingHeartbeatModel,
  type UnavailableAliasReport,
} from "./status";

const report = (over: Partial<ServingHeartbeatModel> = {}): ServingHeartbeatModel => ({
  model: "m",
  aliases: {},
  versions: [],
  unavailable: [],
  ...over,
});
const failed = (over: Partial<UnavailableAliasReport> = {}): UnavailableAliasReport => ({
  alias: "production",
  version: 3,
  versionId: "v3",
  state: "failed",
  error: "onnxruntime cannot create a session: bad opset",
  failedAt: "2026-01-01T00:00:00.000Z",
  retryAt: "2026-01-01T00:01:00.000Z",
  servedInstead: null,
  ...over,
});
const production3 = [{ alias: "production", version: 3, versionId: "v3", hasSampleRequest: false }];

describe("aliasedVersionServing", () => {
  it("counts the instances that do not serve a version, and says why", () => {
    const [view] = aliasedVersionServing(production3, [
      { instanceId: "a", report: report({ aliases: { production: 3 } }) },
      { instanceId: "b", report: report({ unavailable: [failed()] }) },
      {
        instanceId: "c",
        report: report({
          aliases: { production: 2 },
          unavailable: [failed({ servedInstead: 2 })],
        }),
      },
    ]);
    expect(view).toMatchObject({
      version: 3,
      aliases: ["production"],
      instances: 3,
      servedOn: 1,
      notServedOn: 2,
      reason: "onnxruntime cannot create a session: bad opset",
    });
    expect(view!.notServed.map((n) => [n.instanceId, n.state, n.servedInstead])).toEqual([
      ["b", "failed", null],
      ["c", "failed", 2],
    ]);
  });

  it("tells loading and not-yet-reported apart, and passes on a warm-up warning", () => {
    const loading = aliasedVersionServing(production3, [
      {
        instanceId: "a",
        report: report({ unavailable: [failed({ state: "loading", error: null })] }),
      },
    ]);
    expect(loading[0]).toMatchObject({ notServedOn: 1, reason: "still loading" });
    const pending = aliasedVersionServing(production3, [{ instanceId: "a", report: report() }]);
    expect(pending[0]).toMatchObject({
      notServedOn: 1,
      reason: "not reported by the instance yet",
      notServed: [{ state: "pending" }],
    });
    const warned = aliasedVersionServing(production3, [
      {
        instanceId: "a",
        report: report({
          aliases: { production: 3 },
          versions: [
            {
              version: 3,
              versionId: "v3",
              loadedAt: "",
              loadMs: 1,
              batchable: false,
              warmUp: "synthetic",
              warning: "The warm-up … failed: Pad",
            },
          ],
        }),
      },
    ]);
    expect(warned[0]).toMatchObject({
      notServedOn: 0,
      reason: null,
      warmUpWarning: "The warm-up … failed: Pad",
    });
  });

  it("with no live instance, nothing is counted as not served", () => {
    expect(aliasedVersionServing(production3, [])[0]).toMatchObject({
      instances: 0,
      notServedOn: 0,
      reason: null,
    });
  });
});

describe("heartbeatModelIn", () => {
  it("reads a report and tolerates old or broken heartbeats", () => {
    expect(heartbeatModelIn({ models: [{ model: "m", aliases: { production: 1 } }] }, "m")).toEqual(
      report({ aliases: { production: 1 } }),
    );
    expect(heartbeatModelIn(null, "m")).toEqual(report());
    expect(
      heartbeatModelIn(
        {
          models: [
            { model: "m", aliases: { a: "x" }, unavailable: [failed(), { alias: 1 }, null] },
          ],
        },
        "m",
      ),
    ).toEqual(report({ unavailable: [failed()] }));
  });
});
