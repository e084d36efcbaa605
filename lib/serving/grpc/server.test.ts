import net from "node:net";
import * as grpc from "@grpc/grpc-js";
import { afterEach, describe, expect, it } from "vitest";
import { createLogger } from "../../log";
import { inferenceServiceDefinition } from "./definition";
import { drainGrpcServer, startGrpcServer } from "./server";
import type { ServingAppDeps } from "../server";
import { createGrpcInferenceService, type GrpcInferenceService } from "./service";

const log = createLogger("test", "silent");
const cleanups: Array<() => unknown> = [];
afterEach(async () => {
  for (const c of cleanups.splice(0)) await c();
});

/** A service whose ServerLive answers after `ms`, counting the calls in flight. */
function slowService(ms: number): GrpcInferenceService {
  const pending = new Set<grpc.sendUnaryData<{ live: boolean }>>();
  return {
    implementation: {
      ServerLive: (_call: unknown, callback: grpc.sendUnaryData<{ live: boolean }>) => {
        pending.add(callback);
        const timer = setTimeout(() => {
          if (pending.delete(callback)) callback(null, { live: true });
        }, ms);
        cleanups.push(() => clearTimeout(timer));
      },
    },
    inFlight: () => pending.size,
    abandonAll: () => {
      const n = pending.size;
      for (const callback of pending) callback({ code: grpc.status.UNAVAILABLE });
      pending.clear();
      return n;
    },
  };
}

function serverLive(port: number): Promise<grpc.status> {
  return rpc(port, "ServerLive", {});
}

function rpc(port: number, method: string, request: unknown): Promise<grpc.status> {
  const Client = grpc.makeGenericClientConstructor(inferenceServiceDefinition(), "inference");
  const client = new Client(`127.0.0.1:${port}`, grpc.credentials.createInsecure());
  cleanups.push(() => client.close());
  return new Promise((resolve) =>
    (client as unknown as Record<string, (...args: unknown[]) => void>)[method]!(
      request,
      (error: grpc.ServiceError | null) => resolve(error ? error.code : grpc.status.OK),
    ),
  );
}

describe("the gRPC listener", () => {
  it("says which variable to change when its port is taken", async () => {
    const taken = net.createServer();
    await new Promise<void>((r) => taken.listen(0, "127.0.0.1", r));
    cleanups.push(() => new Promise((r) => taken.close(r)));
    const port = (taken.address() as net.AddressInfo).port;
    await expect(
      startGrpcServer(slowService(0), { host: "127.0.0.1", port, maxBodyBytes: 1024 }),
    ).rejects.toThrow(/MODELDECK_GRPC_PORT.*EADDRINUSE|EADDRINUSE.*MODELDECK_GRPC_PORT=off/s);
  });

  it("drains: a call in flight finishes, then the port is closed", async () => {
    const service = slowService(300);
    const { server, port } = await startGrpcServer(service, {
      host: "127.0.0.1",
      port: 0,
      maxBodyBytes: 1024,
    });
    const call = serverLive(port);
    while (service.inFlight() === 0) await new Promise((r) => setTimeout(r, 10));
    const outcome = await drainGrpcServer(
      server,
      service,
      { drainDelayMs: 0, drainTimeoutMs: 5_000 },
      log,
    );
    expect(await call).toBe(grpc.status.OK);
    expect(outcome.abandoned).toBe(0);
    expect(await serverLive(port)).toBe(grpc.status.UNAVAILABLE);
  });

  it("answers a call that outlasts the drain timeout UNAVAILABLE", async () => {
    // The real service, its router stuck: ModelReady never gets its version.
    const deps = {
      router: { acquire: () => new Promise<never>(() => undefined) },
      log,
      authorize: null,
    } as unknown as ServingAppDeps;
    const service = createGrpcInferenceService(deps, () => false);
    const { server, port } = await startGrpcServer(service, {
      host: "127.0.0.1",
      port: 0,
      maxBodyBytes: 1024,
    });
    const call = rpc(port, "ModelReady", { name: "m" });
    while (service.inFlight() === 0) await new Promise((r) => setTimeout(r, 10));
    const started = Date.now();
    const outcome = await drainGrpcServer(
      server,
      service,
      { drainDelayMs: 0, drainTimeoutMs: 200 },
      log,
    );
    expect(Date.now() - started).toBeLessThan(2_000);
    expect(outcome.abandoned).toBe(1);
    expect(await call).toBe(grpc.status.UNAVAILABLE);
  });
});
