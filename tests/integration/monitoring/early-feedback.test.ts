import pg from "pg";
import { expect, it } from "vitest";
import { POST as postFeedback } from "../../../app/api/v1/feedback/route";
import { SYSTEM_ACTOR } from "../../../lib/audit";
import { createApiToken } from "../../../lib/auth/tokens";
import type { FeedbackOutcome } from "../../../lib/monitoring/feedback";
import { feedbackStats } from "../../../lib/monitoring/pending-feedback";
import { getModelMetrics } from "../../../lib/monitoring/series";
import { buildLogisticRegressionModel } from "../../../lib/onnx/build";
import { createModel } from "../../../lib/registry";
import {
  addVersion,
  labelOf,
  postJson,
  promote,
  serveTestModels,
  storeFor,
} from "../serving/harness";
import { seededRandom } from "./helpers";

/**
 * A client that labels in real time: every prediction is followed at once by its ground
 * truth, through the web API, while a real serving process logs its requests in batches a
 * few hundred ms later. Every label must end up joined, and live accuracy must equal the
 * accuracy computed from what was served.
 */
const fixture = serveTestModels();
const db = fixture.db;

const CLASSES = ["x", "y", "z"];
const PREDICTIONS = 500;
const CLIENTS = 64;

async function until(check: () => Promise<boolean>, timeoutMs: number): Promise<boolean> {
  const end = Date.now() + timeoutMs;
  while (Date.now() < end) {
    if (await check()) return true;
    await new Promise((r) => setTimeout(r, 25));
  }
  return check();
}

it("joins all of 500 labels sent right after their predictions by 64 clients, and live accuracy is exact", async () => {
  process.env.BETTER_AUTH_SECRET ??= "integration-test-secret-".padEnd(48, "x");
  // The class is the largest of the first three features: answers vary with the input.
  await createModel(db.client, SYSTEM_ACTOR, { name: "realtime", task: "classification" });
  await addVersion(
    db.client,
    storeFor(fixture.dataDir),
    "realtime",
    buildLogisticRegressionModel({
      weights: [
        [1, 0, 0],
        [0, 1, 0],
        [0, 0, 1],
        [0, 0, 0],
      ],
      bias: [0, 0, 0],
      featureNames: ["a", "b", "c", "d"],
      classLabels: CLASSES,
    }),
  );
  await promote(db.client, "realtime", 1);
  const token = (
    await createApiToken(db.client, SYSTEM_ACTOR, { name: "labeller", role: "viewer" })
  ).secret;
  const proc = await fixture.spawn();
  const started = Date.now();

  // Serving's log is held back until the first label of every client has been answered (as
  // when the database is slow to take a batch): those certainly beat their prediction's log
  // row, however busy this machine is. Then labels and log flushes race as they come.
  const hold = new pg.Client({ connectionString: db.url });
  await hold.connect();
  await hold.query("BEGIN");
  await hold.query("LOCK TABLE prediction_log IN SHARE MODE"); // COPY waits; reads do not
  let released: Promise<void> | null = null;
  const releaseLog = () => (released ??= hold.query("COMMIT").then(() => hold.end()));

  const random = seededRandom(42);
  const served: { id: string; predicted: string; truth: string }[] = [];
  const answers: FeedbackOutcome["results"][number]["status"][] = [];
  let next = 0;
  const client = async () => {
    while (next < PREDICTIONS) {
      next++;
      const features = [random(), random(), random(), random()];
      const res = await postJson(`${proc.url}/v2/models/realtime/infer`, {
        inputs: [{ name: "features", shape: [1, 4], datatype: "FP32", data: features }],
      });
      expect(res.status).toBe(200);
      const id = res.headers.get("x-request-id")!;
      const predicted = CLASSES[labelOf(res.body)]!;
      // Right about two times in three, the rest another class.
      const truth = random() < 0.67 ? predicted : CLASSES[(CLASSES.indexOf(predicted) + 1) % 3]!;
      served.push({ id, predicted, truth });
      const fb = await postFeedback(
        new Request("http://localhost/api/v1/feedback", {
          method: "POST",
          headers: { authorization: `Bearer ${token}`, "content-type": "application/json" },
          body: JSON.stringify({ items: [{ request_id: id, label: truth }] }),
        }),
      );
      expect(fb.status).toBe(200);
      const outcome = (await fb.json()) as FeedbackOutcome;
      expect(outcome.rejected).toBe(0);
      answers.push(outcome.results[0]!.status);
      if (answers.length === CLIENTS) void releaseLog();
    }
  };
  await Promise.all(Array.from({ length: CLIENTS }, client));
  await releaseLog();
  expect(served).toHaveLength(PREDICTIONS);
  // Each client's first label beat its prediction's log row: the case this is about.
  const pendingAnswers = answers.filter((s) => s === "pending").length;
  expect(pendingAnswers).toBeGreaterThanOrEqual(CLIENTS);
  expect(answers.filter((s) => s !== "pending" && s !== "applied")).toEqual([]);

  // The last log flush, as seen from outside, then at most 5 s for every label to be joined.
  expect(
    await until(async () => (await db.client.predictionLog.count()) === PREDICTIONS, 15_000),
  ).toBe(true);
  const lastFlushSeen = Date.now();
  const joinedInTime = await until(
    async () =>
      (await db.client.predictionFeedback.count()) === PREDICTIONS &&
      (await db.client.pendingFeedback.count()) === 0,
    5_000,
  );
  const joinedAfterMs = Date.now() - lastFlushSeen;
  expect(joinedInTime, `joined ${joinedAfterMs} ms after the last flush`).toBe(true);
  expect(await db.client.pendingFeedback.count()).toBe(0);

  // Live accuracy, as the model page reads it, equals the accuracy of what was served.
  const right = served.filter((s) => s.truth === s.predicted).length;
  const series = await getModelMetrics(db.client, "realtime", {
    from: new Date(started - 120_000).toISOString(),
    to: new Date(Date.now() + 60_000).toISOString(),
  });
  const summary = series.versions.find((v) => v.version === 1)!.summary!;
  expect(summary.labelled).toBe(PREDICTIONS);
  expect(summary.accuracy).toBeCloseTo(right / PREDICTIONS, 12);
  // …and the stored feedback agrees with the logged predictions row by row.
  const [disagree] = await db.client.$queryRawUnsafe<{ n: number }[]>(
    `SELECT count(*)::int AS n FROM prediction_feedback f JOIN prediction_log l USING ("requestId")
      WHERE (f.correct = 1) <> (f.truth = l.predicted::jsonb)`,
  );
  expect(disagree!.n).toBe(0);

  const stats = await feedbackStats(db.client, "realtime", {
    from: new Date(started - 60_000).toISOString(),
  });
  expect(stats.labelled.requests).toBe(PREDICTIONS);
  expect(stats.labelled.joinedLate).toBeGreaterThanOrEqual(pendingAnswers);
  expect(stats.pending.count).toBe(0);
  expect(stats.resolved.joined).toBe(stats.labelled.joinedLate);
  await proc.stop();
}, 120_000);
