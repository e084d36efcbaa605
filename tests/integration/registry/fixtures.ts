/**
 * Shared fixtures for the registry's integration tests: actors with roles, staged-artifact
 * inputs, and helpers to assert "exactly one audit entry per mutation".
 */
import { createHash, randomUUID } from "node:crypto";
import { afterAll, expect } from "vitest";
import { ApiError } from "../../../lib/api/errors";
import type { Role } from "../../../lib/auth/roles";
import type { PrismaClient } from "../../../lib/db/generated/client";
import {
  createModel,
  createVersion,
  type AliasActor,
  type CreateVersionInput,
} from "../../../lib/registry";
import { createTestPrisma, useTestDatabase } from "../helpers/db";

export const sha256 = (text: string) => createHash("sha256").update(text).digest("hex");

/** A signature in the shape lib/onnx produces; the registry treats it as opaque JSON. */
export const SIGNATURE = {
  inputs: [
    { name: "features", elemType: "float32", shape: ["batch", 4] },
    { name: "threshold", elemType: "int64", shape: [] },
  ],
  outputs: [{ name: "label", elemType: "int64", shape: ["batch"] }],
  opsets: [
    { domain: "", version: 17 },
    { domain: "ai.onnx.ml", version: 3 },
  ],
  producer: { name: "skl2onnx", version: "1.17" },
};

export function useRegistryDb() {
  const db = useTestDatabase();
  const extra: PrismaClient[] = [];
  afterAll(async () => {
    await Promise.all(extra.map((c) => c.$disconnect()));
  });

  /** A user row with a role, and the actor a route would pass for them. */
  async function seedActor(role: Role, name: string = role): Promise<AliasActor & { id: string }> {
    const id = randomUUID();
    const email = `${name}-${id.slice(0, 6)}@example.com`;
    await db.client.user.create({ data: { id, email, name, role } });
    return { type: "user", id, label: email, role };
  }

  /**
   * `n` PrismaClients (each its own pool), warmed up with `perClient` open connections, so
   * concurrent calls really run side by side in Postgres rather than queueing in one pool.
   */
  async function clients(n: number, perClient = 5): Promise<PrismaClient[]> {
    const list = [db.client];
    while (list.length < n) {
      const c = createTestPrisma(db.url);
      extra.push(c);
      list.push(c);
    }
    await Promise.all(
      list.flatMap((c) =>
        Array.from({ length: perClient }, () => c.$executeRaw`SELECT pg_sleep(0.05)`),
      ),
    );
    return list;
  }

  async function seedModel(
    actor: AliasActor,
    name = "fraud-detector",
    extra: { approvalRequired?: boolean } = {},
  ) {
    return createModel(db.client, actor, { name, task: "classification", ...extra });
  }

  function versionInput(modelName: string, content: string): CreateVersionInput {
    const hash = sha256(content);
    return {
      modelName,
      sha256: hash,
      sizeBytes: content.length,
      storageKey: `sha256/${hash.slice(0, 2)}/${hash}`,
      signature: SIGNATURE,
      originalFilename: `${content}.onnx`,
    };
  }

  /** `count` versions of `modelName`, created one after another (numbers 1..count). */
  async function seedVersions(actor: AliasActor, modelName: string, count: number) {
    const out = [];
    for (let i = 0; i < count; i++) {
      out.push(await createVersion(db.client, actor, versionInput(modelName, `${modelName}-${i}`)));
    }
    return out;
  }

  const auditCount = () => db.client.auditEntry.count();
  const auditRows = () => db.client.auditEntry.findMany({ orderBy: { id: "asc" } });

  /** Runs `fn`, asserting it wrote exactly one audit entry (with `action`), and returns it. */
  async function oneAudit<T>(action: string, fn: () => Promise<T>): Promise<T> {
    const before = await auditCount();
    const result = await fn();
    const rows = await db.client.auditEntry.findMany({
      orderBy: { id: "asc" },
      skip: before,
    });
    expect(rows.map((r) => r.action)).toEqual([action]);
    return result;
  }

  /** Asserts `promise` rejects with an ApiError of `status` and wrote no audit entry. */
  async function refused(
    status: number,
    promise: Promise<unknown> | (() => Promise<unknown>),
  ): Promise<ApiError> {
    const before = await auditCount();
    const error = await (typeof promise === "function" ? promise() : promise).then(
      () => undefined,
      (e: unknown) => e,
    );
    expect(error).toBeInstanceOf(ApiError);
    expect((error as ApiError).status, (error as ApiError).message).toBe(status);
    expect(await auditCount()).toBe(before);
    return error as ApiError;
  }

  return {
    db,
    seedActor,
    clients,
    seedModel,
    versionInput,
    seedVersions,
    auditCount,
    auditRows,
    oneAudit,
    refused,
  };
}
