/**
 * Revocation reaches every serving worker within a second, under load: a real serving process
 * with two cluster workers (each its own token cache), 16 clients looping with one token
 * while it is revoked, expires, or its creator is disabled. Every request that starts a
 * second after the change must be refused.
 */
import { expect, it } from "vitest";
import { SYSTEM_ACTOR } from "../../../lib/audit";
import { createApiToken, revokeApiToken } from "../../../lib/auth/tokens";
import { createUser, updateUser } from "../../../lib/auth/users";
import { classifierBytes, createClassifier, serveTestModels, storeFor } from "./harness";
import { everyWorkerServes, infer, sleep } from "./load";

const fixture = serveTestModels();
const db = fixture.db;
const CLIENTS = 16;

type Sample = { startedAt: number; status: number };

/**
 * 16 clients loop while `change` runs (it returns when the change was made) and for 2.5 s
 * after it.
 */
async function underLoad(url: string, token: string, change: () => Promise<number>) {
  const samples: Sample[] = [];
  let stopAt = Number.POSITIVE_INFINITY;
  const client = async () => {
    while (Date.now() < stopAt) {
      const startedAt = Date.now();
      samples.push({ startedAt, status: await infer(url, token) });
    }
  };
  const clients = Array.from({ length: CLIENTS }, client);
  const changedAt = await change();
  stopAt = changedAt + 2_500;
  await Promise.all(clients);
  return { samples, changedAt };
}

function expectRefusedFrom(samples: Sample[], from: number, changeStartedAt: number) {
  // A request started just before the change may be answered after it: judge only those that
  // started well before.
  const before = samples.filter((s) => s.startedAt < changeStartedAt - 1_000);
  const after = samples.filter((s) => s.startedAt >= from);
  expect(before.length).toBeGreaterThan(CLIENTS);
  const refusedEarly = before.filter((s) => s.status !== 200).map((s) => s.status);
  expect(refusedEarly, `refused before the change`).toEqual([]);
  expect(after.length).toBeGreaterThan(CLIENTS);
  const late = after.filter((s) => s.status !== 401);
  expect(late, `answered ${late.length} of ${after.length} requests after the change`).toEqual([]);
}

it("a revoked token, an expired token and a disabled creator's token are refused by both workers within 1 s", async () => {
  await createClassifier(db.client, storeFor(fixture.dataDir), "guarded", [classifierBytes(1)]);
  const proc = await fixture.spawn({
    env: { MODELDECK_SERVING_AUTH: "on", MODELDECK_SERVING_WORKERS: "2" },
  });
  const url = `${proc.url}/v2/models/guarded/infer`;
  const warm = await createApiToken(db.client, SYSTEM_ACTOR, { name: "warm", role: "viewer" });
  await everyWorkerServes(db.client, url, warm.secret);

  // Revoked: 1.5 s of load to warm both workers' caches, revoke, 2 s more.
  const revoked = await createApiToken(db.client, SYSTEM_ACTOR, { name: "rev", role: "viewer" });
  let revokeStartedAt = 0;
  const run1 = await underLoad(url, revoked.secret, async () => {
    await sleep(2_000);
    revokeStartedAt = Date.now();
    await revokeApiToken(db.client, SYSTEM_ACTOR, revoked.token.id);
    return Date.now();
  });
  expectRefusedFrom(run1.samples, run1.changedAt + 1_000, revokeStartedAt);

  // Expiring: refused from the instant expiresAt passes (the cache knows it; no database).
  const expiresAt = new Date(Date.now() + 2_500);
  const expiring = await createApiToken(db.client, SYSTEM_ACTOR, {
    name: "exp",
    role: "viewer",
    expiresAt,
  });
  const run2 = await underLoad(url, expiring.secret, async () => {
    await sleep(expiresAt.getTime() - Date.now());
    return expiresAt.getTime();
  });
  expectRefusedFrom(run2.samples, expiresAt.getTime(), expiresAt.getTime());

  // A disabled creator: their tokens stop with them.
  const { user } = await createUser(db.client, SYSTEM_ACTOR, {
    email: "ci-owner@example.com",
    name: "CI owner",
    role: "operator",
  });
  const owned = await createApiToken(
    db.client,
    { type: "user", id: user.id, label: user.email },
    { name: "owned", role: "viewer" },
  );
  let disableStartedAt = 0;
  const run3 = await underLoad(url, owned.secret, async () => {
    await sleep(2_000);
    disableStartedAt = Date.now();
    await updateUser(db.client, SYSTEM_ACTOR, user.id, { disabled: true });
    return Date.now();
  });
  expectRefusedFrom(run3.samples, run3.changedAt + 1_000, disableStartedAt);
});
