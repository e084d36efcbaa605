/**
 * Optional TLS: web and serving started as real role processes with a certificate this test
 * generates (Debian's openssl), checked over HTTPS with that certificate as the only trusted CA.
 */
import { execFileSync } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import https from "node:https";
import os from "node:os";
import path from "node:path";
import * as grpc from "@grpc/grpc-js";
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import { SYSTEM_ACTOR } from "../../../lib/audit";
import { createUser } from "../../../lib/auth/users";
import { findFreePort } from "../../../lib/db/embedded-postgres";
import { createLogger } from "../../../lib/log";
import { ensureBuilt } from "../../../workers/supervisor/build";
import { createEmptyDatabase, createTestPrisma } from "../helpers/db";
import { killLeftovers, repoRoot, startRole, until } from "./harness";

let dir: string;
let certFile: string;
let keyFile: string;
let ca: Buffer;

beforeAll(async () => {
  dir = mkdtempSync(path.join(os.tmpdir(), "modeldeck-tls-"));
  certFile = path.join(dir, "cert.pem");
  keyFile = path.join(dir, "key.pem");
  execFileSync("openssl", [
    "req",
    "-x509",
    "-newkey",
    "ec",
    "-pkeyopt",
    "ec_paramgen_curve:prime256v1",
    "-nodes",
    "-days",
    "2",
    "-subj",
    "/CN=localhost",
    "-addext",
    "subjectAltName=DNS:localhost,IP:127.0.0.1",
    "-keyout",
    keyFile,
    "-out",
    certFile,
  ]);
  ca = readFileSync(certFile);
  await ensureBuilt(repoRoot, createLogger("tls-test"));
}, 600_000);
afterAll(() => rmSync(dir, { recursive: true, force: true }));
afterEach(killLeftovers);

type Answer = {
  status: number;
  headers: Record<string, string | string[] | undefined>;
  body: string;
};

/** An HTTPS request that trusts only the generated certificate (no rejectUnauthorized: false). */
function request(
  url: string,
  init: { method?: string; headers?: Record<string, string>; body?: string } = {},
): Promise<Answer> {
  return new Promise((resolve, reject) => {
    const req = https.request(
      url,
      { ca, method: init.method ?? "GET", headers: init.headers, timeout: 5_000 },
      (res) => {
        let body = "";
        res.setEncoding("utf8");
        res.on("data", (d: string) => (body += d));
        res.on("end", () => resolve({ status: res.statusCode ?? 0, headers: res.headers, body }));
      },
    );
    req.on("timeout", () => req.destroy(new Error("timeout")));
    req.on("error", reject);
    req.end(init.body);
  });
}

describe("TLS (MODELDECK_TLS_CERT, MODELDECK_TLS_KEY)", () => {
  it("refuses to start with only one of the two, saying why", async () => {
    const proc = startRole("serving", {
      DATABASE_URL: "postgresql://nobody@127.0.0.1:1/none",
      MODELDECK_TLS_CERT: "/nonexistent/cert.pem",
      MODELDECK_TLS_KEY: undefined,
    });
    expect(await proc.exited).not.toBe(0);
    expect(proc.output()).toMatch(/MODELDECK_TLS_CERT and MODELDECK_TLS_KEY go together/);
  });

  it("web, serving and gRPC answer over HTTPS only; sign-in sets a Secure cookie", async () => {
    const db = await createEmptyDatabase("roles_tls");
    try {
      const [webPort, servingPort, grpcPort] = [
        await findFreePort(),
        await findFreePort(),
        await findFreePort(),
      ];
      const env = {
        DATABASE_URL: db.url,
        MODELDECK_HOST: "127.0.0.1",
        MODELDECK_DATA_DIR: dir,
        MODELDECK_WEB_PORT: String(webPort),
        MODELDECK_SERVING_PORT: String(servingPort),
        MODELDECK_GRPC_PORT: String(grpcPort),
        MODELDECK_TLS_CERT: certFile,
        MODELDECK_TLS_KEY: keyFile,
        MODELDECK_SECRET: undefined,
        BETTER_AUTH_SECRET: undefined,
        MODELDECK_ADMIN_PASSWORD: undefined,
        NODE_EXTRA_CA_CERTS: certFile,
      };
      const migrate = startRole("migrate", env);
      expect(await migrate.exited, migrate.output()).toBe(0);
      const prisma = createTestPrisma(db.url);
      await createUser(prisma, SYSTEM_ACTOR, {
        email: "tls@example.com",
        name: "TLS",
        role: "viewer",
        password: "tls-password-1",
      });
      await prisma.$disconnect();

      const web = startRole("web", env);
      const serving = startRole("serving", env);
      const logs = () => `web:\n${web.output()}\nserving:\n${serving.output()}`;
      const webUrl = `https://127.0.0.1:${webPort}`;
      const servingUrl = `https://localhost:${servingPort}`;

      const webReady = await until(
        "web to be ready over HTTPS",
        async () => {
          const r = await request(`${webUrl}/readyz`);
          return r.status === 200 ? r : undefined;
        },
        120_000,
        logs,
      );
      expect(webReady.headers["strict-transport-security"]).toMatch(/max-age=\d+/);
      await until(
        "serving to be ready over HTTPS",
        async () => (await request(`${servingUrl}/readyz`)).status === 200,
        90_000,
        logs,
      );
      expect((await request(`${servingUrl}/v2/health/live`)).status).toBe(200);
      // Web reaches serving over HTTPS, trusting the certificate through NODE_EXTRA_CA_CERTS.
      await until(
        "web to see serving up over HTTPS",
        async () => {
          const r = await request(`${webUrl}/api/health`);
          const report = JSON.parse(r.body) as { components: { serving: { status: string } } };
          return report.components.serving.status === "up";
        },
        30_000,
        logs,
      );

      // Plain HTTP on either port gets no answer from the app.
      for (const port of [webPort, servingPort]) {
        const plain = await fetch(`http://127.0.0.1:${port}/livez`).then(
          (r) => r.status,
          () => "refused",
        );
        expect(plain, `plain HTTP on ${port}`).not.toBe(200);
      }

      // An untrusted client (no CA given) is refused by its own verification.
      await expect(fetch(`${webUrl}/livez`)).rejects.toThrow();

      // Sign-in over HTTPS: the session cookie is Secure.
      const signIn = await request(`${webUrl}/api/auth/sign-in/email`, {
        method: "POST",
        headers: { "content-type": "application/json", origin: webUrl },
        body: JSON.stringify({ email: "tls@example.com", password: "tls-password-1" }),
      });
      expect(signIn.status, signIn.body).toBe(200);
      const cookies = ([] as string[]).concat(signIn.headers["set-cookie"] ?? []);
      const session = cookies.find((c) => c.includes("session_token="));
      expect(session).toMatch(/^__Secure-/);
      expect(session).toMatch(/;\s*Secure/i);
      const me = await request(`${webUrl}/api/v1/me`, {
        headers: { cookie: session!.split(";")[0]! },
      });
      expect(me.status, me.body).toBe(200);

      // gRPC over TLS, trusting the same certificate.
      const client = new grpc.Client(`localhost:${grpcPort}`, grpc.credentials.createSsl(ca));
      try {
        await new Promise<void>((resolve, reject) =>
          client.waitForReady(Date.now() + 20_000, (error) => (error ? reject(error) : resolve())),
        );
      } finally {
        client.close();
      }
      const insecure = new grpc.Client(`localhost:${grpcPort}`, grpc.credentials.createInsecure());
      try {
        await expect(
          new Promise<void>((resolve, reject) =>
            insecure.waitForReady(Date.now() + 2_000, (error) =>
              error ? reject(error) : resolve(),
            ),
          ),
        ).rejects.toThrow();
      } finally {
        insecure.close();
      }

      const codes = await Promise.all([web, serving].map((p) => p.stop()));
      expect(codes, logs()).toEqual([0, 0]);
    } finally {
      await db.drop();
    }
  }, 400_000);
});
