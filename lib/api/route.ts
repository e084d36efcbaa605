import type { z } from "zod";
import { getAuth } from "../auth/auth";
import { CLIENT_IP_HEADER } from "../auth/auth";
import { authenticate, requireScope, type Principal } from "../auth/principal";
import type { Scope } from "../auth/roles";
import { getPrisma } from "../db/client";
import type { PrismaClient } from "../db/generated/client";
import { createLogger } from "../log";
import type { Contract } from "./contract";
import { ApiError, errorBody, validationError } from "./errors";

const log = createLogger("web");

/** Largest JSON body a management route accepts; uploads have their own streaming routes. */
const MAX_JSON_BODY_BYTES = 1024 * 1024;

export type RouteContext<P extends z.ZodObject, Q extends z.ZodObject, B extends z.ZodType> = {
  principal: Principal;
  params: z.infer<P>;
  query: z.infer<Q>;
  body: z.infer<B>;
  db: PrismaClient;
  ipAddress: string | null;
  request: Request;
};

type NextRouteContext = { params: Promise<Record<string, string | string[]>> };

export function jsonError(error: ApiError, headers?: HeadersInit): Response {
  return Response.json(errorBody(error), { status: error.status, headers });
}

async function readJson(request: Request): Promise<unknown> {
  const type = request.headers.get("content-type") ?? "";
  const text = await request.text();
  if (text.length > MAX_JSON_BODY_BYTES) {
    throw new ApiError(
      "payload_too_large",
      `The JSON body is larger than ${MAX_JSON_BODY_BYTES} bytes.`,
    );
  }
  if (text.trim() === "") {
    throw new ApiError("bad_request", "The request body is empty; send a JSON object.");
  }
  if (!/^application\/([\w.+-]+\+)?json\b/i.test(type)) {
    throw new ApiError(
      "unsupported_media_type",
      `Send the body as JSON with "Content-Type: application/json" (got "${type || "none"}").`,
    );
  }
  try {
    return JSON.parse(text);
  } catch (error) {
    throw new ApiError("bad_request", `Malformed JSON: ${(error as Error).message}.`);
  }
}

/**
 * Wraps a route handler: authenticates and checks the contract's permission (via
 * `streamRoute`), validates params, query and body (unknown fields rejected), calls the
 * handler, serialises its result, and maps every error to the standard error body.
 */
export function apiRoute<
  P extends z.ZodObject,
  Q extends z.ZodObject,
  B extends z.ZodType,
  R extends z.ZodType,
>(contract: Contract<P, Q, B, R>, handler: (ctx: RouteContext<P, Q, B>) => Promise<z.input<R>>) {
  return streamRoute(contract.scope, async ({ params: rawParams, request, ...ctx }) => {
    const params = contract.params ? parseOrThrow(contract.params, rawParams, "path") : {};
    const url = new URL(request.url);
    const query = contract.query
      ? parseOrThrow(contract.query, Object.fromEntries(url.searchParams), "query")
      : {};
    const body = contract.body
      ? parseOrThrow(contract.body, await readJson(request), "body")
      : undefined;
    const result = await handler({ ...ctx, params, query, body, request } as RouteContext<P, Q, B>);
    return Response.json(result, {
      status: contract.successStatus ?? 200,
      headers: { "cache-control": "no-store" },
    });
  });
}

function parseOrThrow<T extends z.ZodType>(schema: T, value: unknown, where: string): z.infer<T> {
  const parsed = schema.safeParse(value);
  if (!parsed.success) throw validationError(parsed.error, where === "body" ? undefined : where);
  return parsed.data;
}

export function toErrorResponse(error: unknown, request: Request): Response {
  if (error instanceof ApiError) return jsonError(error);
  log.error(
    { err: error, method: request.method, url: request.url },
    "unhandled error in API route",
  );
  return jsonError(
    new ApiError("internal", "Something went wrong on the server; it has been logged."),
  );
}

export type StreamRouteContext = {
  principal: Principal;
  params: Record<string, string>;
  db: PrismaClient;
  ipAddress: string | null;
  request: Request;
};

/**
 * The one place a request is authenticated, checked against a permission and has its errors
 * mapped. Routes whose body or response is a stream (uploads, downloads) use it directly;
 * `apiRoute` adds JSON validation on top.
 */
export function streamRoute(
  scope: Scope | "authenticated",
  handler: (ctx: StreamRouteContext) => Promise<Response>,
) {
  return async (request: Request, next?: NextRouteContext): Promise<Response> => {
    try {
      const db = getPrisma();
      const principal = await authenticate(db, getAuth(), request);
      if (scope !== "authenticated") requireScope(principal, scope);
      // Next passes no params (undefined) to routes without dynamic segments.
      const raw = (await next?.params) ?? {};
      const params = Object.fromEntries(
        Object.entries(raw).map(([k, v]) => [k, Array.isArray(v) ? v.join("/") : v]),
      );
      return await handler({
        principal,
        params,
        db,
        ipAddress: request.headers.get(CLIENT_IP_HEADER),
        request,
      });
    } catch (error) {
      return toErrorResponse(error, request);
    }
  };
}
