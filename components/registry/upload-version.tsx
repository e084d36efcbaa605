"use client";

import { useRouter } from "next/navigation";
import { useRef, useState } from "react";
import { FileUpIcon, UploadCloudIcon, XIcon } from "lucide-react";
import { Alert } from "@/components/ui/alert";
import { Button } from "@/components/ui/button";
import { cn } from "@/components/ui/cn";
import { Field } from "@/components/ui/field";
import { Input } from "@/components/ui/input";
import { Textarea } from "@/components/ui/textarea";
import { formatBytes } from "@/lib/format";

/** `rate` is bytes per second, computed in the progress event (render must stay pure). */
type Progress = { loaded: number; total: number; rate: number };
type ApiErrorBody = { error?: { message?: string } };

/**
 * Uploads an ONNX file as a new version: drag and drop or pick a file, watch a real progress
 * bar (bytes and percent, from XHR upload events — fetch has no upload progress), cancel at
 * any time. The server validates the model before a version exists.
 */
export function UploadVersion({ modelName }: { modelName: string }) {
  const router = useRouter();
  const [file, setFile] = useState<File | null>(null);
  const [dragging, setDragging] = useState(false);
  const [progress, setProgress] = useState<Progress | null>(null);
  const [phase, setPhase] = useState<"idle" | "uploading" | "validating">("idle");
  const [error, setError] = useState<string | null>(null);
  const xhr = useRef<XMLHttpRequest | null>(null);
  const input = useRef<HTMLInputElement>(null);

  function pick(files: FileList | null) {
    const f = files?.[0];
    if (!f) return;
    setFile(f);
    setError(null);
  }

  function cancel() {
    xhr.current?.abort();
  }

  function submit(event: React.FormEvent<HTMLFormElement>) {
    event.preventDefault();
    if (!file) {
      setError("Choose an .onnx file first.");
      return;
    }
    const form = new FormData(event.currentTarget);
    const body = new FormData();
    for (const key of ["description", "tags", "source"]) {
      const value = String(form.get(key) ?? "").trim();
      if (value) body.append(key, value);
    }
    body.append("file", file, file.name);

    const request = new XMLHttpRequest();
    xhr.current = request;
    request.open("POST", `/api/v1/models/${encodeURIComponent(modelName)}/versions`);
    request.responseType = "json";
    const startedAt = performance.now();
    request.upload.onprogress = (e) => {
      const elapsed = (performance.now() - startedAt) / 1000;
      setProgress({
        loaded: e.loaded,
        total: e.lengthComputable ? e.total : file.size,
        rate: elapsed > 0.2 ? e.loaded / elapsed : 0,
      });
      if (e.lengthComputable && e.loaded >= e.total) setPhase("validating");
    };
    request.onload = () => {
      xhr.current = null;
      if (request.status >= 200 && request.status < 300) {
        const version = (request.response as { version?: { version?: number } })?.version?.version;
        router.push(
          version
            ? `/models/${encodeURIComponent(modelName)}/versions/${version}`
            : `/models/${encodeURIComponent(modelName)}`,
        );
        router.refresh();
        return;
      }
      setPhase("idle");
      setProgress(null);
      setError(
        (request.response as ApiErrorBody | null)?.error?.message ??
          `Upload failed (HTTP ${request.status}).`,
      );
    };
    request.onerror = () => {
      xhr.current = null;
      setPhase("idle");
      setProgress(null);
      setError("The upload failed: the connection to ModelDeck was lost.");
    };
    request.onabort = () => {
      xhr.current = null;
      setPhase("idle");
      setProgress(null);
      setError("Upload cancelled. Nothing was saved.");
    };
    setError(null);
    setPhase("uploading");
    setProgress({ loaded: 0, total: file.size, rate: 0 });
    request.send(body);
  }

  const busy = phase !== "idle";
  const percent =
    progress && progress.total > 0 ? Math.min(100, (progress.loaded / progress.total) * 100) : 0;
  const rate = progress?.rate ?? 0;

  return (
    <form onSubmit={submit} className="space-y-4" aria-label="Upload a new version">
      <div
        onDragOver={(e) => {
          e.preventDefault();
          setDragging(true);
        }}
        onDragLeave={() => setDragging(false)}
        onDrop={(e) => {
          e.preventDefault();
          setDragging(false);
          if (!busy) pick(e.dataTransfer.files);
        }}
        className={cn(
          "flex flex-col items-center justify-center gap-2 rounded-lg border border-dashed px-6 py-8 text-center transition-colors",
          dragging ? "border-accent bg-accent-subtle" : "border-border-strong bg-subtle",
        )}
      >
        {file ? (
          <>
            <FileUpIcon className="size-6 text-muted-foreground" aria-hidden />
            <p className="text-sm font-medium" data-testid="upload-file-name">
              {file.name}
            </p>
            <p className="text-xs text-muted-foreground">{formatBytes(file.size)}</p>
          </>
        ) : (
          <>
            <UploadCloudIcon className="size-6 text-muted-foreground" aria-hidden />
            <p className="text-sm">Drop an .onnx file here</p>
          </>
        )}
        <input
          ref={input}
          type="file"
          accept=".onnx,application/octet-stream"
          className="sr-only"
          id="onnx-file"
          aria-label="ONNX file"
          disabled={busy}
          onChange={(e) => pick(e.target.files)}
        />
        <Button
          type="button"
          size="sm"
          variant="outline"
          disabled={busy}
          onClick={() => input.current?.click()}
        >
          {file ? "Choose another file" : "Choose file"}
        </Button>
      </div>

      <div className="grid gap-3 sm:grid-cols-2">
        <Field label="Description" optional className="sm:col-span-2">
          <Textarea
            name="description"
            rows={2}
            placeholder="What changed in this version"
            disabled={busy}
          />
        </Field>
        <Field label="Tags" optional hint="Comma-separated.">
          <Input name="tags" placeholder="baseline, q3-data" disabled={busy} />
        </Field>
        <Field label="Source" optional hint="Git commit, training run URL…">
          <Input name="source" placeholder="git:3f2a91c" disabled={busy} />
        </Field>
      </div>

      {progress ? (
        <div className="space-y-1.5" data-testid="upload-progress">
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
              {formatBytes(progress.loaded)} of {formatBytes(progress.total)} ·{" "}
              {Math.floor(percent)}%
            </span>
            <span>
              {phase === "validating"
                ? "Validating the model…"
                : rate > 0
                  ? `${formatBytes(rate)}/s`
                  : "Starting…"}
            </span>
          </div>
        </div>
      ) : null}

      {error ? (
        <Alert variant="error" role="alert">
          {error}
        </Alert>
      ) : null}

      <div className="flex gap-2">
        <Button type="submit" variant="primary" loading={busy} disabled={!file}>
          Upload version
        </Button>
        {busy ? (
          <Button type="button" variant="outline" onClick={cancel}>
            <XIcon aria-hidden /> Cancel
          </Button>
        ) : null}
      </div>
    </form>
  );
}
