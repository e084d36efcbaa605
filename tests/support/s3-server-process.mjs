/**
 * A real S3-compatible HTTP server (s3rver) in a process of its own, for tests that need a
 * bucket: `node tests/support/s3-server-process.mjs <directory> <bucket>`. Listens on a free
 * loopback port, creates the bucket, then prints one line `S3_READY <port>` on stdout.
 *
 * s3rver lacks two operations that ModelDeck relies on being able to verify: AbortMultipartUpload
 * (the SDK's cleanup after a failed upload) and ListMultipartUploads (how a test proves no
 * upload was left behind). Both are added here over s3rver's own on-disk layout of uploads
 * (`<directory>/<bucket>/._S3rver_uploads/<uploadId>/{key,<part>}`), answering as S3 does.
 */
import fs from "node:fs/promises";
import path from "node:path";
import S3rver from "s3rver";

const [directory, bucket] = process.argv.slice(2);
if (!directory || !bucket) {
  console.error("usage: s3-server-process.mjs <directory> <bucket>");
  process.exit(2);
}

const uploadsDir = (name) => path.join(directory, name, "._S3rver_uploads");
const xmlEscape = (s) =>
  s.replace(
    /[<>&'"]/g,
    (c) => ({ "<": "&lt;", ">": "&gt;", "&": "&amp;", "'": "&apos;", '"': "&quot;" })[c],
  );

/** Koa middleware for the two missing operations (path-style requests only). */
async function multipartUploadsExtension(ctx, next) {
  const segments = ctx.path.split("/").filter(Boolean);
  const name = segments[0];
  if (ctx.method === "DELETE" && segments.length > 1 && typeof ctx.query.uploadId === "string") {
    const id = ctx.query.uploadId;
    const dir = path.join(uploadsDir(name), path.basename(id));
    const exists = await fs.stat(dir).then(
      () => true,
      () => false,
    );
    if (!exists) {
      ctx.status = 404;
      ctx.type = "application/xml";
      ctx.body = `<?xml version="1.0" encoding="UTF-8"?><Error><Code>NoSuchUpload</Code><Message>The specified upload does not exist.</Message><UploadId>${xmlEscape(id)}</UploadId></Error>`;
      return;
    }
    await fs.rm(dir, { recursive: true, force: true });
    ctx.status = 204;
    return;
  }
  if (ctx.method === "GET" && segments.length === 1 && "uploads" in ctx.query) {
    const ids = await fs.readdir(uploadsDir(name)).catch(() => []);
    const uploads = [];
    for (const id of ids) {
      const key = await fs
        .readFile(path.join(uploadsDir(name), id, "key"), "utf8")
        .catch(() => null);
      if (key !== null)
        uploads.push(
          `<Upload><Key>${xmlEscape(key)}</Key><UploadId>${xmlEscape(id)}</UploadId></Upload>`,
        );
    }
    ctx.status = 200;
    ctx.type = "application/xml";
    ctx.body = `<?xml version="1.0" encoding="UTF-8"?><ListMultipartUploadsResult xmlns="http://s3.amazonaws.com/doc/2006-03-01/"><Bucket>${xmlEscape(name)}</Bucket><IsTruncated>false</IsTruncated>${uploads.join("")}</ListMultipartUploadsResult>`;
    return;
  }
  await next();
}

const server = new S3rver({
  address: "127.0.0.1",
  port: 0,
  silent: true,
  directory,
  configureBuckets: [{ name: bucket, configs: [] }],
});
// Koa composes its middleware when the server starts: put ours in front of s3rver's router.
server.middleware.unshift(multipartUploadsExtension);
const { port } = await server.run();
process.stdout.write(`S3_READY ${port}\n`);

let stopping;
const stop = () => (stopping ??= server.close().finally(() => process.exit(0)));
process.on("SIGTERM", stop);
process.on("SIGINT", stop);
// A test runner killed outright cannot stop us: leave with it instead of lingering.
const parent = process.ppid;
setInterval(() => {
  if (process.ppid !== parent && !stopping) {
    stopping = fs
      .rm(directory, { recursive: true, force: true })
      .then(() => server.close())
      .finally(() => process.exit(0));
  }
}, 1000).unref();
