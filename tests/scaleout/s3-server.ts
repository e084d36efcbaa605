/**
 * A real S3-compatible server (s3rver, an HTTP server storing objects on disk) in its own
 * process, with one bucket. Interim: the S3 artifact store's branch brings the shared helper
 * `tests/support/s3-server.ts` with the same `startS3Server` and fields; once both are
 * merged, this file becomes `export { startS3Server } from "../support/s3-server";`.
 */
import { spawn } from "node:child_process";
import fs from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import { ListObjectsV2Command, S3Client } from "@aws-sdk/client-s3";

export type S3TestServer = {
  endpoint: string;
  bucket: string;
  prefix: string;
  /** `s3://<bucket>/<prefix>`: the value of MODELDECK_ARTIFACT_STORE. */
  storeUrl: string;
  /** What a ModelDeck process needs to use the bucket (MODELDECK_ARTIFACT_STORE, AWS_*). */
  env: Record<string, string>;
  directory: string;
  pid: number;
  client(): S3Client;
  stop(): Promise<void>;
};

// The SDK warns about Node 20 on every client; the servers under test get the same setting.
process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED ??= "true";
const ACCESS_KEY = "S3RVER";
const REGION = "us-east-1";
const SERVER = `
import S3rver from "s3rver";
const [directory, bucket] = process.argv.slice(1);
const server = new S3rver({ address: "127.0.0.1", port: 0, silent: true, directory,
  configureBuckets: [{ name: bucket, configs: [] }] });
const { port } = await server.run();
process.stdout.write("S3_READY " + port + "\\n");
const stop = () => server.close().finally(() => process.exit(0));
process.on("SIGTERM", stop);
process.on("SIGINT", stop);
`;

export async function startS3Server(
  options: { bucket?: string; prefix?: string } = {},
): Promise<S3TestServer> {
  const bucket = options.bucket ?? "modeldeck-test";
  const prefix = options.prefix ?? "artifacts";
  const directory = await fs.mkdtemp(path.join(os.tmpdir(), "modeldeck-s3-"));
  const child = spawn(process.execPath, ["--input-type=module", "-e", SERVER, directory, bucket], {
    stdio: ["ignore", "pipe", "pipe"],
    cwd: path.resolve(import.meta.dirname, "../.."),
  });
  let output = "";
  const exited = new Promise<void>((resolve) => child.once("exit", () => resolve()));
  const port = await new Promise<number>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`s3rver did not start:\n${output}`)), 30_000);
    child.stdout.on("data", (chunk: Buffer) => {
      output += chunk.toString();
      const match = /S3_READY (\d+)/.exec(output);
      if (match) {
        clearTimeout(timer);
        resolve(Number(match[1]));
      }
    });
    child.stderr.on("data", (chunk: Buffer) => (output += chunk.toString()));
    child.once("exit", (code) => reject(new Error(`s3rver exited (${code}):\n${output}`)));
  });
  const endpoint = `http://127.0.0.1:${port}`;
  const storeUrl = `s3://${bucket}/${prefix}`;
  let stopping: Promise<void> | undefined;
  return {
    endpoint,
    bucket,
    prefix,
    storeUrl,
    env: {
      MODELDECK_ARTIFACT_STORE: storeUrl,
      MODELDECK_S3_FORCE_PATH_STYLE: "true",
      AWS_ENDPOINT_URL_S3: endpoint,
      AWS_REGION: REGION,
      AWS_ACCESS_KEY_ID: ACCESS_KEY,
      AWS_SECRET_ACCESS_KEY: ACCESS_KEY,
      AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED: "true",
    },
    directory,
    pid: child.pid!,
    client: () =>
      new S3Client({
        endpoint,
        region: REGION,
        forcePathStyle: true,
        credentials: { accessKeyId: ACCESS_KEY, secretAccessKey: ACCESS_KEY },
      }),
    stop() {
      stopping ??= (async () => {
        if (child.exitCode === null && child.signalCode === null) child.kill("SIGTERM");
        await exited;
        await fs.rm(directory, { recursive: true, force: true });
      })();
      return stopping;
    },
  };
}

/** Every key in the server's bucket (under its prefix). */
export async function listBucketKeys(s3: S3TestServer): Promise<string[]> {
  const client = s3.client();
  const keys: string[] = [];
  let token: string | undefined;
  try {
    do {
      const page = await client.send(
        new ListObjectsV2Command({
          Bucket: s3.bucket,
          Prefix: s3.prefix,
          ContinuationToken: token,
        }),
      );
      for (const o of page.Contents ?? []) if (o.Key) keys.push(o.Key);
      token = page.IsTruncated ? page.NextContinuationToken : undefined;
    } while (token);
  } finally {
    client.destroy();
  }
  return keys;
}
