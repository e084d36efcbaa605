import { extendZodWithOpenApi, OpenAPIRegistry } from "@asteasolutions/zod-to-openapi";
import { z } from "zod";
import type { Scope } from "../auth/roles";

extendZodWithOpenApi(z);

/**
 * One contract per API operation: its path, permission, and zod types for params, query,
 * body and response. The same object validates requests at run time (lib/api/route.ts) and
 * describes the operation in the OpenAPI document, so the two cannot disagree.
 */
export type Contract<
  P extends z.ZodObject = z.ZodObject,
  Q extends z.ZodObject = z.ZodObject,
  B extends z.ZodType = z.ZodType,
  R extends z.ZodType = z.ZodType,
> = {
  method: "get" | "post" | "put" | "patch" | "delete";
  /** OpenAPI form: /api/v1/users/{id} */
  path: string;
  operationId: string;
  summary: string;
  description?: string;
  tags: string[];
  /** The permission the caller needs, or "authenticated" for any signed-in principal. */
  scope: Scope | "authenticated";
  params?: P;
  query?: Q;
  body?: B;
  response: R;
  successStatus?: 200 | 201 | 202;
};

export const registry = new OpenAPIRegistry();

export const ErrorResponse = registry.register(
  "Error",
  z
    .object({
      error: z.object({
        code: z.string().openapi({ example: "validation_failed" }),
        message: z.string().openapi({ example: "Invalid request: email is required." }),
        details: z.unknown().optional(),
      }),
    })
    .openapi({ description: "Every error response has this shape." }),
);

registry.registerComponent("securitySchemes", "bearerToken", {
  type: "http",
  scheme: "bearer",
  description: "An API token created in Settings → API tokens (`mdk_…`).",
});
registry.registerComponent("securitySchemes", "sessionCookie", {
  type: "apiKey",
  in: "cookie",
  name: "better-auth.session_token",
  description: "The browser session set by signing in. Mutations also need a same-origin request.",
});

const errorResponses = {
  400: "Malformed JSON, missing or unknown fields, or invalid values; `details.fields` names each field.",
  401: "No valid session or API token.",
  403: "Authenticated, but the role lacks the required permission (or a cross-site cookie request).",
} as const;

export function defineContract<
  P extends z.ZodObject,
  Q extends z.ZodObject,
  B extends z.ZodType,
  R extends z.ZodType,
>(
  contract: Contract<P, Q, B, R> & {
    extraErrors?: Partial<Record<404 | 409 | 413 | 415 | 422, string>>;
  },
) {
  const status = contract.successStatus ?? 200;
  const errors: Record<string, string | undefined> = { ...errorResponses, ...contract.extraErrors };
  registry.registerPath({
    method: contract.method,
    path: contract.path,
    operationId: contract.operationId,
    summary: contract.summary,
    description:
      (contract.description ? contract.description + "\n\n" : "") +
      (contract.scope === "authenticated"
        ? "Any authenticated user or token."
        : `Requires the \`${contract.scope}\` permission.`),
    tags: contract.tags,
    security: [{ bearerToken: [] }, { sessionCookie: [] }],
    request: {
      ...(contract.params ? { params: contract.params } : {}),
      ...(contract.query ? { query: contract.query } : {}),
      ...(contract.body
        ? { body: { required: true, content: { "application/json": { schema: contract.body } } } }
        : {}),
    },
    responses: {
      [status]: {
        description: "Success",
        content: { "application/json": { schema: contract.response } },
      },
      ...Object.fromEntries(
        Object.entries(errors).map(([code, description]) => [
          code,
          {
            description: description ?? "",
            content: { "application/json": { schema: ErrorResponse } },
          },
        ]),
      ),
    },
  });
  return contract;
}

export { z };
