import { randomUUID } from "node:crypto";
import { existsSync, mkdtempSync, readFileSync, rmSync } from "node:fs";
import http from "node:http";
import type { AddressInfo } from "node:net";
import { tmpdir } from "node:os";
import path from "node:path";
import pg from "pg";
import { serializeSignedCookie } from "better-call";
import { afterAll, afterEach, describe, expect, it } from "vitest";
import type { Actor } from "../../../lib/audit";
import { CLIENT_IP_HEADER, createAuth } from "../../../lib/auth/auth";
import { hashSessionToken } from "../../../lib/auth/session-tokens";
import { ensureInitialAdmin } from "../../../lib/auth/users";
import { loadConfig } from "../../../lib/config";
import { ensureAuthSecret } from "../../../lib/system/instance";
import {
  KEY_FILE,
  PREVIOUS_KEY_FILE,
  getEncryptionKeys,
  resetEncryptionKeys,
} from "../../../lib/crypto/keys";
import { rotateEncryptionKey } from "../../../lib/crypto/rotation";
import {
  generateEncryptionKey,
  parseEncryptionKey,
  SecretBox,
  SecretBoxError,
  sealedKeyId,
  toEncryptionKey,
} from "../../../lib/crypto/secret-box";
import { sealClearCredentials } from "../../../lib/crypto/stored-credentials";
import { createWebhook, verifySignature } from "../../../lib/notifications";
import { attemptDelivery } from "../../../lib/notifications/dispatcher";
import { useTestDatabase } from "../helpers/db";

/**
 * What a copy of the database gives away: neither a usable session nor a webhook secret.
 * Real better-auth sign-in through its HTTP handler, real HTTP receivers, every table read.
 */

const ADMIN: Actor = { type: "system", label: "secrets-test" };

// The webhook receiver listens on loopback, which the outbound-request policy refuses by
// default: admit it deliberately, as an operator would an internal receiver.
process.env.MODELDECK_OUTBOUND_ALLOW = "127.0.0.1";
const COOKIE = "better-auth.session_token";
const EMAIL = "owner@example.com";
const PASSWORD = "correct-horse-battery";
const AUTH_SECRET = "secrets-at-rest-test-secret-".padEnd(48, "x");

const servers: http.Server[] = [];
const dirs: string[] = [];
const envBefore = {
  key: process.env.MODELDECK_ENCRYPTION_KEY,
  previous: process.env.MODELDECK_ENCRYPTION_KEY_PREVIOUS,
  dataDir: process.env.MODELDECK_DATA_DIR,
};
const restoreEnv = (name: string, value: string | undefined) => {
  if (value === undefined) delete process.env[name];
  else process.env[name] = value;
};
afterEach(() => {
  restoreEnv("MODELDECK_ENCRYPTION_KEY", envBefore.key);
  restoreEnv("MODELDECK_ENCRYPTION_KEY_PREVIOUS", envBefore.previous);
  restoreEnv("MODELDECK_DATA_DIR", envBefore.dataDir);
  resetEncryptionKeys();
});
afterAll(async () => {
  await Promise.all(servers.map((s) => new Promise((r) => s.close(r))));
  for (const d of dirs) rmSync(d, { recursive: true, force: true });
});

const tempDir = () => {
  const d = mkdtempSync(path.join(tmpdir(), "modeldeck-secrets-"));
  dirs.push(d);
  return d;
};

/** A receiver that records what it is sent. */
async function receiver() {
  const received: { signature: string; body: string }[] = [];
  const server = http.createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on("data", (c: Buffer) => chunks.push(c));
    req.on("end", () => {
      received.push({
        signature: String(req.headers["modeldeck-signature"]),
        body: Buffer.concat(chunks).toString("utf8"),
      });
      res.end("ok");
    });
  });
  servers.push(server);
  await new Promise<void>((r) => server.listen(0, "127.0.0.1", r));
  const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/hook`;
  return { url, received };
}

describe("secrets at rest", () => {
  const db = useTestDatabase();
  const config = loadConfig({});
  const auth = createAuth(db.client, config, AUTH_SECRET);

  async function signIn(): Promise<{ cookie: string; token: string }> {
    const response = await auth.handler(
      new Request(`${config.publicUrl}/api/auth/sign-in/email`, {
        method: "POST",
        headers: {
          "content-type": "application/json",
          origin: config.publicUrl,
          [CLIENT_IP_HEADER]: "127.0.0.1",
        },
        body: JSON.stringify({ email: EMAIL, password: PASSWORD }),
      }),
    );
    expect(response.status).toBe(200);
    const setCookie = response.headers.getSetCookie().find((c) => c.startsWith(`${COOKIE}=`));
    expect(setCookie).toBeDefined();
    const cookie = setCookie!.split(";")[0]!;
    const value = decodeURIComponent(cookie.slice(COOKIE.length + 1));
    return { cookie, token: value.slice(0, value.lastIndexOf(".")) };
  }

  const sessionOf = (cookie: string) => auth.api.getSession({ headers: new Headers({ cookie }) });

  /** A cookie as better-auth would sign it, for any value. */
  const forgeCookie = async (value: string) =>
    (await serializeSignedCookie(COOKIE, value, AUTH_SECRET)).split(";")[0]!;

  /** Every row of every table, as text: what a dump of the database holds. */
  async function dumpEveryTable(): Promise<string> {
    const client = new pg.Client({ connectionString: db.url });
    await client.connect();
    try {
      const { rows: tables } = await client.query<{ name: string }>(
        `SELECT quote_ident(tablename) AS name FROM pg_tables WHERE schemaname = 'public'`,
      );
      expect(tables.length).toBeGreaterThan(20);
      const parts: string[] = [];
      for (const t of tables) {
        const { rows } = await client.query<{ row: string }>(
          `SELECT row_to_json(t)::text AS row FROM ${t.name} t`,
        );
        parts.push(...rows.map((r) => r.row));
      }
      return parts.join("\n");
    } finally {
      await client.end();
    }
  }

  async function deliverTo(webhookId: string, url: string) {
    const row = await db.client.webhook.findUniqueOrThrow({ where: { id: webhookId } });
    const body = JSON.stringify({ type: "webhook.test", id: randomUUID() });
    return attemptDelivery(
      { id: randomUUID(), eventType: "webhook.test", body, url, secret: row.secret },
      5_000,
    );
  }

  it("keeps no session token or webhook secret in any table; both keep working", async () => {
    await ensureInitialAdmin(db.client, { email: EMAIL, password: PASSWORD });
    const { cookie, token } = await signIn();
    expect((await sessionOf(cookie))?.user.email).toBe(EMAIL);

    const r = await receiver();
    const { webhook, secret } = await createWebhook(db.client, ADMIN, {
      name: "ops",
      url: r.url,
      events: ["alias.moved"],
    });
    expect(webhook.secretHint).toBe(`whsec_…${secret.slice(-4)}`);

    // The generated session secret (used when MODELDECK_SECRET is unset) is sealed too.
    const generatedAuthSecret = await ensureAuthSecret(db.client);

    const dump = await dumpEveryTable();
    expect(dump).not.toContain(generatedAuthSecret);
    expect(dump).toContain(hashSessionToken(token)); // the dump is complete: the hash is there
    expect(dump).not.toContain(token);
    expect(dump).not.toContain(secret);
    expect(dump).not.toContain(secret.slice("whsec_".length));
    const stored = await db.client.webhook.findUniqueOrThrow({ where: { id: webhook.id } });
    expect(sealedKeyId(stored.secret)).toBe(getEncryptionKeys().box.current.id);

    // The dump plus the signing secret no longer make a session: the stored value is a hash.
    expect(await sessionOf(await forgeCookie(hashSessionToken(token)))).toBeNull();
    // ...whereas the same recipe with the real token does (the forgery above is a fair one).
    expect((await sessionOf(await forgeCookie(token)))?.user.email).toBe(EMAIL);

    // Deliveries are signed with the secret the admin was shown.
    const result = await deliverTo(webhook.id, r.url);
    expect(result.error).toBeNull();
    const [got] = r.received;
    expect(verifySignature({ header: got!.signature, body: got!.body, secret }).ok).toBe(true);

    // Sign-out ends the session, found by its hash.
    const out = await auth.handler(
      new Request(`${config.publicUrl}/api/auth/sign-out`, {
        method: "POST",
        headers: { cookie, origin: config.publicUrl, [CLIENT_IP_HEADER]: "127.0.0.1" },
      }),
    );
    expect(out.status).toBe(200);
    expect(await db.client.session.count()).toBe(0);
    expect(await sessionOf(cookie)).toBeNull();
  });

  it("rotates to a new key from the environment: every value re-sealed, still working, the old key alone no longer opens them", async () => {
    await ensureInitialAdmin(db.client, { email: EMAIL, password: PASSWORD });
    const { cookie } = await signIn();
    const r = await receiver();
    const created = await Promise.all(
      ["a", "b", "c"].map((name) =>
        createWebhook(db.client, ADMIN, { name, url: r.url, events: ["alias.moved"] }),
      ),
    );
    const oldKey = process.env.MODELDECK_ENCRYPTION_KEY!;
    const oldBox = new SecretBox(toEncryptionKey(parseEncryptionKey(oldKey)!));
    const newKey = generateEncryptionKey().toString("base64");

    const report = await rotateEncryptionKey(db.client, {
      dataDir: tempDir(),
      encryption: { key: newKey, previousKey: oldKey },
    });
    expect(report).toMatchObject({ source: "env", sealed: 0, resealed: 3, unchanged: 0 });
    const newId = toEncryptionKey(parseEncryptionKey(newKey)!).id;
    expect(report.keyId).toBe(newId);
    const audit = await db.client.auditEntry.findMany({
      where: { action: "encryption_key.rotate" },
    });
    expect(audit).toHaveLength(1);
    expect(JSON.stringify(audit.map((a) => a.after))).not.toContain(newKey);
    expect(audit[0]!.after).toMatchObject({ keyId: newId, resealed: 3 });

    // The rotation is done: processes run with the new key only.
    process.env.MODELDECK_ENCRYPTION_KEY = newKey;
    delete process.env.MODELDECK_ENCRYPTION_KEY_PREVIOUS;
    resetEncryptionKeys();
    for (const { webhook, secret } of created) {
      const row = await db.client.webhook.findUniqueOrThrow({ where: { id: webhook.id } });
      expect(sealedKeyId(row.secret)).toBe(newId);
      let failure: unknown;
      try {
        oldBox.open(row.secret, "webhook.secret");
      } catch (error) {
        failure = error;
      }
      expect(failure).toBeInstanceOf(SecretBoxError);
      expect((failure as SecretBoxError).reason).toBe("unknown_key");

      expect((await deliverTo(webhook.id, r.url)).error).toBeNull();
      const got = r.received.at(-1)!;
      expect(verifySignature({ header: got.signature, body: got.body, secret }).ok).toBe(true);
    }
    expect((await sessionOf(cookie))?.user.email).toBe(EMAIL);

    // Running it again changes nothing.
    const again = await rotateEncryptionKey(db.client, {
      dataDir: tempDir(),
      encryption: { key: newKey, previousKey: oldKey },
    });
    expect(again).toMatchObject({ sealed: 0, resealed: 0, unchanged: 3 });
  });

  it("seals values written in clear once, and rotates a generated key file under running code", async () => {
    const dataDir = tempDir();
    delete process.env.MODELDECK_ENCRYPTION_KEY;
    process.env.MODELDECK_DATA_DIR = dataDir;
    resetEncryptionKeys();

    // A webhook from before secrets were sealed.
    const r = await receiver();
    const clear = "whsec_written-before-encryption-existed-000000";
    const legacy = await db.client.webhook.create({
      data: {
        name: "legacy",
        url: r.url,
        secret: clear,
        secretHint: "whsec_…0000",
        events: ["alias.moved"],
        createdByType: "system",
        createdByLabel: "system",
      },
    });
    // ...and a session secret generated by an earlier version.
    const clearAuthSecret = "clear-auth-secret-from-an-earlier-version-0000";
    await db.client.instanceSetting.create({
      data: { key: "auth_secret", value: clearAuthSecret },
    });
    await db.client.instanceSetting.create({ data: { key: "other", value: "not-a-secret" } });
    expect(await ensureAuthSecret(db.client)).toBe(clearAuthSecret);
    const fileKeys = getEncryptionKeys();
    expect(fileKeys.source).toMatchObject({ kind: "file", generated: true });
    expect(await sealClearCredentials(db.client, fileKeys.box)).toMatchObject({ sealed: 2 });
    expect(await sealClearCredentials(db.client, fileKeys.box)).toMatchObject({
      sealed: 0,
      unchanged: 2,
    });
    const dump = await dumpEveryTable();
    expect(dump).not.toContain("written-before-encryption-existed");
    expect(dump).not.toContain(clearAuthSecret);
    expect(dump).toContain("not-a-secret"); // other settings are left alone
    expect(await ensureAuthSecret(db.client)).toBe(clearAuthSecret);

    const firstKeyFile = readFileSync(path.join(dataDir, KEY_FILE), "utf8");
    const report = await rotateEncryptionKey(db.client, loadConfig());
    expect(report).toMatchObject({
      source: "file",
      resealed: 2,
      previousKeyId: fileKeys.box.current.id,
    });
    expect(readFileSync(path.join(dataDir, KEY_FILE), "utf8")).not.toBe(firstKeyFile);
    expect(readFileSync(path.join(dataDir, PREVIOUS_KEY_FILE), "utf8")).toBe(firstKeyFile);

    // This process still holds the first key only; it reads the files again on the new key id.
    expect(getEncryptionKeys().box.current.id).toBe(fileKeys.box.current.id);
    expect((await deliverTo(legacy.id, r.url)).error).toBeNull();
    const got = r.received.at(-1)!;
    expect(verifySignature({ header: got.signature, body: got.body, secret: clear }).ok).toBe(true);
    expect(getEncryptionKeys().box.current.id).toBe(report.keyId);

    // The next rotation retires the previous key file first.
    const second = await rotateEncryptionKey(db.client, loadConfig());
    expect(second.previousKeyId).toBe(report.keyId);
    expect(readFileSync(path.join(dataDir, PREVIOUS_KEY_FILE), "utf8")).not.toBe(firstKeyFile);
    expect(existsSync(path.join(dataDir, `${KEY_FILE}.next`))).toBe(false);
  });
});
