import { existsSync } from "node:fs";
import path from "node:path";
import { ListMultipartUploadsCommand, ListObjectsV2Command } from "@aws-sdk/client-s3";
import { buildDemoModelVersions } from "../prisma/seed/demo-model";
import { startS3Server, type S3TestServer } from "../tests/support/s3-server";
import { freshDataDir, removeDataDir, startApp, type RunningApp } from "./support/app";
import { signInThroughUI, snap } from "./support/helpers";
import { E2E_S3_PORTS } from "./support/state";
import { expect, request, test } from "./support/test";

/**
 * `npm start` with MODELDECK_ARTIFACT_STORE=s3://…: the real upload route, promotion,
 * serving and artifact download of the production build, against a real S3-compatible
 * server process. A separate instance on its own ports, data directory and bucket.
 */
test.describe.configure({ mode: "serial", timeout: 300_000 });

const adminPassword = "s3-admin-password";
const token = `mdk_${"s".repeat(40)}`;
const model = "s3-iris";
let s3: S3TestServer;
let app: RunningApp | undefined;
const dataDir = freshDataDir("s3");

test.beforeAll(async () => {
  s3 = await startS3Server({ prefix: "modeldeck" });
  app = await startApp({
    ports: E2E_S3_PORTS,
    dataDir,
    env: { ...s3.env, MODELDECK_ADMIN_PASSWORD: adminPassword, MODELDECK_BOOTSTRAP_TOKEN: token },
  });
});
test.afterAll(async () => {
  await app?.stop();
  await s3?.stop();
  removeDataDir(dataDir);
});

async function bucketKeys(): Promise<string[]> {
  const page = await s3.client().send(new ListObjectsV2Command({ Bucket: s3.bucket }));
  return (page.Contents ?? []).map((o) => o.Key!);
}

test("uploads land in the bucket; serving and downloads read them from there", async ({ page }) => {
  const api = await request.newContext({
    baseURL: app!.baseURL,
    extraHTTPHeaders: { authorization: `Bearer ${token}` },
  });
  // The first start seeded the demo model into the bucket.
  const seeded = await bucketKeys();
  expect(seeded.length).toBeGreaterThanOrEqual(2);

  expect(
    (await api.post("/api/v1/models", { data: { name: model, task: "classification" } })).status(),
  ).toBe(201);
  const bytes = (await buildDemoModelVersions()).v2;
  const upload = await api.post(`/api/v1/models/${model}/versions`, {
    multipart: { file: { name: "iris.onnx", mimeType: "application/octet-stream", buffer: bytes } },
  });
  expect(upload.status(), await upload.text()).toBe(201);
  const { version } = (await upload.json()) as { version: { sha256: string } };
  const key = `sha256/${version.sha256.slice(0, 2)}/${version.sha256.slice(2, 4)}/${version.sha256}`;
  expect(await bucketKeys()).toContain(`modeldeck/${key}`);
  const uploads = await s3.client().send(new ListMultipartUploadsCommand({ Bucket: s3.bucket }));
  expect(uploads.Uploads ?? []).toEqual([]);
  // Nowhere on local disk but the cache.
  expect(existsSync(path.join(dataDir, "artifacts"))).toBe(false);
  expect(existsSync(path.join(dataDir, "artifact-cache", key))).toBe(true);

  const promoted = await api.put(`/api/v1/models/${model}/aliases/production`, {
    data: { version: 1, reason: "S3 e2e" },
  });
  expect(promoted.status(), await promoted.text()).toBe(200);
  await expect
    .poll(
      async () =>
        (
          await api.post(`${app!.servingURL}/v2/models/${model}/infer`, {
            data: {
              inputs: [
                { name: "features", shape: [1, 4], datatype: "FP32", data: [5.1, 3.5, 1.4, 0.2] },
              ],
            },
          })
        ).status(),
      { timeout: 30_000 },
    )
    .toBe(200);

  const download = await api.get(`/api/v1/models/${model}/versions/1/artifact`);
  expect(download.status()).toBe(200);
  expect(Buffer.from(await download.body()).equals(bytes)).toBe(true);

  // This instance is not the suite's baseURL: start from its own sign-in page.
  await page.goto(`${app!.baseURL}/sign-in`);
  await signInThroughUI(page, app!.adminEmail, adminPassword);
  await page.goto(`${app!.baseURL}/models/${model}`);
  await expect(page.getByRole("heading", { name: model, level: 1 })).toBeVisible();
  await snap(page, "s3-model-uploaded-to-bucket");
  await api.dispose();
});
