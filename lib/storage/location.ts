/** Bucket names as S3 allows them (3-63 characters); the prefix is anything after the slash. */
const S3_URL = /^s3:\/\/([a-z0-9][a-z0-9.-]{1,61}[a-z0-9])(?:\/(.*))?$/;

export type S3Location = { bucket: string; prefix: string };

/** `s3://bucket/some/prefix` → bucket and prefix without slashes at either end; else null. */
export function parseS3Url(url: string): S3Location | null {
  const match = S3_URL.exec(url);
  if (!match) return null;
  return { bucket: match[1]!, prefix: (match[2] ?? "").replace(/^\/+|\/+$/g, "") };
}
