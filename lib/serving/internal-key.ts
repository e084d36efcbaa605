import { createHmac, timingSafeEqual } from "node:crypto";

/**
 * The credential the web app uses to call the serving process for the "Try it" panel on a
 * signed-in person's behalf (the person's session cookie means nothing to the data plane).
 * Derived from the instance secret that every process already shares through the database,
 * so nothing new is stored or configured, and rotating the secret rotates this key too.
 */
export function tryItKey(instanceSecret: string): string {
  const mac = createHmac("sha256", instanceSecret).update("modeldeck:serving:try-it").digest();
  return `mdk_tryit_${mac.toString("base64url")}`;
}

export function isTryItKey(candidate: string, expected: string): boolean {
  // Cheap refusal first: this runs on every inference request.
  if (candidate.length !== expected.length || !candidate.startsWith("mdk_tryit_")) return false;
  const a = Buffer.from(candidate);
  const b = Buffer.from(expected);
  return a.length === b.length && timingSafeEqual(a, b);
}
