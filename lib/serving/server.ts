import http from "node:http";
import { readPredictions } from "../onnx/readout";
import type { Logger } from "../log";
import { QueueFullError, type BatchResult } from "./batcher";
import {
  binaryOutputsOf,
  encodeOutputsWithBinary,
  loggedBinaryInputs,
  loggedBinaryOutputs,
  needsBinaryReader,
  readBinaryInferBody,
  writeBinaryResponse,
} from "./binary-body";
import type { ServingMetrics } from "./metrics";
import type { PredictionLogWriter } from "./prediction-log";
import { newRequestId } from "./request-id";
import {
  encodeOutputs,
  encodeSimpleOutputs,
  inferResponseText,
  InferenceInputError,
  prepareInferRequest,
  prepareSimpleRequest,
  signatureMetadata,
  type PreparedRequest,
} from "./protocol";
import {
  parseSelector,
  ServingNotFoundError,
  ServingUnavailableError,
  type ModelRouter,
  type VersionSelector,
} from "./router";
import type { ServedVersion } from "./served-version";

/**
 * The data plane's HTTP surface: Open Inference Protocol v2 (KServe / Triton REST) plus a
 * simple JSON form for tabular models. Plain node:http with a hand-written router on purpose:
 * a dozen fixed routes, and every microsecond a framework adds is paid on each prediction.
 *
 *   GET  /v2/health/live | /v2/health/ready | /metrics         (open, for probes and scrapers;
 *                                                              ready is 503 while draining)
 *   GET  /livez | /readyz                                      the same probes under the paths
 *                                                              every ModelDeck role answers
 *   GET  /v2                                                   server metadata
 *   GET  /v2/models/{name}[/versions/{v}]                      model metadata
 *   GET  /v2/models/{name}[/versions/{v}]/ready                model readiness
 *   POST /v2/models/{name}[/versions/{v}]/infer                OIP inference (tensors, as JSON or
 *                                                              binary: binary-body.ts)
 *   POST /v2/models/{name}[/versions/{v}]/predict              simple form: {"rows": [...]}
 *
 * `{v}` is a version number or an alias name; without it the `production` alias answers.
 * A model, alias or version that does not exist is a 404 (`model_not_found`); one that exists
 * but cannot answer here (its load failed, or it is still loading) is a 503
 * (`model_unavailable`, naming the version and why, with `Retry-After` when a retry is planned),
 * and its ready endpoint says `ready: false` with that `reason`.
 */
export const SERVER_NAME = "modeldeck";
export const SERVER_VERSION = "0.1.0";

export type ServingAppDeps = {
  router: ModelRouter;
  metrics: ServingMetrics;
  predictionLog: PredictionLogWriter | null;
  log: Logger;
  /**
   * Whether a bearer token may call inference; null = auth off. Answers synchronously when it
   * can (a cached token), so the predict path does not wait a turn for it.
   */
  authorize: ((token: string) => boolean | Promise<boolean>) | null;
  maxBodyBytes: number;
  /** Extra facts for /v2/health/ready (e.g. whether the database listener is up). */
  readiness?: () => Record<string, unknown>;
  /** The /metrics text; default this server's registry (a cluster worker asks its primary). */
  metricsText?: () => Promise<string>;
};

/** A request path, parsed once per distinct URL (see routeOf). */
type Route =
  | { kind: "other"; path: string }
  | { kind: "bad_path"; path: string }
  | {
      kind: "model";
      path: string;
      model: string;
      selector: VersionSelector;
      action: "infer" | "predict" | "ready" | undefined;
    };

/**
 * Clients call the same few URLs over and over: the regex, the URL decoding and the selector
 * parse are done once per distinct URL (short ones, a bounded number) instead of per request.
 */
const routes = new Map<string, Route>();
const MAX_CACHED_ROUTES = 1024;
const MAX_CACHED_URL_LENGTH = 512;

function routeOf(rawUrl: string): Route {
  const cached = routes.get(rawUrl);
  if (cached) return cached;
  const route = parseRoute(rawUrl);
  if (rawUrl.length <= MAX_CACHED_URL_LENGTH) {
    if (routes.size >= MAX_CACHED_ROUTES) routes.clear();
    routes.set(rawUrl, route);
  }
  return route;
}

function parseRoute(rawUrl: string): Route {
  const q = rawUrl.indexOf("?");
  const path = (q === -1 ? rawUrl : rawUrl.slice(0, q)).replace(/\/+$/, "") || "/";
  const match = MODEL_PATH.exec(path);
  if (!match) return { kind: "other", path };
  try {
    const model = decodeURIComponent(match[1]!);
    const selectorText = match[2] === undefined ? undefined : decodeURIComponent(match[2]);
    const action = match[3] as "infer" | "predict" | "ready" | undefined;
    return { kind: "model", path, model, selector: parseSelector(selectorText), action };
  } catch {
    return { kind: "bad_path", path };
  }
}

export type Reply = {
  status: number;
  body: unknown;
  /** The body already serialized as JSON (the predict path builds its answer as text). */
  text?: string;
  headers?: Record<string, string>;
  /** Bookkeeping to do once the response is written (metrics, the prediction log). */
  afterSend?: (writtenAt: number) => void;
  /** Binary tensor data extension: output bytes sent after the JSON `body` (see binary-body.ts). */
  binaryTensors?: Uint8Array[];
};

class HttpError extends Error {
  constructor(
    readonly status: number,
    readonly code: string,
    message: string,
    readonly headers?: Record<string, string>,
  ) {
    super(message);
  }
}

const MODEL_PATH = /^\/v2\/models\/([^/]+)(?:\/versions\/([^/]+))?(?:\/(infer|predict|ready))?$/;

export function createServingHandler(deps: ServingAppDeps) {
  let inFlight = 0;
  let draining = false;
  const handler = (req: http.IncomingMessage, res: http.ServerResponse) => {
    inFlight++;
    const started = performance.now();
    const requestId = newRequestId();
    // Draining: every answer asks the client to close its connection, so keep-alive clients
    // (a proxy's pool, a Service's pinned TCP connection) reconnect to an instance that stays.
    if (draining) res.setHeader("connection", "close");
    if (req.method === "GET" && (req.url === "/metrics" || req.url?.startsWith("/metrics?"))) {
      (deps.metricsText ?? (() => deps.metrics.registry.metrics()))()
        .then(
          (text) => {
            res.writeHead(200, { "content-type": deps.metrics.registry.contentType });
            res.end(text);
          },
          (error: unknown) => {
            deps.log.error({ err: error }, "cannot render metrics");
            send(res, errorReply(500, "internal", "Cannot render metrics."), requestId);
          },
        )
        // A scrape is a request too: without this, one scrape made shutdown wait its full
        // drain deadline for a request that had long been answered.
        .finally(() => inFlight--);
      return;
    }
    // One `then` and no further promise per request (each costs an allocation and a turn).
    handle(deps, req, requestId, started, draining).then(
      (reply) => {
        try {
          send(res, reply, requestId);
        } catch (error) {
          unfinished(deps, req, res, error);
        }
        // Also when the write threw: afterSend releases the version the request held.
        if (reply.afterSend) defer(reply.afterSend, performance.now(), req, res);
        else inFlight--;
      },
      (error: unknown) => {
        inFlight--;
        // Only a bug gets here: every expected failure is a Reply.
        deps.log.error({ err: error, url: req.url }, "unhandled error in the serving handler");
        try {
          send(res, errorReply(500, "internal", "Internal error; it has been logged."), requestId);
        } catch (sendError) {
          unfinished(deps, req, res, sendError);
        }
      },
    );
  };

  // Bookkeeping (metrics, the prediction log) waits until the answers that became ready
  // together have all been written, so a batch's responses leave back to back instead of
  // each waiting for the bookkeeping of the one before. It runs in the same turn, right
  // after them; the latency it records is taken when each answer was written.
  type Deferred = {
    run: (writtenAt: number) => void;
    at: number;
    req: http.IncomingMessage;
    res: http.ServerResponse;
  };
  let deferred: Deferred[] = [];
  const runDeferred = () => {
    const due = deferred;
    deferred = [];
    for (const d of due) {
      try {
        d.run(d.at);
      } catch (error) {
        unfinished(deps, d.req, d.res, error);
      }
      inFlight--;
    }
  };
  const defer = (
    run: Deferred["run"],
    at: number,
    req: http.IncomingMessage,
    res: http.ServerResponse,
  ) => {
    if (deferred.length === 0) queueMicrotask(runDeferred);
    deferred.push({ run, at, req, res });
  };
  return Object.assign(handler, {
    inFlight: () => inFlight,
    /** Starts the graceful stop: not ready from now on, and `Connection: close` on answers. */
    startDraining: () => {
      draining = true;
    },
    draining: () => draining,
  });
}

export type ServingHandler = ReturnType<typeof createServingHandler>;

/** Writing the answer or its bookkeeping failed: a bug, logged, never a crash. */
function unfinished(
  deps: ServingAppDeps,
  req: http.IncomingMessage,
  res: http.ServerResponse,
  error: unknown,
): void {
  deps.log.error({ err: error, url: req.url }, "could not finish a serving response");
  res.destroy();
}

function send(res: http.ServerResponse, reply: Reply, requestId: string) {
  if (res.headersSent || res.destroyed) return;
  // The body as a string: node:http then sends headers and body in one write (a Buffer
  // body goes out as a second chunk of a writev). Headers as a flat list, which node:http
  // takes without building and walking an object on every response.
  const body = reply.text ?? (reply.body === undefined ? "" : JSON.stringify(reply.body));
  const headers = [
    "content-type",
    "application/json",
    "content-length",
    String(Buffer.byteLength(body)),
    "cache-control",
    "no-store",
    "x-request-id",
    requestId,
  ];
  if (reply.headers) for (const [k, v] of Object.entries(reply.headers)) headers.push(k, v);
  if (reply.binaryTensors) {
    // Its own content type and length; the rest of the headers as they are.
    writeBinaryResponse(res, reply.status, body, reply.binaryTensors, headers.slice(4));
    return;
  }
  res.writeHead(reply.status, headers);
  res.end(body);
}

/** OIP error body: `{"error": message}`; `code` (and any `extra` fields) are ours, for programs. */
export function errorReply(
  status: number,
  code: string,
  message: string,
  headers?: Record<string, string>,
  extra?: Record<string, unknown>,
): Reply {
  return { status, body: { error: message, code, ...extra }, headers };
}

/** 503 model_unavailable: the version exists but cannot answer here; says which and why. */
function unavailableReply(error: ServingUnavailableError): Reply {
  return errorReply(
    503,
    "model_unavailable",
    error.message,
    error.retryAfterSeconds === null
      ? undefined
      : { "retry-after": String(error.retryAfterSeconds) },
    { version: String(error.version), reason: error.reason },
  );
}

async function handle(
  deps: ServingAppDeps,
  req: http.IncomingMessage,
  requestId: string,
  started: number,
  draining: boolean,
): Promise<Reply> {
  const route = routeOf(req.url ?? "/");
  const path = route.path;
  const method = req.method ?? "GET";

  // Probes and scrapers stay open (restrict them at the network level if needed).
  if (method === "GET" && (path === "/v2/health/live" || path === "/livez")) {
    return { status: 200, body: { live: true } };
  }
  if (method === "GET" && (path === "/v2/health/ready" || path === "/readyz")) {
    return readiness(deps, draining);
  }

  let denied = authenticate(deps, req);
  if (denied instanceof Promise) denied = await denied;
  if (denied) {
    req.resume();
    return denied;
  }

  if (path === "/v2") {
    if (method !== "GET") return methodNotAllowed(method, path, "GET");
    return {
      status: 200,
      body: { name: SERVER_NAME, version: SERVER_VERSION, extensions: ["binary_tensor_data"] },
    };
  }
  if (route.kind === "other") {
    req.resume();
    return errorReply(404, "not_found", `No route for ${method} ${path}.`);
  }
  if (route.kind === "bad_path") {
    req.resume();
    return errorReply(
      400,
      "bad_path",
      "The model name or version in the path is not valid URL encoding.",
    );
  }
  const { model, selector, action } = route;

  if (action === undefined || action === "ready") {
    if (method !== "GET") return methodNotAllowed(method, path, "GET");
    let served: ServedVersion;
    try {
      served = await deps.router.acquire(model, selector);
    } catch (error) {
      if (error instanceof ServingNotFoundError) {
        if (action === "ready") {
          return { status: 200, body: { name: model, ready: false, reason: error.message } };
        }
        return errorReply(404, "model_not_found", error.message);
      }
      if (error instanceof ServingUnavailableError) {
        if (action === "ready") {
          return {
            status: 200,
            body: {
              name: model,
              version: String(error.version),
              ready: false,
              reason: error.message,
            },
          };
        }
        return unavailableReply(error);
      }
      throw error;
    }
    try {
      if (action === "ready") {
        return {
          status: 200,
          body: { name: model, version: String(served.id.version), ready: true },
        };
      }
      const meta = signatureMetadata(served.signature);
      return {
        status: 200,
        body: {
          name: model,
          versions: [String(served.id.version)],
          platform: "onnx_onnxv1",
          inputs: meta.inputs,
          outputs: meta.outputs,
        },
      };
    } finally {
      served.release();
    }
  }

  if (method !== "POST") return methodNotAllowed(method, path, "POST");
  return infer(deps, req, { model, selector, simple: action === "predict", requestId, started });
}

async function infer(
  deps: ServingAppDeps,
  req: http.IncomingMessage,
  call: {
    model: string;
    selector: ReturnType<typeof parseSelector>;
    simple: boolean;
    requestId: string;
    started: number;
  },
): Promise<Reply> {
  const alias = call.selector.kind === "alias" ? call.selector.alias : null;
  let served: ServedVersion | null = null;
  // A registry version the request named that is not served: its 404 or 503 counts against it.
  let addressed: { versionId: string; version: number } | null = null;
  let prepared: PreparedRequest | null = null;
  let body: unknown;
  let result: BatchResult | null = null;
  let reply: Reply;
  try {
    try {
      served =
        deps.router.acquireLoaded(call.model, call.selector) ??
        (await deps.router.acquire(call.model, call.selector));
    } catch (error) {
      if (error instanceof ServingNotFoundError) {
        req.resume();
        addressed = error.addressed;
        throw new HttpError(404, "model_not_found", error.message);
      }
      if (error instanceof ServingUnavailableError) {
        req.resume();
        addressed = error.addressed;
      }
      throw error;
    }
    if (needsBinaryReader(req)) {
      if (call.simple) {
        req.resume();
        throw new HttpError(
          400,
          "invalid_request",
          "The simple form (/predict) takes a plain JSON body; send binary tensors or compressed bodies to /infer.",
        );
      }
      body = await readBinaryInferBody(req, deps.maxBodyBytes);
    } else body = await readJsonBody(req, deps.maxBodyBytes);
    prepared = call.simple
      ? prepareSimpleRequest(body, served.signature)
      : prepareInferRequest(body, served.signature);
    const binaryOutputs = call.simple ? null : binaryOutputsOf(body);
    result = await served.infer(prepared.inputs, prepared.batchSize ?? 1);
    const version = servedVersionLabel(served);
    const id = prepared.id ?? call.requestId;
    const encoded = binaryOutputs
      ? encodeOutputsWithBinary(result.outputs, prepared.requestedOutputs, binaryOutputs)
      : null;
    reply = {
      status: 200,
      headers: { "x-model-version": version },
      body: call.simple
        ? {
            model_name: call.model,
            model_version: version,
            id,
            predictions: encodeSimpleOutputs(
              result.outputs,
              prepared.requestedOutputs,
              prepared.batchSize ?? 1,
            ),
          }
        : encoded
          ? {
              model_name: call.model,
              model_version: version,
              id,
              ...(prepared.parameters ? { parameters: prepared.parameters } : {}),
              outputs: encoded.outputs,
            }
          : undefined,
    };
    if (encoded?.tensors.length) reply.binaryTensors = encoded.tensors;
    if (reply.body === undefined) {
      // Written as text, not JSON.stringify of arrays made from the typed arrays: about
      // 2 µs less per response (bench/serving profiles).
      reply.text = inferResponseText(
        call.model,
        version,
        id,
        prepared.parameters,
        result.outputs,
        prepared.requestedOutputs,
      );
    }
  } catch (error) {
    reply = failureReply(deps, error, call.model, served);
  }
  // Counted and logged once the answer is on its way: the client does not wait for its own
  // bookkeeping, and the latency recorded is up to the response written, as the log says.
  reply.afterSend = (writtenAt) =>
    record(deps, call, alias, writtenAt, { served, addressed, prepared, body, result, reply });
  return reply;
}

export function record(
  deps: ServingAppDeps,
  call: { model: string; requestId: string; started: number },
  alias: string | null,
  writtenAt: number,
  outcome: {
    served: ServedVersion | null;
    addressed: { versionId: string; version: number } | null;
    prepared: PreparedRequest | null;
    body: unknown;
    result: BatchResult | null;
    reply: Reply;
  },
): void {
  const { metrics } = deps;
  const { served, addressed, prepared, body, result, reply } = outcome;
  const latencyMs = writtenAt - call.started;
  const modelLabel = served ? served.id.model : deps.router.hasModel(call.model) ? call.model : "";
  // Requests that reached no version (unknown alias or number) carry version "" / null: they
  // count for the model (rollup version 0), not for any version.
  const version = served?.id ?? addressed;
  const versionLabel = version ? String(version.version) : "";
  if (served) {
    const m = metrics.forServed(served);
    if (reply.status === 200) m.ok.inc();
    else
      metrics.requests.inc({
        model: modelLabel,
        version: versionLabel,
        status: String(reply.status),
      });
    m.requestDuration.observe(latencyMs / 1000);
    if (result) {
      m.queueDuration.observe(result.queueMs / 1000);
      // Per onnxruntime call, not per request: one observation per batch (and two fewer
      // prom-client observes, a few µs, on most requests under load).
      if (result.firstInBatch) {
        m.computeDuration.observe(result.computeMs / 1000);
        m.batchSize.observe(result.batchRows);
      }
    }
    served.release();
  } else {
    metrics.requests.inc({
      model: modelLabel,
      version: versionLabel,
      status: String(reply.status),
    });
  }
  const modelId = served?.id.modelId ?? deps.router.modelId(call.model);
  if (deps.predictionLog && modelId) {
    const sample =
      reply.status === 200 && served && Math.random() < deps.router.sampleRate(call.model);
    deps.predictionLog.record({
      requestId: call.requestId,
      modelId,
      model: call.model,
      versionId: version?.versionId ?? null,
      version: version?.version ?? null,
      alias,
      status: reply.status,
      latencyMs,
      queueMs: result?.queueMs ?? null,
      computeMs: result?.computeMs ?? null,
      batchSize: result?.batchRows ?? null,
      rows: prepared?.batchSize ?? (prepared ? 1 : null),
      inputs: sample ? inputsPayloadOf(body, prepared) : null,
      outputs: sample ? outputsPayloadOf(reply, result, prepared) : null,
      predicted: predictedOf(served, result, prepared),
      error: reply.status === 200 ? null : errorMessage(reply),
    });
  }
}

export function failureReply(
  deps: ServingAppDeps,
  error: unknown,
  model: string,
  served: ServedVersion | null,
): Reply {
  if (error instanceof HttpError)
    return errorReply(error.status, error.code, error.message, error.headers);
  if (error instanceof ServingUnavailableError) return unavailableReply(error);
  if (error instanceof InferenceInputError)
    return errorReply(error.status, error.code, error.message);
  if (error instanceof QueueFullError) {
    if (served) deps.metrics.queueRejections.inc({ model, version: String(served.id.version) });
    return errorReply(503, "queue_full", error.message, { "retry-after": "1" });
  }
  deps.log.error({ err: error, model, version: served?.id.version }, "inference failed");
  return errorReply(
    500,
    "inference_failed",
    `The model failed on this request: ${error instanceof Error ? error.message : String(error)}`,
  );
}

function errorMessage(reply: Reply): string | null {
  const body = reply.body as { error?: unknown } | undefined;
  // Postgres text cannot hold NUL, and a malformed body's error message may quote one.
  return typeof body?.error === "string"
    ? body.error.slice(0, 1000).replaceAll("\0", "\uFFFD")
    : null;
}

/** Every answered request's prediction per row (JSON array text), for live accuracy. */
function predictedOf(
  served: ServedVersion | null,
  result: BatchResult | null,
  prepared: PreparedRequest | null,
): string | null {
  if (!served?.readout || !result || !prepared) return null;
  const predictions = readPredictions(served.readout, result.outputs, prepared.batchSize ?? 1);
  return predictions ? JSON.stringify(predictions) : null;
}

/** The `x-model-version` header and model_version field of a served version. */
const versionLabels = new WeakMap<ServedVersion, string>();
function servedVersionLabel(served: ServedVersion): string {
  let label = versionLabels.get(served);
  if (label === undefined) versionLabels.set(served, (label = String(served.id.version)));
  return label;
}

/** What the prediction log keeps of a sampled request: its inputs / outputs, if small. */
const MAX_LOGGED_PAYLOAD_CHARS = 64 * 1024;
function inputsPayloadOf(body: unknown, prepared: PreparedRequest | null): string | null {
  // A binary request's inputs are logged as the JSON form would carry them.
  const binary = loggedBinaryInputs(body, prepared, MAX_LOGGED_PAYLOAD_CHARS);
  return binary === undefined ? payloadOf(body) : binary && payloadOf({ inputs: binary });
}
function outputsPayloadOf(
  reply: Reply,
  result: BatchResult | null,
  prepared: PreparedRequest | null,
): string | null {
  if (!result || !prepared) return payloadOf(reply.body, "outputs");
  if (reply.text !== undefined) {
    // The answer went out as text: its outputs again as values, only for the sampled few.
    return payloadOf(
      { outputs: encodeOutputs(result.outputs, prepared.requestedOutputs) },
      "outputs",
    );
  }
  if (!reply.binaryTensors) return payloadOf(reply.body, "outputs");
  // A binary response's outputs are logged as the JSON form would carry them.
  const outputs = loggedBinaryOutputs(
    result.outputs,
    prepared.requestedOutputs,
    MAX_LOGGED_PAYLOAD_CHARS,
  );
  return outputs && payloadOf({ outputs }, "outputs");
}
function payloadOf(body: unknown, key?: string): string | null {
  if (!body || typeof body !== "object") return null;
  const obj = body as Record<string, unknown>;
  const value = key ? obj[key] : (obj.inputs ?? obj.rows);
  if (value === undefined) return null;
  const text = JSON.stringify(value);
  return text.length <= MAX_LOGGED_PAYLOAD_CHARS ? text : null;
}

function methodNotAllowed(method: string, path: string, allowed: string): Reply {
  return errorReply(
    405,
    "method_not_allowed",
    `${method} is not allowed on ${path}; use ${allowed}.`,
    {
      allow: allowed,
    },
  );
}

export function readiness(deps: ServingAppDeps, draining: boolean): Reply {
  // A draining instance fails readiness first, so a load balancer stops sending it requests
  // while it still answers the ones it has.
  const ready = !draining && deps.router.ready;
  return {
    status: ready ? 200 : 503,
    body: {
      ready,
      ...(draining ? { draining: true } : {}),
      models: deps.router.snapshot(),
      ...deps.readiness?.(),
    },
  };
}

/** A refusal, null when the request may go on, or a promise of either (token not cached). */
export function authenticate(
  deps: ServingAppDeps,
  req: Pick<http.IncomingMessage, "headers">,
): Reply | null | Promise<Reply | null> {
  if (!deps.authorize) return null;
  const token = bearerToken(req.headers.authorization);
  if (token === null) {
    return errorReply(
      401,
      "unauthenticated",
      "Send an API token as `Authorization: Bearer <token>`.",
      {
        "www-authenticate": "Bearer",
      },
    );
  }
  let ok: boolean | Promise<boolean>;
  try {
    ok = deps.authorize(token);
  } catch (error) {
    return authUnavailable(deps, error);
  }
  return ok instanceof Promise
    ? ok.then(authAnswer, (error: unknown) => authUnavailable(deps, error))
    : authAnswer(ok);
}

/** The last Authorization header seen and its token: a client sends the same one each time. */
let lastAuthorization = "";
let lastToken: string | null = null;

function bearerToken(header: string | undefined): string | null {
  if (header === undefined) return null;
  if (header === lastAuthorization) return lastToken;
  const match = /^Bearer\s+(\S+)$/i.exec(header);
  lastAuthorization = header;
  lastToken = match ? match[1]! : null;
  return lastToken;
}

function authAnswer(ok: boolean): Reply | null {
  return ok
    ? null
    : errorReply(401, "unauthenticated", "The API token is invalid, expired or revoked.", {
        "www-authenticate": "Bearer",
      });
}

function authUnavailable(deps: ServingAppDeps, error: unknown): Reply {
  deps.log.warn({ err: error }, "cannot check an API token (database unreachable?)");
  return errorReply(
    503,
    "auth_unavailable",
    "Cannot check the API token right now; retry shortly.",
    {
      "retry-after": "1",
    },
  );
}

function readJsonBody(req: http.IncomingMessage, maxBytes: number): Promise<unknown> {
  const declared = Number(req.headers["content-length"] ?? NaN);
  if (declared > maxBytes) {
    req.resume();
    return Promise.reject(
      new HttpError(
        413,
        "payload_too_large",
        `The body is ${declared} bytes; the limit is ${maxBytes}.`,
      ),
    );
  }
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    let failed = false;
    req.on("data", (chunk: Buffer) => {
      if (failed) return;
      size += chunk.length;
      if (size > maxBytes) {
        failed = true;
        reject(
          new HttpError(
            413,
            "payload_too_large",
            `The body is larger than the limit of ${maxBytes} bytes.`,
          ),
        );
        return;
      }
      chunks.push(chunk);
    });
    req.on("error", (error) => {
      if (!failed)
        reject(new HttpError(400, "bad_request", `Could not read the body: ${error.message}`));
      failed = true;
    });
    req.on("end", () => {
      if (failed) return;
      const text =
        chunks.length === 1 ? chunks[0]!.toString("utf8") : Buffer.concat(chunks).toString("utf8");
      if (text.trim() === "") {
        reject(
          new HttpError(400, "bad_request", "The body is empty; send a JSON inference request."),
        );
        return;
      }
      try {
        resolve(JSON.parse(text));
      } catch (error) {
        reject(
          new HttpError(400, "malformed_json", `Malformed JSON: ${(error as Error).message}.`),
        );
      }
    });
  });
}
