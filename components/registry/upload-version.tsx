"use client";

import { useRouter } from "next/navigation";
import { useRef, useState } from "react";
import { FileUpIcon, UploadCloudIcon, XIcon } from "lucide-react";
import { UploadProgressBar, useProgressUpload } from "@/components/progress-upload";
import { Alert } from "@/components/ui/alert";
import { Button } from "@/components/ui/button";
import { cn } from "@/components/ui/cn";
import { Field } from "@/components/ui/field";
import { Input } from "@/components/ui/input";
import { Textarea } from "@/components/ui/textarea";
import { formatBytes } from "@/lib/format";

/**
 * Uploads an ONNX file as a new version: drag and drop or pick a file, watch a real progress
 * bar (bytes and percent, useProgressUpload), cancel at any time. The server validates the model before a version exists.
 */
export function UploadVersion({ modelName }: { modelName: string }) {
  const router = useRouter();
  const [file, setFile] = useState<File | null>(null);
  const [dragging, setDragging] = useState(false);
  const { phase, progress, busy, upload, abort } = useProgressUpload();
  const [error, setError] = useState<string | null>(null);
  const input = useRef<HTMLInputElement>(null);

  function pick(files: FileList | null) {
    const f = files?.[0];
    if (!f) return;
    setFile(f);
    setError(null);
  }

  function submit(event: React.FormEvent<HTMLFormElement>) {
    event.preventDefault();
    if (!file) {
      setError("Choose an .onnx file first.");
      return;
    }
    const form = new FormData(event.currentTarget);
    const body = new FormData();
    for (const key of ["description", "tags", "source", "sampleRequest"]) {
      const value = String(form.get(key) ?? "").trim();
      if (value) body.append(key, value);
    }
    body.append("file", file, file.name);

    setError(null);
    void upload(`/api/v1/models/${encodeURIComponent(modelName)}/versions`, body, file.size).then(
      (outcome) => {
        if (!outcome.ok) {
          setError(outcome.message);
          return;
        }
        const version = (outcome.response as { version?: { version?: number } } | null)?.version
          ?.version;
        router.push(
          version
            ? `/models/${encodeURIComponent(modelName)}/versions/${version}`
            : `/models/${encodeURIComponent(modelName)}`,
        );
        router.refresh();
      },
    );
  }

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
        <Field
          label="Sample request"
          optional
          className="sm:col-span-2"
          hint="An inference request (JSON, Open Inference Protocol) this model answers. Serving warms the version up with it, and it becomes its example; without one, serving warms up with a request made from the signature."
        >
          <Textarea
            name="sampleRequest"
            rows={3}
            spellCheck={false}
            autoComplete="off"
            className="font-mono text-xs"
            placeholder={
              '{"inputs": [{"name": "x", "shape": [1, 512], "datatype": "FP32", "data": [...]}]}'
            }
            disabled={busy}
          />
        </Field>
      </div>

      {progress ? (
        <UploadProgressBar
          progress={progress}
          phase={phase}
          processingLabel="Validating the model…"
          data-testid="upload-progress"
        />
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
          <Button type="button" variant="outline" onClick={abort}>
            <XIcon aria-hidden /> Cancel
          </Button>
        ) : null}
      </div>
    </form>
  );
}
