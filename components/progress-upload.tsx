"use client";

import { useRef, useState } from "react";
import { formatBytes } from "@/lib/format";

/** `rate` is bytes per second, computed in the progress event (render must stay pure). */
export type UploadProgress = { loaded: number; total: number; rate: number };

/** uploading: bytes on the way; processing: all sent, the server is checking them. */
export type UploadPhase = "idle" | "uploading" | "processing";

export type UploadOutcome =
  | { ok: true; status: number; response: unknown }
  | {
      ok: false;
      reason: "http" | "network" | "aborted";
      status: number;
      /** The JSON error body (http only). */
      response: unknown;
      /** What to tell the person. */
      message: string;
    };

type ErrorBody = { error?: { message?: string } } | null;

/**
 * A multipart upload through XMLHttpRequest, for its upload progress events (fetch has none):
 * bytes sent, rate, and the moment the server starts checking what it received. `upload`
 * resolves with the outcome; after a failure or cancel the state is back to idle, after a
 * success it stays as it was (the caller navigates or calls `reset`).
 */
export function useProgressUpload() {
  const [progress, setProgress] = useState<UploadProgress | null>(null);
  const [phase, setPhase] = useState<UploadPhase>("idle");
  const xhr = useRef<XMLHttpRequest | null>(null);

  function reset() {
    setPhase("idle");
    setProgress(null);
  }

  function upload(url: string, body: FormData, size: number): Promise<UploadOutcome> {
    return new Promise((resolve) => {
      const request = new XMLHttpRequest();
      xhr.current = request;
      request.open("POST", url);
      request.responseType = "json";
      const startedAt = performance.now();
      const fail = (reason: "http" | "network" | "aborted", message: string) => {
        xhr.current = null;
        reset();
        resolve({ ok: false, reason, status: request.status, response: request.response, message });
      };
      request.upload.onprogress = (e) => {
        const elapsed = (performance.now() - startedAt) / 1000;
        setProgress({
          loaded: e.loaded,
          total: e.lengthComputable ? e.total : size,
          rate: elapsed > 0.2 ? e.loaded / elapsed : 0,
        });
        if (e.lengthComputable && e.loaded >= e.total) setPhase("processing");
      };
      request.onload = () => {
        if (request.status >= 200 && request.status < 300) {
          xhr.current = null;
          resolve({ ok: true, status: request.status, response: request.response });
          return;
        }
        fail(
          "http",
          (request.response as ErrorBody)?.error?.message ??
            `Upload failed (HTTP ${request.status}).`,
        );
      };
      request.onerror = () =>
        fail("network", "The upload failed: the connection to ModelDeck was lost.");
      request.onabort = () => fail("aborted", "Upload cancelled. Nothing was stored.");
      setPhase("uploading");
      setProgress({ loaded: 0, total: size, rate: 0 });
      request.send(body);
    });
  }

  return {
    phase,
    progress,
    busy: phase !== "idle",
    upload,
    abort: () => xhr.current?.abort(),
    reset,
  };
}

/** The progress bar of an upload: bytes and percent, then rate, then what the server does. */
export function UploadProgressBar({
  progress,
  phase,
  processingLabel,
  ...props
}: {
  progress: UploadProgress;
  phase: UploadPhase;
  /** e.g. "Validating the model…" */
  processingLabel: string;
} & React.ComponentProps<"div">) {
  const percent = progress.total > 0 ? Math.min(100, (progress.loaded / progress.total) * 100) : 0;
  return (
    <div className="space-y-1.5" {...props}>
      <div
        role="progressbar"
        aria-label="Upload progress"
        aria-valuemin={0}
        aria-valuemax={100}
        aria-valuenow={Math.round(percent)}
        className="h-2 overflow-hidden rounded-full bg-muted"
      >
        <div
          className="h-full rounded-full bg-accent transition-[width]"
          style={{ width: `${percent}%` }}
        />
      </div>
      <div className="flex justify-between text-xs text-muted-foreground tabular-nums">
        <span>
          {formatBytes(progress.loaded)} of {formatBytes(progress.total)} · {Math.floor(percent)}%
        </span>
        <span>
          {phase === "processing"
            ? processingLabel
            : progress.rate > 0
              ? `${formatBytes(progress.rate)}/s`
              : "Starting…"}
        </span>
      </div>
    </div>
  );
}
