/**
 * The Open Inference Protocol's binary tensor data extension over HTTP (Triton's
 * `binary_tensor_data`, which the Triton and KServe HTTP clients speak in their binary mode).
 *
 * Request: the body is the JSON inference request followed by the raw bytes of every input whose
 * `parameters.binary_data_size` is set, in the order of `inputs`; the
 * `Inference-Header-Content-Length` header gives the JSON's length in bytes. Such an input has no
 * `data`: it gets a view of its bytes, which prepareInferRequest decodes (tensor-bytes.ts).
 * Response: an output is sent as raw bytes when its `parameters.binary_data` is true, or when the
 * request's `parameters.binary_data_output` is true and the output does not say false; then the
 * body is the JSON response (such outputs carry `parameters.binary_data_size` instead of `data`)
 * followed by their bytes, in the order of `outputs`, with the same header.
 *
 * A `Content-Encoding` of gzip or deflate on the request body is undone first (what the clients'
 * request compression sends); responses are not compressed.
 *
 * The JSON-only path (server.ts) never comes here: a request does only when it carries the header,
 * a Content-Encoding, or an octet-stream Content-Type; and a response only when an output is
 * asked for as binary.
 */
import type http from "node:http";
import { promisify } from "node:util";
import zlib from "node:zlib";
import { InferenceInputError } from "./inference-error";
import {
  encodeOutputs,
  oipDatatypeOf,
  type HostTensor,
  type OipDatatype,
  type PreparedRequest,
  type TensorData,
} from "./protocol";
import { encodeTensorBytes } from "./tensor-bytes";

export const INFERENCE_HEADER = "inference-header-content-length";
const HEADER_DISPLAY = "Inference-Header-Content-Length";

const gunzip = promisify(zlib.gunzip);
const inflate = promisify(zlib.inflate);

function refuse(
  code: string,
  message: string,
  details?: Record<string, unknown>,
  status: 400 | 413 | 415 = 400,
): never {
  throw new InferenceInputError(status, code, message, details);
}

function isPlainObject(v: unknown): v is Record<string, unknown> {
  return typeof v === "object" && v !== null && !Array.isArray(v);
}

/** True when the request must be read here rather than as a plain JSON body. */
export function needsBinaryReader(req: http.IncomingMessage): boolean {
  const h = req.headers;
  return (
    h[INFERENCE_HEADER] !== undefined ||
    h["content-encoding"] !== undefined ||
    (h["content-type"]?.startsWith("application/octet-stream") ?? false)
  );
}

/** Bodies parsed from a binary request: their inputs' data may be raw bytes. */
const binaryBodies = new WeakSet<object>();

/**
 * Reads an inference request that may use the binary extension or a Content-Encoding, at most
 * `maxBytes` (before and after decompression), and returns the JSON request with each binary
 * input's `data` set to a view of its bytes. Every refusal is an InferenceInputError naming
 * what is wrong.
 */
export async function readBinaryInferBody(
  req: http.IncomingMessage,
  maxBytes: number,
): Promise<unknown> {
  const encoding = (req.headers["content-encoding"] ?? "identity").trim().toLowerCase();
  if (encoding !== "identity" && encoding !== "gzip" && encoding !== "deflate") {
    req.resume();
    refuse(
      "unsupported_encoding",
      `Content-Encoding "${encoding}" is not supported; send the body uncompressed, gzip or deflate.`,
      { encoding },
      415,
    );
  }
  const headerValue = req.headers[INFERENCE_HEADER];
  const headerText = Array.isArray(headerValue) ? headerValue.join(", ") : headerValue;
  // Where the binary part will start, when known now: the body is placed so that it starts on
  // an 8-byte boundary and the tensors decode as views instead of copies.
  const binaryStart =
    encoding === "identity" && headerText !== undefined && /^\d+$/.test(headerText.trim())
      ? Number(headerText.trim())
      : null;
  let body = await readBytes(req, maxBytes, binaryStart);
  if (encoding !== "identity") body = await decompress(body, encoding, maxBytes);
  if (headerText === undefined) {
    if (req.headers["content-type"]?.startsWith("application/octet-stream")) {
      refuse(
        "missing_header_length",
        `An application/octet-stream body needs the ${HEADER_DISPLAY} header giving the length in bytes of the JSON request at its start.`,
      );
    }
    return parseJson(body, body.length, "The body");
  }
  return splitBinaryBody(body, headerText);
}

/**
 * The JSON request at the start of `body` (its length given by the header), with each input that
 * has `parameters.binary_data_size` given a view of its bytes as `data`. Checks that the sizes
 * add up to exactly the bytes after the JSON.
 */
export function splitBinaryBody(body: Buffer, headerText: string): unknown {
  const text = headerText.trim();
  const jsonLength = /^\d+$/.test(text) ? Number(text) : NaN;
  if (!Number.isSafeInteger(jsonLength)) {
    refuse(
      "bad_header_length",
      `${HEADER_DISPLAY} must be the JSON request's length in bytes (a non-negative integer), got "${text.slice(0, 40)}".`,
    );
  }
  if (jsonLength > body.length) {
    refuse(
      "bad_header_length",
      `${HEADER_DISPLAY} is ${jsonLength}, but the body has only ${body.length} bytes.`,
      { headerLength: jsonLength, bodyLength: body.length },
    );
  }
  if (jsonLength === 0) {
    // Triton's "raw binary request": the whole body is one input's bytes, without JSON.
    refuse(
      "bad_header_length",
      `${HEADER_DISPLAY} is 0 (a raw request without JSON), which is not supported; send the JSON request first and give its length in bytes.`,
    );
  }
  const request = parseJson(body, jsonLength, `The JSON request (the first ${jsonLength} bytes)`);
  const binaryLength = body.length - jsonLength;
  let at = jsonLength;
  const inputs = isPlainObject(request) ? request.inputs : undefined;
  if (Array.isArray(inputs)) {
    for (let i = 0; i < inputs.length; i++) {
      const input: unknown = inputs[i];
      if (!isPlainObject(input) || !isPlainObject(input.parameters)) continue;
      const size = input.parameters.binary_data_size;
      if (size === undefined) continue;
      const label = `Input "${typeof input.name === "string" ? input.name : `#${i}`}"`;
      if (typeof size !== "number" || !Number.isSafeInteger(size) || size < 0) {
        refuse(
          "invalid_request",
          `${label}: "binary_data_size" must be a non-negative integer (bytes), got ${JSON.stringify(size)}.`,
          { input: input.name },
        );
      }
      if (input.data !== undefined) {
        refuse(
          "invalid_request",
          `${label} has both "data" and "binary_data_size"; send its values one way.`,
          { input: input.name },
        );
      }
      if (at + size > body.length) {
        refuse(
          "missing_binary_data",
          `${label}: "binary_data_size" is ${size}, but only ${body.length - at} bytes of binary data are left for it (the body has ${binaryLength} after the ${jsonLength}-byte JSON).`,
          { input: input.name, binaryDataSize: size, remaining: body.length - at },
        );
      }
      input.data = body.subarray(at, at + size);
      at += size;
    }
  }
  if (at !== body.length) {
    const declared = at - jsonLength;
    refuse(
      "trailing_binary_data",
      `The body has ${binaryLength} bytes after the ${jsonLength}-byte JSON request, but the inputs' binary_data_size add up to ${declared}; ${body.length - at} bytes are left over. Check ${HEADER_DISPLAY} and each input's binary_data_size.`,
      { headerLength: jsonLength, binaryLength, declared },
    );
  }
  if (isPlainObject(request)) binaryBodies.add(request);
  return request;
}

function parseJson(body: Buffer, length: number, what: string): unknown {
  const text = body.toString("utf8", 0, length);
  if (text.trim() === "") refuse("bad_request", `${what} is empty; send a JSON inference request.`);
  try {
    return JSON.parse(text);
  } catch (error) {
    refuse("malformed_json", `${what} is not valid JSON: ${(error as Error).message}.`);
  }
}

/** Bytes at `alignAt` (if given) land on an 8-byte boundary when Content-Length is known. */
function readBytes(
  req: http.IncomingMessage,
  maxBytes: number,
  alignAt: number | null,
): Promise<Buffer> {
  const declared = Number(req.headers["content-length"] ?? NaN);
  if (declared > maxBytes) {
    req.resume();
    return Promise.reject(
      new InferenceInputError(
        413,
        "payload_too_large",
        `The body is ${declared} bytes; the limit is ${maxBytes}.`,
      ),
    );
  }
  // One buffer of the declared size, filled as chunks arrive (node:http never delivers more
  // than Content-Length); without it, the chunks are concatenated at the end.
  let whole: Buffer | null = null;
  if (alignAt !== null && Number.isSafeInteger(declared) && declared >= 0) {
    const pad = (8 - (alignAt % 8)) % 8;
    whole = Buffer.allocUnsafeSlow(pad + declared).subarray(pad);
  }
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    let failed = false;
    req.on("data", (chunk: Buffer) => {
      if (failed) return;
      if (whole) {
        if (size + chunk.length > whole.length) {
          failed = true;
          reject(
            new InferenceInputError(
              400,
              "bad_request",
              "The body is longer than its Content-Length.",
            ),
          );
          return;
        }
        chunk.copy(whole, size);
        size += chunk.length;
        return;
      }
      size += chunk.length;
      if (size > maxBytes) {
        failed = true;
        reject(
          new InferenceInputError(
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
      if (!failed) {
        reject(
          new InferenceInputError(400, "bad_request", `Could not read the body: ${error.message}`),
        );
      }
      failed = true;
    });
    req.on("end", () => {
      if (failed) return;
      if (whole) resolve(whole.subarray(0, size));
      else resolve(chunks.length === 1 ? chunks[0]! : Buffer.concat(chunks, size));
    });
  });
}

async function decompress(body: Buffer, encoding: string, maxBytes: number): Promise<Buffer> {
  try {
    return await (encoding === "gzip" ? gunzip : inflate)(body, { maxOutputLength: maxBytes });
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === "ERR_BUFFER_TOO_LARGE") {
      refuse(
        "payload_too_large",
        `The body is larger than the limit of ${maxBytes} bytes once decompressed.`,
        undefined,
        413,
      );
    }
    refuse(
      "bad_encoding",
      `The body is not valid ${encoding} data (Content-Encoding: ${encoding}): ${(error as Error).message}.`,
    );
  }
}

// ---------------------------------------------------------------------------------------------
// Responses

/**
 * Which outputs the request asks for as binary: null when none can be (the common JSON case,
 * decided in two property reads), else a predicate. Refuses non-boolean flags.
 */
export function binaryOutputsOf(body: unknown): ((name: string) => boolean) | null {
  if (!isPlainObject(body)) return null;
  const { parameters, outputs } = body;
  let all = false;
  if (isPlainObject(parameters) && parameters.binary_data_output !== undefined) {
    if (typeof parameters.binary_data_output !== "boolean") {
      refuse(
        "invalid_request",
        `"parameters.binary_data_output" must be true or false, got ${JSON.stringify(parameters.binary_data_output)}.`,
      );
    }
    all = parameters.binary_data_output;
  }
  let perOutput: Map<string, boolean> | null = null;
  if (Array.isArray(outputs)) {
    for (const o of outputs) {
      if (!isPlainObject(o) || !isPlainObject(o.parameters)) continue;
      const flag = o.parameters.binary_data;
      if (flag === undefined) continue;
      if (typeof flag !== "boolean") {
        refuse(
          "invalid_request",
          `Output "${String(o.name)}": "parameters.binary_data" must be true or false, got ${JSON.stringify(flag)}.`,
          { output: o.name },
        );
      }
      (perOutput ??= new Map()).set(String(o.name), flag);
    }
  }
  if (!all && !perOutput) return null;
  return (name) => perOutput?.get(name) ?? all;
}

type ResponseOutput = {
  name: string;
  shape: number[];
  datatype: OipDatatype;
  data?: Array<number | boolean | string>;
  parameters?: { binary_data_size: number };
};

/**
 * The response's `outputs` with binary ones as `parameters.binary_data_size` (no `data`), and
 * their bytes in the same order; `tensors` is empty when every output ends up JSON.
 */
export function encodeOutputsWithBinary(
  outputs: Record<string, HostTensor>,
  requested: string[] | null,
  isBinary: (name: string) => boolean,
): { outputs: ResponseOutput[]; tensors: Uint8Array[] } {
  const result: ResponseOutput[] = [];
  const tensors: Uint8Array[] = [];
  for (const name of requested ?? Object.keys(outputs)) {
    const t = outputs[name];
    if (!t) throw new Error(`Output "${name}" was requested but the model did not produce it`);
    if (!isBinary(name)) {
      result.push(encodeOutputs(outputs, [name])[0]!);
      continue;
    }
    // Never turned into JS values: the typed array's bytes go out as they are.
    const bytes = encodeTensorBytes(t);
    tensors.push(bytes);
    result.push({
      name,
      shape: t.dims,
      datatype: oipDatatypeOf(t.type)!,
      parameters: { binary_data_size: bytes.byteLength },
    });
  }
  return { outputs: result, tensors };
}

/** Writes a 200 binary response: JSON `header` text followed by `tensors`, in one writev. */
export function writeBinaryResponse(
  res: http.ServerResponse,
  status: number,
  header: string,
  tensors: readonly Uint8Array[],
  headers: string[],
): void {
  const headerBytes = Buffer.from(header, "utf8");
  let length = headerBytes.length;
  for (const t of tensors) length += t.byteLength;
  res.writeHead(status, [
    "content-type",
    "application/octet-stream",
    "content-length",
    String(length),
    INFERENCE_HEADER,
    String(headerBytes.length),
    ...headers,
  ]);
  res.cork();
  res.write(headerBytes);
  for (const t of tensors) res.write(t);
  res.end();
}

// ---------------------------------------------------------------------------------------------
// Prediction log

/** Elements beyond which a payload cannot fit the log's text limit (≥ 2 characters each). */
function tooManyElements(tensors: Iterable<{ data: TensorData }>, maxChars: number): boolean {
  let n = 0;
  for (const t of tensors) n += t.data.length;
  return n * 2 > maxChars;
}

/**
 * What the JSON form of a binary request's inputs would be, for a sampled prediction log entry,
 * or undefined when it is not a binary request (log the body as is) and null when too large.
 */
export function loggedBinaryInputs(
  body: unknown,
  prepared: PreparedRequest | null,
  maxChars: number,
): unknown[] | null | undefined {
  if (!isPlainObject(body) || !binaryBodies.has(body)) return undefined;
  if (!prepared || tooManyElements(Object.values(prepared.inputs), maxChars)) return null;
  const raw = body.inputs as Array<Record<string, unknown>>;
  const values = encodeOutputs(prepared.inputs, null);
  return raw.map((input) => {
    const { parameters, ...rest } = input;
    const others = isPlainObject(parameters) ? { ...parameters } : undefined;
    if (others) delete others.binary_data_size;
    const data = values.find((v) => v.name === input.name)?.data ?? input.data;
    return {
      ...rest,
      ...(others && Object.keys(others).length ? { parameters: others } : {}),
      data,
    };
  });
}

/** The JSON form of a binary response's outputs for the log, or null when too large. */
export function loggedBinaryOutputs(
  outputs: Record<string, HostTensor>,
  requested: string[] | null,
  maxChars: number,
): unknown[] | null {
  const names = requested ?? Object.keys(outputs);
  if (
    tooManyElements(
      names.map((n) => outputs[n]!),
      maxChars,
    )
  )
    return null;
  return encodeOutputs(outputs, requested);
}
