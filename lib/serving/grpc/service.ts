import * as grpc from "@grpc/grpc-js";
import type { BatchResult } from "../batcher";
import {
  encodeOutputs,
  prepareInferRequest,
  signatureMetadata,
  type PreparedRequest,
} from "../protocol";
import { newRequestId } from "../request-id";
import { parseSelector, ServingNotFoundError, ServingUnavailableError } from "../router";
import type { ServedVersion } from "../served-version";
import {
  authenticate,
  errorReply,
  failureReply,
  readiness,
  record,
  SERVER_NAME,
  SERVER_VERSION,
  type Reply,
  type ServingAppDeps,
} from "../server";
import type { ModelInferRequest, ModelInferResponse, ModelRef } from "./definition";
import {
  encodeInferOutputs,
  neutralInferRequest,
  protocolParameters,
  usesRawContents,
} from "./tensors";

/**
 * The Open Inference Protocol's gRPC service (KServe v2 `inference.GRPCInferenceService`) over
 * the same parts as the HTTP endpoint (lib/serving/server.ts): its token check, router (hot
 * swap), batcher, request validation, metrics and prediction log. Every call is answered as
 * the HTTP endpoint would answer the same request, its HTTP status mapped to a gRPC code with
 * the same message; metrics and the prediction log record that HTTP status, so a chart or an
 * alert means the same whichever protocol the requests came by.
 *
 * ServerLive and ServerReady are open like /v2/health/live and /ready (ServerReady is false
 * while the instance drains); every other call needs `authorization: Bearer <token>` metadata.
 */

/** HTTP status → gRPC status code (the protocol's mapping for these failures). */
export function grpcStatusOf(httpStatus: number): grpc.status {
  switch (httpStatus) {
    case 400:
    case 413:
    case 415:
      return grpc.status.INVALID_ARGUMENT;
    case 401:
      return grpc.status.UNAUTHENTICATED;
    case 403:
      return grpc.status.PERMISSION_DENIED;
    case 404:
      return grpc.status.NOT_FOUND;
    case 503:
      return grpc.status.UNAVAILABLE;
    default:
      return grpc.status.INTERNAL;
  }
}

/** The failed reply as a gRPC status; our error code (and Retry-After) ride in trailers. */
function statusOf(reply: Reply): grpc.ServerErrorResponse {
  const body = reply.body as { error?: string; code?: string } | undefined;
  const metadata = new grpc.Metadata();
  if (body?.code) metadata.set("modeldeck-error-code", body.code);
  const retryAfter = reply.headers?.["retry-after"];
  if (retryAfter) metadata.set("retry-after", retryAfter);
  const details = body?.error ?? `HTTP status ${reply.status}`;
  return Object.assign(new Error(details), {
    code: grpcStatusOf(reply.status),
    details,
    metadata,
  });
}

function tokenOf(metadata: grpc.Metadata): string | undefined {
  const value = metadata.get("authorization")[0];
  return typeof value === "string" ? value : value?.toString("utf8");
}

export type GrpcInferenceService = {
  implementation: grpc.UntypedServiceImplementation;
  /** Calls being answered right now (the drain waits for them). */
  inFlight: () => number;
  /**
   * Answers every call still unanswered with UNAVAILABLE at once (the drain timeout ran out);
   * their own answers, when they come, are dropped. Returns how many there were.
   */
  abandonAll: () => number;
};

const SHUTTING_DOWN = {
  code: grpc.status.UNAVAILABLE,
  details: "This serving instance is shutting down; retry the call.",
} as const;

export function createGrpcInferenceService(
  deps: ServingAppDeps,
  /** Whether the instance is draining (shared with the HTTP handler). */
  draining: () => boolean,
): GrpcInferenceService {
  let inFlight = 0;
  // The answer functions of unanswered calls. grpc-js's forceShutdown does not cut calls in
  // flight (1.14, without channelz), so the drain ends them through these.
  const unanswered = new Set<() => void>();

  /** Runs one call: a failed Reply becomes its status, a bug an INTERNAL, never a crash. */
  function unary<Req, Res>(
    name: string,
    open: boolean,
    /** `afterSend(fn)`: run fn once the answer is written (the call's bookkeeping). */
    run: (request: Req, afterSend: (fn: () => void) => void) => Promise<Res | Reply>,
  ): grpc.handleUnaryCall<Req, Res> {
    return (call, callback) => {
      inFlight++;
      let answered = false;
      const abandon = () => {
        answered = true;
        callback(SHUTTING_DOWN);
      };
      unanswered.add(abandon);
      const respond: typeof callback = (error, value) => {
        unanswered.delete(abandon);
        if (answered) return;
        answered = true;
        callback(error, value);
      };
      let after: (() => void) | null = null;
      const answer = async (): Promise<Res | Reply> => {
        if (!open) {
          const denied = await authenticate(deps, {
            headers: { authorization: tokenOf(call.metadata) },
          });
          if (denied) return denied;
        }
        return run(call.request, (fn) => (after = fn));
      };
      answer()
        .then(
          (result) => {
            try {
              if (isReply(result)) respond(statusOf(result));
              else respond(null, result);
            } finally {
              // Also when writing throws: the bookkeeping releases the version the call held.
              (after as (() => void) | null)?.();
            }
          },
          (error: unknown) => {
            deps.log.error({ err: error, rpc: name }, "unhandled error in the gRPC service");
            respond({
              code: grpc.status.INTERNAL,
              details: "Internal error; it has been logged.",
            });
          },
        )
        .finally(() => inFlight--);
    };
  }

  async function acquireFor(ref: ModelRef): Promise<ServedVersion | Reply> {
    try {
      return await deps.router.acquire(ref.name ?? "", parseSelector(ref.version || undefined));
    } catch (error) {
      if (error instanceof ServingNotFoundError) {
        return errorReply(404, "model_not_found", error.message);
      }
      if (error instanceof ServingUnavailableError) return failureReply(deps, error, "", null);
      throw error;
    }
  }

  const implementation: grpc.UntypedServiceImplementation = {
    ServerLive: unary("ServerLive", true, async () => ({ live: true })),
    ServerReady: unary("ServerReady", true, async () => ({
      ready: readiness(deps, draining()).status === 200,
    })),
    ServerMetadata: unary("ServerMetadata", false, async () => ({
      name: SERVER_NAME,
      version: SERVER_VERSION,
      extensions: [],
    })),
    // As /v2/models/{name}/ready: a model that does not exist or cannot answer is "not ready".
    ModelReady: unary<ModelRef, { ready: boolean }>("ModelReady", false, async (ref) => {
      const served = await acquireFor(ref);
      if (isReply(served)) return { ready: false };
      served.release();
      return { ready: true };
    }),
    ModelMetadata: unary<ModelRef, unknown>("ModelMetadata", false, async (ref) => {
      const served = await acquireFor(ref);
      if (isReply(served)) return served;
      try {
        const meta = signatureMetadata(served.signature);
        return {
          name: ref.name,
          versions: [String(served.id.version)],
          platform: "onnx_onnxv1",
          inputs: meta.inputs,
          outputs: meta.outputs,
        };
      } finally {
        served.release();
      }
    }),
    ModelInfer: unary<ModelInferRequest, ModelInferResponse>(
      "ModelInfer",
      false,
      (request, afterSend) => infer(request, afterSend),
    ),
  };

  /** ModelInfer: the HTTP endpoint's `infer`, for a protocol message instead of a JSON body. */
  async function infer(
    request: ModelInferRequest,
    afterSend: (fn: () => void) => void,
  ): Promise<ModelInferResponse | Reply> {
    const started = performance.now();
    const requestId = newRequestId();
    const model = request.model_name ?? "";
    const selector = parseSelector(request.model_version || undefined);
    const alias = selector.kind === "alias" ? selector.alias : null;
    let served: ServedVersion | null = null;
    let addressed: { versionId: string; version: number } | null = null;
    let prepared: PreparedRequest | null = null;
    let result: BatchResult | null = null;
    let response: ModelInferResponse | null = null;
    let reply: Reply;
    try {
      try {
        served = await deps.router.acquire(model, selector);
      } catch (error) {
        if (!(error instanceof ServingNotFoundError)) {
          if (error instanceof ServingUnavailableError) addressed = error.addressed;
          throw error;
        }
        addressed = error.addressed;
        reply = errorReply(404, "model_not_found", error.message);
      }
      if (served) {
        prepared = prepareInferRequest(neutralInferRequest(request), served.signature);
        result = await served.infer(prepared.inputs, prepared.batchSize ?? 1);
        const parameters = protocolParameters(prepared.parameters);
        response = {
          model_name: model,
          model_version: String(served.id.version),
          id: prepared.id ?? requestId,
          ...(parameters ? { parameters } : {}),
          ...encodeInferOutputs(
            result.outputs,
            prepared.requestedOutputs,
            usesRawContents(request),
          ),
        };
        // What the prediction log keeps of a sampled answer: the HTTP form of the outputs,
        // built only if this request is sampled.
        const { outputs } = result;
        const requested = prepared.requestedOutputs;
        reply = {
          status: 200,
          body: {
            get outputs() {
              return encodeOutputs(outputs, requested);
            },
          },
        };
      }
    } catch (error) {
      reply = failureReply(deps, error, model, served);
    }
    const outcome = reply!;
    // Counted and logged once the answer is on its way, as the HTTP endpoint does it.
    afterSend(() => {
      try {
        const inputs = prepared?.inputs;
        record(deps, { model, requestId, started }, alias, performance.now(), {
          served,
          addressed,
          prepared,
          // The sampled inputs as the HTTP form would have logged them.
          body: {
            get inputs() {
              return inputs ? encodeOutputs(inputs, null) : undefined;
            },
          },
          result,
          reply: outcome,
        });
      } catch (error) {
        deps.log.error({ err: error, model }, "could not record a gRPC inference");
      }
    });
    return response ?? outcome;
  }

  return {
    implementation,
    inFlight: () => inFlight,
    abandonAll: () => {
      const calls = [...unanswered];
      unanswered.clear();
      for (const abandon of calls) abandon();
      return calls.length;
    },
  };
}

function isReply(value: unknown): value is Reply {
  return (
    typeof value === "object" &&
    value !== null &&
    "status" in value &&
    typeof (value as { status: unknown }).status === "number"
  );
}
