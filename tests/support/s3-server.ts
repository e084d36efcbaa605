/**
 * A real S3-compatible server (s3rver) as its own child process, with one bucket, for tests
 * that run ModelDeck against object storage. Not a mock of the SDK: requests go over HTTP
 * to a server that stores objects in a temp directory.
 *
 *   const s3 = await startS3Server();
 *   spawn(..., { env: { ...process.env, ...s3.env } });   // MODELDECK_ARTIFACT_STORE etc.
 *   await s3.stop();
 */
import { spawn } from "node:child_process";
import fs from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import { ListObjectsV2Command, S3Client } from "@aws-sdk/client-s3";

export type S3TestServer = {
  /** `http://127.0.0.1:<port>` */
  endpoint: string;
  bucket: string;
  /** Key prefix ModelDeck's artifacts go under in the bucket. */
  prefix: string;
  /** `s3://<bucket>/<prefix>`: the value of MODELDECK_ARTIFACT_STORE. */
  storeUrl: string;
  /**
   * Everything a ModelDeck process needs to use this bucket: MODELDECK_ARTIFACT_STORE,
   * MODELDECK_S3_FORCE_PATH_STYLE, AWS_ENDPOINT_URL_S3, AWS_REGION, AWS credentials.
   */
  env: Record<string, string>;
  /** The server's data directory (objects live under `<directory>/<bucket>`). */
  directory: string;
  pid: number;
  /** A client for checking the bucket from the test itself (path style, test credentials). */
  client(): S3Client;
  /** Stops the server and deletes its directory. Idempotent. */
  stop(): Promise<void>;
};

const SCRIPT = path.join(import.meta.dirname, "s3-server-process.mjs");
/** s3rver accepts requests signed with these (and only these) keys. */
const ACCESS_KEY = "S3RVER";
const REGION = "us-east-1";

export async function startS3Server(
  options: { bucket?: string; prefix?: string; timeoutMs?: number } = {},
): Promise<S3TestServer> {
  const bucket = options.bucket ?? "modeldeck-test";
  const prefix = options.prefix ?? "artifacts";
  const directory = await fs.mkdtemp(path.join(os.tmpdir(), "modeldeck-s3-"));
  const child = spawn(process.execPath, [SCRIPT, directory, bucket], {
    stdio: ["ignore", "pipe", "pipe"],
  });
  let output = "";
  const exited = new Promise<void>((resolve) => child.once("exit", () => resolve()));
  const port = await new Promise<number>((resolve, reject) => {
    const timer = setTimeout(() => {
      child.kill("SIGKILL");
      reject(new Error(`The S3 server did not start:\n${output}`));
    }, options.timeoutMs ?? 30_000);
    const onData = (chunk: Buffer) => {
      output += chunk.toString();
      const match = /S3_READY (\d+)/.exec(output);
      if (match) {
        clearTimeout(timer);
        resolve(Number(match[1]));
      }
    };
    child.stdout!.on("data", onData);
    child.stderr!.on("data", (chunk: Buffer) => (output += chunk.toString()));
    child.once("exit", (code) => {
      clearTimeout(timer);
      reject(new Error(`The S3 server exited (${code}) before it was ready:\n${output}`));
    });
  });
  const endpoint = `http://127.0.0.1:${port}`;
  const storeUrl = `s3://${bucket}/${prefix}`;
  const env: Record<string, string> = {
    MODELDECK_ARTIFACT_STORE: storeUrl,
    MODELDECK_S3_FORCE_PATH_STYLE: "true",
    AWS_ENDPOINT_URL_S3: endpoint,
    AWS_REGION: REGION,
    AWS_ACCESS_KEY_ID: ACCESS_KEY,
    AWS_SECRET_ACCESS_KEY: ACCESS_KEY,
    AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED: "true",
  };
  let stopping: Promise<void> | undefined;
  return {
    endpoint,
    bucket,
    prefix,
    storeUrl,
    env,
    directory,
    pid: child.pid!,
    client: () => {
      // The project pins Node 20; the SDK's warning about it is noise in test output.
      process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED ??= "true";
      return new S3Client({
        endpoint,
        region: REGION,
        forcePathStyle: true,
        credentials: { accessKeyId: ACCESS_KEY, secretAccessKey: ACCESS_KEY },
      });
    },
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

/** Every key in the server's bucket under its prefix. */
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
