import busboy from "busboy";
import type { Readable } from "node:stream";
import { pipeline } from "node:stream/promises";
import {
  ArtifactStageAbortedError,
  ArtifactTooLargeError,
  type ArtifactStore,
  type StagedArtifact,
} from "../storage";
import { readableFromBody } from "./body";
import { UploadError, fileTooLarge, uploadAborted } from "./errors";
import { hasTraversalSegment, sanitizeFilename, traversalError } from "./filename";
import { METADATA_HEADER_PREFIX, declaredContentLength, mediaTypeOf } from "./headers";

export const FILE_FIELD = "file";
const MULTIPART = "multipart/form-data";
const RAW = "application/octet-stream";

export const DEFAULT_MAX_FIELDS = 32;
export const DEFAULT_MAX_FIELD_BYTES = 64 * 1024;
/** Room for boundaries and part headers on top of the file and the fields. */
const MULTIPART_FRAMING_BYTES = 64 * 1024;

export type ReadUploadOptions = {
  /** Largest file accepted, in bytes. */
  maxBytes: number;
  store: ArtifactStore;
  /**
   * Metadata names the route accepts (e.g. ["description", "tags", "source"]). Given:
   * multipart fields and `X-ModelDeck-*` headers outside the list are rejected (a typo
   * must not vanish silently) and only these query parameters are read (the query also
   * carries the route's own parameters). Omitted: every field is returned.
   */
  fields?: readonly string[];
  limits?: { maxFields?: number; maxFieldBytes?: number };
  /** Extra abort signal; the request's own signal is always honoured. */
  signal?: AbortSignal;
};

export type Upload = {
  /** Commit it once the content is validated, or discard it: the caller owns it now. */
  staged: StagedArtifact;
  /** For display only, already stripped of directories and control characters. */
  filename: string | null;
  fields: Record<string, string>;
  kind: "multipart" | "raw";
};

/**
 * Reads an upload from a route handler's `Request` without buffering it: the file goes
 * through `store.stage` (hashed and counted while it streams to disk) and the metadata is
 * returned beside it. Accepts `multipart/form-data` (one file in the field `file`, text
 * fields) or a raw `application/octet-stream` body (metadata in the query string or in
 * `X-ModelDeck-<name>` headers; the display name in `filename` / `X-ModelDeck-Filename`).
 *
 * Every client mistake is an `UploadError` (an `ApiError`: 400, 413 or 415). Whatever
 * fails, nothing stays in the store. The request body is never cancelled (see
 * `readableFromBody`), so the error response reaches the client.
 */
export async function readUpload(request: Request, options: ReadUploadOptions): Promise<Upload> {
  const { maxBytes } = options;
  if (!(Number.isSafeInteger(maxBytes) && maxBytes >= 0)) {
    throw new RangeError(`maxBytes must be a non-negative integer (got ${maxBytes}).`);
  }
  const maxFields = options.limits?.maxFields ?? DEFAULT_MAX_FIELDS;
  const maxFieldBytes = options.limits?.maxFieldBytes ?? DEFAULT_MAX_FIELD_BYTES;

  const contentType = request.headers.get("content-type");
  const type = mediaTypeOf(contentType);
  if (type !== MULTIPART && type !== RAW) {
    throw new UploadError(
      "unsupported_media_type",
      "unsupported_media_type",
      `Send the file as "${MULTIPART}" (field "${FILE_FIELD}") or as a raw "${RAW}" body` +
        ` (got "${type ?? "no Content-Type"}").`,
      { accepted: [MULTIPART, RAW] },
    );
  }
  const bodyLimit =
    type === RAW ? maxBytes : maxBytes + maxFields * maxFieldBytes + MULTIPART_FRAMING_BYTES;
  const declared = declaredContentLength(request.headers);
  // Refused before a byte is read: the client learns at once, the disk sees nothing.
  if (declared !== null && declared > bodyLimit) throw fileTooLarge(maxBytes);
  if (!request.body || declared === 0) throw missingFile();

  const signal = options.signal
    ? AbortSignal.any([options.signal, request.signal])
    : request.signal;
  const allowed = options.fields ? new Set(options.fields) : null;
  const body = request.body;
  const openSource = () =>
    readableFromBody(body, { maxBytes: bodyLimit, onTooLarge: () => fileTooLarge(maxBytes) });
  if (type === RAW) {
    // Metadata first: a bad header is refused before the body is touched.
    const metadata = rawMetadata(request, allowed);
    const staged = await options.store
      .stage(openSource(), { maxBytes, signal })
      .catch((error: unknown) => {
        throw toUploadError(error, maxBytes, "raw");
      });
    return { staged, ...metadata, kind: "raw" };
  }
  return readMultipart(openSource, contentType!, {
    maxBytes,
    maxFields,
    maxFieldBytes,
    allowed,
    store: options.store,
    signal,
  });
}

function readMultipart(
  openSource: () => Readable,
  contentType: string,
  options: {
    maxBytes: number;
    maxFields: number;
    maxFieldBytes: number;
    allowed: Set<string> | null;
    store: ArtifactStore;
    signal: AbortSignal;
  },
): Promise<Upload> {
  const { maxBytes, maxFields, maxFieldBytes, allowed, store, signal } = options;
  let parser: busboy.Busboy;
  try {
    parser = busboy({
      headers: { "content-type": contentType },
      // UTF-8 names from browsers; busboy's default (latin1) would garble "模型.onnx".
      defParamCharset: "utf8",
      preservePath: true, // so a ".." in the name is seen and refused; sanitizeFilename keeps the base name
      fileHwm: 64 * 1024,
      limits: {
        fields: maxFields,
        fieldSize: maxFieldBytes,
        fieldNameSize: 200,
        // Two, so that a second file is seen (and refused) rather than silently skipped.
        files: 2,
        parts: maxFields + 2,
        headerPairs: 50,
      },
    });
  } catch (error) {
    throw new UploadError(
      "bad_request",
      "malformed",
      `Malformed multipart request: ${message(error)}.`,
    );
  }

  const source = openSource();
  return new Promise<Upload>((resolve, reject) => {
    const fields = new Map<string, string>();
    let filename: string | null = null;
    let staging: Promise<StagedArtifact> | undefined;
    let failure: Error | undefined;
    /** A client mistake reported after the body has been read (see the file handler). */
    let deferred: Error | undefined;
    const stageAbort = new AbortController();

    const fail = (error: unknown) => {
      if (failure) return;
      failure = toUploadError(error, maxBytes, "multipart");
      stageAbort.abort(failure);
      parser.destroy(failure); // also ends the pipeline below, which releases the body
      void (async () => {
        // Staging may even have finished (an error after the file part): drop it.
        const staged = await staging?.catch(() => undefined);
        await staged?.discard().catch(() => {});
        reject(failure);
      })();
    };
    const onAbort = () => fail(uploadAborted(signal.reason));
    if (signal.aborted) onAbort();
    else signal.addEventListener("abort", onAbort, { once: true });

    parser.on("file", (name, stream, info) => {
      // Busboy destroys the current file stream with its own error when it is destroyed;
      // that error already reaches fail() through the pipeline, and an unread stream
      // without a listener would turn it into an uncaught exception.
      stream.on("error", () => {});
      if (failure) return void stream.resume();
      if (name !== FILE_FIELD) {
        stream.resume();
        return fail(
          new UploadError(
            "bad_request",
            "unexpected_file_field",
            `Send the file in the field "${FILE_FIELD}"; "${name.slice(0, 100)}" is not a file field.`,
          ),
        );
      }
      if (staging) {
        stream.resume();
        return fail(
          new UploadError("bad_request", "too_many_files", "Send exactly one file per upload."),
        );
      }
      if (hasTraversalSegment(info.filename)) {
        // Refuse once the body is read: answering mid-upload resets the client's connection
        // before it sees the 400. The bytes are drained, never stored, and still bounded.
        deferred ??= traversalError();
        let drained = 0;
        stream.on("data", (chunk: Buffer) => {
          drained += chunk.length;
          if (drained > maxBytes) fail(fileTooLarge(maxBytes));
        });
        stream.resume();
        return;
      }
      filename = sanitizeFilename(info.filename);
      staging = store.stage(stream, {
        maxBytes,
        signal: AbortSignal.any([stageAbort.signal, signal]),
      });
      staging.catch((error: unknown) => fail(error));
    });

    parser.on("field", (name, value, info) => {
      if (failure) return;
      if (info.nameTruncated) {
        return fail(new UploadError("bad_request", "malformed", "A form field name is too long."));
      }
      if (info.valueTruncated) {
        return fail(
          new UploadError(
            "payload_too_large",
            "field_too_large",
            `The field "${name}" is longer than ${maxFieldBytes} bytes.`,
            { field: name, limitBytes: maxFieldBytes },
          ),
        );
      }
      if (allowed && !allowed.has(name)) return fail(unknownField(name));
      if (fields.has(name)) return fail(duplicateField(name));
      fields.set(name, value);
    });

    const tooMany = () =>
      fail(
        new UploadError(
          "bad_request",
          "too_many_fields",
          `Send at most ${maxFields} form fields besides the file.`,
          { limit: maxFields },
        ),
      );
    parser.on("fieldsLimit", tooMany);
    parser.on("partsLimit", tooMany);

    pipeline(source, parser).then(
      async () => {
        signal.removeEventListener("abort", onAbort);
        if (failure) return;
        if (deferred) return fail(deferred);
        if (!staging) return fail(missingFile());
        let staged: StagedArtifact;
        try {
          staged = await staging;
        } catch {
          return; // fail() already runs from staging's own handler
        }
        if (failure) return; // fail() discards it
        resolve({ staged, filename, fields: Object.fromEntries(fields), kind: "multipart" });
      },
      (error: unknown) => {
        signal.removeEventListener("abort", onAbort);
        fail(error);
      },
    );
  });
}

function rawMetadata(
  request: Request,
  allowed: Set<string> | null,
): { filename: string | null; fields: Record<string, string> } {
  const values = new Map<string, string>();
  const put = (name: string, value: string) => {
    const previous = values.get(name);
    if (previous !== undefined && previous !== value) throw duplicateField(name);
    values.set(name, value);
  };
  const query = new URL(request.url).searchParams;
  for (const name of new Set(query.keys())) {
    if (allowed && !allowed.has(name) && name !== "filename") continue;
    const all = query.getAll(name);
    if (all.length > 1) throw duplicateField(name);
    put(name, all[0]!);
  }
  // Header values are Latin-1 on the wire; non-ASCII text belongs in the query string.
  for (const [header, value] of request.headers) {
    if (!header.startsWith(METADATA_HEADER_PREFIX)) continue;
    const name = header.slice(METADATA_HEADER_PREFIX.length);
    if (name !== "filename" && allowed && !allowed.has(name)) throw unknownField(header);
    put(name, value);
  }
  if (hasTraversalSegment(values.get("filename"))) throw traversalError();
  const filename = sanitizeFilename(values.get("filename"));
  values.delete("filename");
  return { filename, fields: Object.fromEntries(values) };
}

function missingFile(): UploadError {
  return new UploadError(
    "bad_request",
    "missing_file",
    `No file was sent: use the multipart field "${FILE_FIELD}" or a raw "${RAW}" body.`,
  );
}

function unknownField(name: string): UploadError {
  const field = name.slice(0, 100);
  return new UploadError(
    "validation_failed",
    "unknown_field",
    `Invalid request: ${field} is not a recognised field.`,
    { fields: [{ field, message: "is not a recognised field" }] },
  );
}

function duplicateField(name: string): UploadError {
  const field = name.slice(0, 100);
  return new UploadError(
    "validation_failed",
    "duplicate_field",
    `Invalid request: ${field} was sent more than once.`,
    { fields: [{ field, message: "was sent more than once" }] },
  );
}

/**
 * Client problems become UploadErrors; the server's own failures (a full disk: errors
 * with a `syscall`) are passed through unchanged so the route reports them as 500.
 */
function toUploadError(error: unknown, maxBytes: number, kind: Upload["kind"]) {
  if (error instanceof UploadError) return error;
  if (error instanceof ArtifactTooLargeError) return fileTooLarge(maxBytes);
  if (error instanceof ArtifactStageAbortedError) {
    return error.cause instanceof UploadError ? error.cause : uploadAborted(error);
  }
  if (error instanceof Error && error.name === "AbortError") {
    return error.cause instanceof UploadError ? error.cause : uploadAborted(error);
  }
  if (error instanceof Error && "syscall" in error) return error;
  // Busboy's own complaints ("Unexpected end of form", "Malformed part header") reach us
  // from the parser or, through the file stream it destroys, from the store.
  const what = kind === "multipart" ? "Malformed multipart request" : "Unreadable request body";
  return new UploadError(
    "bad_request",
    "malformed",
    `${what}: ${message(error)}.`,
    {},
    {
      cause: error,
    },
  );
}

function message(error: unknown): string {
  return (error instanceof Error ? error.message : String(error)).replace(/\.$/, "");
}
