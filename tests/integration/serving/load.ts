/**
 * Load for real multi-worker serving processes: inferences on connections of their own (so
 * node:cluster spreads them over the workers), and a wait until every worker serves.
 */
import http from "node:http";
import type { PrismaClient } from "../../../lib/db/generated/client";
import { liveInstances } from "../../../lib/system/heartbeat";
import { oneRow } from "./harness";

const BODY = JSON.stringify(oneRow());

export const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** One inference; its status, or 0 when it failed or took longer than `timeoutMs`. */
export function infer(url: string, token: string, timeoutMs = 10_000): Promise<number> {
  return new Promise((resolve) => {
    const req = http.request(
      url,
      {
        method: "POST",
        agent: false,
        headers: { "content-type": "application/json", authorization: `Bearer ${token}` },
      },
      (res) => {
        res.resume();
        res.on("end", () => resolve(res.statusCode!));
        res.on("error", () => resolve(0));
      },
    );
    req.setTimeout(timeoutMs, () => req.destroy(new Error("timed out")));
    req.on("error", () => resolve(0));
    req.end(BODY);
  });
}

/**
 * Each worker loads the model on its own, and gets connections only once it listens: wait
 * for `workers` heartbeats, then until five rounds of 16 connections are all answered.
 */
export async function everyWorkerServes(
  db: PrismaClient,
  url: string,
  token: string,
  workers = 2,
): Promise<void> {
  const deadline = Date.now() + 60_000;
  while ((await liveInstances(db, "serving")).length < workers) {
    if (Date.now() > deadline) throw new Error("the workers did not start in time");
    await sleep(100);
  }
  let rounds = 0;
  while (rounds < 5) {
    if (Date.now() > deadline) throw new Error("the workers did not load the model in time");
    const answers = await Promise.all(Array.from({ length: 16 }, () => infer(url, token)));
    rounds = answers.every((status) => status === 200) ? rounds + 1 : 0;
    if (rounds === 0) await sleep(200);
  }
}
