import path from "node:path";
import type { APIRequestContext } from "@playwright/test";
import { buildLogisticRegressionModel } from "../lib/onnx/build";
import { newRequestId } from "../lib/serving/request-id";
import { expect, request, test } from "./support/test";
import { adminStorageState, readState, screenshotDir } from "./support/state";

/**
 * Ground truth sent the moment a prediction is answered, in Chromium: a client labels each
 * request right after the serving process answers it (before its log row is written), and
 * also sends labels for requests that were never served. Every real label is joined, live
 * accuracy counts all of them, and the model page's ground-truth figures show them with the
 * labels still waiting for their prediction.
 */
test.describe.configure({ mode: "serial" });

const state = readState();
const stamp = Date.now().toString(36);
const model = `feedback-e2e-${stamp}`;
const CLASSES = ["setosa", "versicolor", "virginica"];
const REQUESTS = 30;
let token = "";

async function adminApi(): Promise<APIRequestContext> {
  return request.newContext({
    baseURL: state.baseURL,
    storageState: adminStorageState,
    extraHTTPHeaders: { origin: state.baseURL },
  });
}

test.beforeAll(async () => {
  const api = await adminApi();
  const created = await api.post("/api/v1/models", {
    data: { name: model, task: "classification", description: "Real-time labels (e2e)" },
  });
  expect(created.status(), await created.text()).toBe(201);
  const onnx = buildLogisticRegressionModel({
    weights: [
      [1, 0, 0],
      [0, 1, 0],
      [0, 0, 1],
      [0, 0, 0],
    ],
    bias: [0, 0, 0],
    classLabels: CLASSES,
  });
  const upload = await api.post(`/api/v1/models/${model}/versions`, {
    multipart: { file: { name: "m.onnx", mimeType: "application/octet-stream", buffer: onnx } },
  });
  expect(upload.status(), await upload.text()).toBe(201);
  const promoted = await api.put(`/api/v1/models/${model}/aliases/production`, {
    data: { version: 1, reason: "feedback e2e" },
  });
  expect(promoted.status(), await promoted.text()).toBe(200);
  const tokenRes = await api.post("/api/v1/tokens", {
    data: { name: `feedback-${stamp}`, role: "viewer" },
  });
  expect(tokenRes.status(), await tokenRes.text()).toBe(201);
  token = ((await tokenRes.json()) as { secret: string }).secret;
  await api.dispose();
});

test.use({ storageState: adminStorageState });

test("labels sent right after each prediction are all joined and shown with the pending ones", async ({
  page,
}) => {
  const client = await request.newContext({
    extraHTTPHeaders: { authorization: `Bearer ${token}` },
  });
  await expect
    .poll(
      async () =>
        (
          (await (await client.get(`${state.servingURL}/v2/models/${model}/ready`)).json()) as {
            ready: boolean;
          }
        ).ready,
      { timeout: 30_000 },
    )
    .toBe(true);

  const statuses: string[] = [];
  let right = 0;
  for (let i = 0; i < REQUESTS; i++) {
    const x = [(i % 5) / 2, ((i * 3) % 7) / 3, ((i * 5) % 11) / 4, 0];
    const res = await client.post(`${state.servingURL}/v2/models/${model}/infer`, {
      data: { inputs: [{ name: "features", shape: [1, 4], datatype: "FP32", data: x }] },
    });
    expect(res.status(), await res.text()).toBe(200);
    const body = (await res.json()) as { outputs: { name: string; data: number[] }[] };
    const predicted = CLASSES[body.outputs.find((o) => o.name === "label")!.data[0]!]!;
    // Every third label disagrees with the model.
    const label = i % 3 === 0 ? CLASSES[(CLASSES.indexOf(predicted) + 1) % 3]! : predicted;
    if (label === predicted) right++;
    const fb = await client.post(`${state.baseURL}/api/v1/feedback`, {
      data: { items: [{ request_id: res.headers()["x-request-id"], label }] },
    });
    expect(fb.status(), await fb.text()).toBe(200);
    statuses.push(((await fb.json()) as { results: { status: string }[] }).results[0]!.status);
  }
  expect(statuses.filter((s) => s !== "applied" && s !== "pending")).toEqual([]);
  // Labels for requests that were never served wait for a prediction that will not come.
  const never = await client.post(`${state.baseURL}/api/v1/feedback`, {
    data: { items: [0, 1, 2].map(() => ({ request_id: newRequestId(), label: "setosa" })) },
  });
  expect(await never.json()).toMatchObject({ applied: 0, pending: 3, rejected: 0 });

  // The model's feedback figures, as the page reads them, once the log has caught up.
  const api = await adminApi();
  await expect
    .poll(
      async () =>
        (
          (await (await api.get(`/api/v1/models/${model}/feedback`)).json()) as {
            labelled: { requests: number };
          }
        ).labelled.requests,
      { timeout: 20_000 },
    )
    .toBe(REQUESTS);
  const stats = (await (await api.get(`/api/v1/models/${model}/feedback`)).json()) as {
    labelled: { joinedLate: number };
    pending: { count: number };
  };
  expect(stats.pending.count).toBeGreaterThanOrEqual(3);
  await api.dispose();
  await client.dispose();

  await page.goto(`/models/${model}?range=1h`);
  const section = page.getByTestId("model-monitoring");
  const row = section.getByTestId("monitoring-version-1");
  const accuracy = (right / REQUESTS).toFixed(3).replace(/\.?0+$/, "");
  await expect(row).toContainText(`${accuracy} (${REQUESTS} labelled)`);
  const figures = section.getByTestId("feedback-stats");
  await expect(figures.getByTestId("feedback-labelled")).toContainText(String(REQUESTS));
  await expect(figures.getByTestId("feedback-joined-late")).toContainText(
    String(stats.labelled.joinedLate),
  );
  await expect(figures.getByTestId("feedback-pending")).toContainText(/oldest \d+ (s|min)/);
  await expect(figures.getByTestId("feedback-expired")).toContainText("never matched");
  await expect(figures.getByTestId("feedback-rejected")).toContainText("did not fit");
  await figures.scrollIntoViewIfNeeded();
  await section.screenshot({ path: path.join(screenshotDir, "feedback-ground-truth.png") });
});
