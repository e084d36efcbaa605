import { expect, request, test, type APIRequestContext } from "@playwright/test";
import { adminStorageState, readState } from "./support/state";

/**
 * Bad input to the foundational /api/v1 routes (users, tokens, me, audit): each gets a 4xx
 * with the standard error body naming what was wrong, and nothing changes.
 */
const state = readState();
let admin: APIRequestContext; // bearer-token client, as a CI pipeline would be
let adminToken = "";

type ErrorBody = {
  error: {
    code: string;
    message: string;
    details?: { fields?: { field: string; message: string }[] };
  };
};

async function expectError(
  res: Awaited<ReturnType<APIRequestContext["get"]>>,
  status: number,
  code: string,
  mention?: string,
) {
  expect(res.status(), await res.text()).toBe(status);
  const body = (await res.json()) as ErrorBody;
  expect(body.error.code).toBe(code);
  expect(body.error.message.length).toBeGreaterThan(10);
  if (mention) expect(body.error.message).toContain(mention);
  return body;
}

test.beforeAll(async () => {
  const session = await request.newContext({
    baseURL: state.baseURL,
    storageState: adminStorageState,
    extraHTTPHeaders: { origin: state.baseURL },
  });
  const res = await session.post("/api/v1/tokens", {
    data: { name: "validation-suite", role: "admin" },
  });
  expect(res.status()).toBe(201);
  adminToken = (await res.json()).secret;
  await session.dispose();
  admin = await request.newContext({
    baseURL: state.baseURL,
    extraHTTPHeaders: { authorization: `Bearer ${adminToken}` },
  });
});

test.afterAll(async () => admin.dispose());

test("POST /api/v1/users rejects malformed, unknown, missing and invalid fields", async () => {
  const before = (await (await admin.get("/api/v1/users")).json()).users.length;
  const auditBefore = (await (await admin.get("/api/v1/audit?pageSize=1")).json()).total;

  await expectError(
    await admin.post("/api/v1/users", {
      headers: { "content-type": "application/json" },
      data: Buffer.from('{"email": "a@b.c",'),
    }),
    400,
    "bad_request",
    "Malformed JSON",
  );
  const unknown = await expectError(
    await admin.post("/api/v1/users", {
      data: { email: "x@example.com", name: "X", role: "viewer", isAdmin: true },
    }),
    400,
    "validation_failed",
    "isAdmin",
  );
  expect(unknown.error.details?.fields).toContainEqual({
    field: "isAdmin",
    message: "is not a recognised field",
  });
  const missing = await expectError(
    await admin.post("/api/v1/users", { data: { name: "No Email", role: "viewer" } }),
    400,
    "validation_failed",
    "email",
  );
  expect(missing.error.details?.fields).toContainEqual({ field: "email", message: "is required" });
  await expectError(
    await admin.post("/api/v1/users", {
      data: { email: "not-an-email", name: "N", role: "viewer" },
    }),
    400,
    "validation_failed",
    "email",
  );
  await expectError(
    await admin.post("/api/v1/users", {
      data: { email: "r@example.com", name: "R", role: "superuser" },
    }),
    400,
    "validation_failed",
    "role",
  );
  await expectError(
    await admin.post("/api/v1/users", {
      data: { email: "p@example.com", name: "P", role: "viewer", password: "short" },
    }),
    400,
    "validation_failed",
    "password",
  );
  await expectError(
    await admin.post("/api/v1/users", {
      headers: { "content-type": "text/plain" },
      data: "email=x",
    }),
    415,
    "unsupported_media_type",
  );
  await expectError(await admin.post("/api/v1/users"), 400, "bad_request", "empty");

  // Nothing was created, nothing audited.
  expect((await (await admin.get("/api/v1/users")).json()).users.length).toBe(before);
  expect((await (await admin.get("/api/v1/audit?pageSize=1")).json()).total).toBe(auditBefore);
});

test("duplicate email is a 409 and the first user is untouched", async () => {
  const email = `dup-${Date.now()}@example.com`;
  const first = await admin.post("/api/v1/users", {
    data: { email, name: "First", role: "viewer" },
  });
  expect(first.status()).toBe(201);
  await expectError(
    await admin.post("/api/v1/users", {
      data: { email: email.toUpperCase(), name: "Second", role: "admin" },
    }),
    409,
    "conflict",
    email,
  );
  const users = (await (await admin.get("/api/v1/users")).json()).users as {
    email: string;
    name: string;
    role: string;
  }[];
  expect(users.filter((u) => u.email === email)).toEqual([
    expect.objectContaining({ name: "First", role: "viewer" }),
  ]);
});

test("PATCH /api/v1/users/{id} validates its body and target", async () => {
  const users = (await (await admin.get("/api/v1/users")).json()).users as {
    id: string;
    email: string;
  }[];
  const adminUser = users.find((u) => u.email === state.adminEmail)!;
  await expectError(
    await admin.patch(`/api/v1/users/${adminUser.id}`, { data: {} }),
    400,
    "validation_failed",
  );
  await expectError(
    await admin.patch(`/api/v1/users/${adminUser.id}`, {
      headers: { "content-type": "application/json" },
      data: Buffer.from('{"role": }'),
    }),
    400,
    "bad_request",
    "Malformed JSON",
  );
  await expectError(
    await admin.patch(`/api/v1/users/${adminUser.id}`, { data: { disabled: "yes" } }),
    400,
    "validation_failed",
    "disabled",
  );
  await expectError(
    await admin.patch(`/api/v1/users/${adminUser.id}`, {
      data: { role: "viewer", email: "x@y.z" },
    }),
    400,
    "validation_failed",
    "email",
  );
  await expectError(
    await admin.patch("/api/v1/users/no-such-user", { data: { role: "viewer" } }),
    404,
    "not_found",
  );
  // The only admin cannot be demoted: the instance would have no admin left.
  await expectError(
    await admin.patch(`/api/v1/users/${adminUser.id}`, { data: { role: "viewer" } }),
    409,
    "conflict",
    "last enabled admin",
  );
});

test("token routes validate input; expired and revoked tokens get 401", async () => {
  await expectError(
    await admin.post("/api/v1/tokens", {
      headers: { "content-type": "application/json" },
      data: Buffer.from("{name: 'unquoted'}"),
    }),
    400,
    "bad_request",
    "Malformed JSON",
  );
  await expectError(
    await admin.post("/api/v1/tokens", { data: { role: "viewer" } }),
    400,
    "validation_failed",
    "name",
  );
  await expectError(
    await admin.post("/api/v1/tokens", { data: { name: "t", role: "viewer", scopes: ["all"] } }),
    400,
    "validation_failed",
    "scopes",
  );
  await expectError(
    await admin.post("/api/v1/tokens", {
      data: { name: "t", role: "viewer", expiresAt: "tomorrow" },
    }),
    400,
    "validation_failed",
    "expiresAt",
  );
  await expectError(
    await admin.post("/api/v1/tokens", {
      data: { name: "t", role: "viewer", expiresAt: new Date(Date.now() - 60_000).toISOString() },
    }),
    400,
    "validation_failed",
    "future",
  );
  await expectError(
    await admin.delete("/api/v1/tokens/not-a-uuid"),
    400,
    "validation_failed",
    "id",
  );
  await expectError(
    await admin.delete("/api/v1/tokens/00000000-0000-4000-8000-000000000000"),
    404,
    "not_found",
  );

  // Expiry: valid now, refused once expiresAt has passed.
  const shortLived = await admin.post("/api/v1/tokens", {
    data: {
      name: "short-lived",
      role: "viewer",
      expiresAt: new Date(Date.now() + 2_000).toISOString(),
    },
  });
  expect(shortLived.status()).toBe(201);
  const { secret, token } = await shortLived.json();
  const client = await request.newContext({ baseURL: state.baseURL });
  expect(
    (await client.get("/api/v1/me", { headers: { authorization: `Bearer ${secret}` } })).status(),
  ).toBe(200);
  await new Promise((r) => setTimeout(r, 2_500));
  await expectError(
    await client.get("/api/v1/me", { headers: { authorization: `Bearer ${secret}` } }),
    401,
    "unauthenticated",
  );

  // Revoked: 401, and revoking again is a 409.
  const other = await (
    await admin.post("/api/v1/tokens", { data: { name: "to-revoke", role: "viewer" } })
  ).json();
  expect((await admin.delete(`/api/v1/tokens/${other.token.id}`)).status()).toBe(200);
  await expectError(await admin.delete(`/api/v1/tokens/${other.token.id}`), 409, "conflict");
  await expectError(
    await client.get("/api/v1/me", { headers: { authorization: `Bearer ${other.secret}` } }),
    401,
    "unauthenticated",
  );
  // Garbage and missing credentials.
  await expectError(
    await client.get("/api/v1/me", { headers: { authorization: "Bearer nonsense" } }),
    401,
    "unauthenticated",
  );
  await expectError(
    await client.get("/api/v1/me", { headers: { authorization: "Basic abc" } }),
    401,
    "unauthenticated",
  );
  await expectError(await client.get("/api/v1/me"), 401, "unauthenticated");
  expect(token.status).toBe("active");
  await client.dispose();
});

test("GET /api/v1/audit rejects unknown and out-of-range query parameters", async () => {
  await expectError(
    await admin.get("/api/v1/audit?colour=blue"),
    400,
    "validation_failed",
    "colour",
  );
  await expectError(
    await admin.get("/api/v1/audit?pageSize=5000"),
    400,
    "validation_failed",
    "pageSize",
  );
  await expectError(
    await admin.get("/api/v1/audit?from=yesterday"),
    400,
    "validation_failed",
    "from",
  );
  const ok = await admin.get("/api/v1/audit?action=token.&pageSize=5");
  expect(ok.status()).toBe(200);
  const body = await ok.json();
  expect(body.entries.length).toBeLessThanOrEqual(5);
  for (const e of body.entries) expect(e.action.startsWith("token.")).toBe(true);
});

test("cookie-authenticated changes from another origin are refused (CSRF)", async () => {
  const evil = await request.newContext({
    baseURL: state.baseURL,
    storageState: adminStorageState,
    extraHTTPHeaders: { origin: "http://evil.example" },
  });
  await expectError(
    await evil.post("/api/v1/tokens", { data: { name: "csrf", role: "admin" } }),
    403,
    "csrf_rejected",
  );
  // Reads are not state changes, and a bearer token is not sent by browsers cross-site.
  expect((await evil.get("/api/v1/me")).status()).toBe(200);
  await evil.dispose();
});

test("unknown API paths answer JSON 404; the OpenAPI document lists every route", async () => {
  await expectError(await admin.get("/api/v1/nothing-here"), 404, "not_found");
  const doc = await (
    await request.newContext({ baseURL: state.baseURL })
  ).get("/api/v1/openapi.json");
  expect(doc.status()).toBe(200);
  const json = await doc.json();
  expect(json.openapi).toBe("3.1.0");
  expect(Object.keys(json.paths)).toEqual(
    expect.arrayContaining([
      "/api/v1/me",
      "/api/v1/users",
      "/api/v1/users/{id}",
      "/api/v1/tokens",
      "/api/v1/tokens/{id}",
      "/api/v1/audit",
    ]),
  );
  expect(json.components.schemas.Error).toBeDefined();
});

test("health endpoint reports every process", async () => {
  const res = await (await request.newContext({ baseURL: state.baseURL })).get("/api/health");
  expect(res.status()).toBe(200);
  const body = await res.json();
  expect(body.components.database.status).toBe("up");
  expect(body.components.web.status).toBe("up");
  await expect
    .poll(
      async () =>
        (await (await request.newContext({ baseURL: state.baseURL })).get("/api/health"))
          .json()
          .then((b) => b.status),
      {
        timeout: 20_000,
      },
    )
    .toBe("ok");
});
