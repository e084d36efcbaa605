"use client";

import { useRouter } from "next/navigation";
import { useRef, useState } from "react";
import { FileUpIcon, UploadCloudIcon, XIcon } from "lucide-react";
import { UploadProgressBar, useProgressUpload } from "@/components/progress-upload";
import { Alert } from "@/components/ui/alert";
import { Button } from "@/components/ui/button";
import { cn } from "@/components/ui/cn";
import {
  Dialog,
  DialogBody,
  DialogContent,
  DialogDescription,
  DialogFooter,
  DialogHeader,
  DialogTitle,
  DialogTrigger,
} from "@/components/ui/dialog";
import { Field } from "@/components/ui/field";
import { Input } from "@/components/ui/input";
import { NativeSelect } from "@/components/ui/native-select";
import { Textarea } from "@/components/ui/textarea";
import type { DatasetProblem } from "@/lib/datasets/types";
import { formatBytes } from "@/lib/format";

type ErrorBody = {
  error?: {
    message?: string;
    details?: {
      problems?: DatasetProblem[];
      problemCount?: number;
      fields?: { field: string; message: string }[];
    };
  };
};
type Failure = {
  message: string;
  problems: DatasetProblem[];
  problemCount: number;
  fields: { field: string; message: string }[];
};

const LABEL_GUESSES = ["label", "target", "y", "class", "species", "outcome"];

/** Column names from the start of the file: good enough to offer choices (the server parses for real). */
async function readColumns(file: File): Promise<string[]> {
  const head = await file.slice(0, 64 * 1024).text();
  const first = head.replace(/^\uFEFF/, "").split(/\r?\n/)[0] ?? "";
  if (first.trim().startsWith("{")) {
    try {
      return Object.keys(JSON.parse(first) as object);
    } catch {
      return [];
    }
  }
  const cells: string[] = [];
  let cell = "";
  let quoted = false;
  for (let i = 0; i < first.length; i++) {
    const ch = first[i]!;
    if (quoted) {
      if (ch === '"' && first[i + 1] === '"') {
        cell += '"';
        i++;
      } else if (ch === '"') quoted = false;
      else cell += ch;
    } else if (ch === '"') quoted = true;
    else if (ch === ",") {
      cells.push(cell.trim());
      cell = "";
    } else cell += ch;
  }
  cells.push(cell.trim());
  return cells.filter(Boolean);
}

const slug = (name: string) =>
  name
    .replace(/\.[^.]+$/, "")
    .toLowerCase()
    .replace(/[^a-z0-9-_.]+/g, "-")
    .replace(/^[^a-z0-9]+/, "")
    .slice(0, 63);

/**
 * Uploads a CSV or JSONL file as a dataset (or a new version of one): pick the file, choose
 * the label and feature columns from its header, watch the upload's progress, and see the
 * rows the server refused, with their line numbers, when it stores nothing.
 */
export function UploadDatasetDialog({ defaultName }: { defaultName?: string }) {
  const router = useRouter();
  const [open, setOpen] = useState(false);
  const [file, setFile] = useState<File | null>(null);
  const [columns, setColumns] = useState<string[]>([]);
  const [label, setLabel] = useState("");
  const [features, setFeatures] = useState<string[]>([]);
  const [name, setName] = useState(defaultName ?? "");
  const { phase, progress, busy, upload, abort, reset: resetUpload } = useProgressUpload();
  const [failure, setFailure] = useState<Failure | null>(null);
  const input = useRef<HTMLInputElement>(null);

  function reset() {
    setFile(null);
    setColumns([]);
    setLabel("");
    setFeatures([]);
    setName(defaultName ?? "");
    resetUpload();
    setFailure(null);
  }

  async function pick(files: FileList | null) {
    const f = files?.[0];
    if (!f) return;
    setFile(f);
    setFailure(null);
    if (!defaultName) setName((current) => current || slug(f.name));
    const cols = await readColumns(f);
    setColumns(cols);
    const guess =
      cols.find((c) => LABEL_GUESSES.includes(c.toLowerCase())) ?? cols[cols.length - 1] ?? "";
    setLabel(guess);
    setFeatures(cols.filter((c) => c !== guess));
  }

  function chooseLabel(next: string) {
    setLabel(next);
    setFeatures((current) => {
      const without = current.filter((c) => c !== next);
      // The old label becomes a feature again, in file order.
      return columns.filter((c) => without.includes(c) || (c === label && c !== next));
    });
  }

  function toggle(column: string) {
    setFeatures((current) =>
      current.includes(column)
        ? current.filter((c) => c !== column)
        : columns.filter((c) => current.includes(c) || c === column),
    );
  }

  function submit(event: React.FormEvent<HTMLFormElement>) {
    event.preventDefault();
    if (!file) return;
    const form = new FormData(event.currentTarget);
    const body = new FormData();
    body.append("name", name.trim());
    body.append("labelColumn", label);
    const description = String(form.get("description") ?? "").trim();
    if (description) body.append("description", description);
    const inputName = String(form.get("input") ?? "").trim();
    if (inputName) body.append("input", inputName);
    if (features.length > 0) body.append("featureColumns", JSON.stringify(features));
    body.append("file", file, file.name);

    setFailure(null);
    void upload("/api/v1/datasets", body, file.size).then((outcome) => {
      if (outcome.ok) {
        const stored = outcome.response as { dataset?: { name?: string } } | null;
        setOpen(false);
        reset();
        router.push(`/datasets/${encodeURIComponent(stored?.dataset?.name ?? name)}`);
        router.refresh();
        return;
      }
      const details = (outcome.response as ErrorBody | null)?.error?.details;
      setFailure({
        message: outcome.message,
        problems: details?.problems ?? [],
        problemCount: details?.problemCount ?? 0,
        fields: details?.fields ?? [],
      });
    });
  }

  const fieldError = (field: string) => {
    const f = failure?.fields.find((p) => p.field === field || p.field.startsWith(`${field}.`));
    return f ? `${f.message.charAt(0).toUpperCase()}${f.message.slice(1)}.` : undefined;
  };

  return (
    <Dialog
      open={open}
      onOpenChange={(next) => {
        if (!next && busy) abort();
        setOpen(next);
        if (!next) reset();
      }}
    >
      <DialogTrigger asChild>
        <Button variant="primary">
          <UploadCloudIcon aria-hidden /> {defaultName ? "Upload a new version" : "Upload dataset"}
        </Button>
      </DialogTrigger>
      <DialogContent size="lg">
        <DialogHeader>
          <DialogTitle>
            {defaultName ? `New version of ${defaultName}` : "Upload a dataset"}
          </DialogTitle>
          <DialogDescription>
            A CSV file with a header line, or JSON Lines. Every row is checked before anything is
            stored; feature values must be numbers and every row needs a label.
          </DialogDescription>
        </DialogHeader>
        <form onSubmit={submit} aria-label="Upload a dataset">
          <DialogBody className="space-y-4">
            <div
              onDragOver={(e) => e.preventDefault()}
              onDrop={(e) => {
                e.preventDefault();
                if (!busy) void pick(e.dataTransfer.files);
              }}
              className={cn(
                "flex items-center gap-3 rounded-lg border border-dashed border-border-strong bg-subtle px-4 py-3",
              )}
            >
              {file ? (
                <FileUpIcon className="size-5 text-muted-foreground" aria-hidden />
              ) : (
                <UploadCloudIcon className="size-5 text-muted-foreground" aria-hidden />
              )}
              <div className="min-w-0 flex-1 text-sm">
                {file ? (
                  <>
                    <span className="font-medium" data-testid="dataset-file-name">
                      {file.name}
                    </span>{" "}
                    <span className="text-muted-foreground">
                      {formatBytes(file.size)}
                      {columns.length > 0 ? ` · ${columns.length} columns` : ""}
                    </span>
                  </>
                ) : (
                  <span className="text-muted-foreground">Drop a .csv or .jsonl file here</span>
                )}
              </div>
              <input
                ref={input}
                type="file"
                accept=".csv,.jsonl,.ndjson,text/csv,application/json"
                className="sr-only"
                aria-label="Dataset file"
                disabled={busy}
                onChange={(e) => void pick(e.target.files)}
              />
              <Button
                type="button"
                size="sm"
                variant="outline"
                disabled={busy}
                onClick={() => input.current?.click()}
              >
                {file ? "Choose another" : "Choose file"}
              </Button>
            </div>

            <div className="grid items-start gap-3 sm:grid-cols-2">
              <Field
                label="Name"
                required
                error={fieldError("name")}
                hint={defaultName ? undefined : "Lower-case letters, digits, - _ ."}
              >
                <Input
                  name="name"
                  value={name}
                  onChange={(e) => setName(e.target.value)}
                  readOnly={!!defaultName}
                  disabled={busy}
                  placeholder="iris"
                />
              </Field>
              <Field label="Label column" required error={fieldError("labelColumn")}>
                {(control) =>
                  columns.length > 0 ? (
                    <NativeSelect
                      {...control}
                      value={label}
                      onChange={(e) => chooseLabel(e.target.value)}
                      disabled={busy}
                      className="w-full"
                    >
                      {columns.map((c) => (
                        <option key={c} value={c}>
                          {c}
                        </option>
                      ))}
                    </NativeSelect>
                  ) : (
                    <Input
                      {...control}
                      value={label}
                      onChange={(e) => setLabel(e.target.value)}
                      disabled={busy}
                      placeholder="choose a file first"
                    />
                  )
                }
              </Field>
            </div>

            {columns.length > 0 ? (
              <fieldset className="grid gap-1.5" disabled={busy}>
                <legend className="mb-1.5 text-sm font-medium">
                  Feature columns{" "}
                  <span className="font-normal text-muted-foreground">
                    ({features.length} selected, fed in this order as one tensor input)
                  </span>
                </legend>
                <div className="flex flex-wrap gap-1.5">
                  {columns
                    .filter((c) => c !== label)
                    .map((c) => (
                      <label
                        key={c}
                        className={cn(
                          "inline-flex cursor-pointer items-center gap-1.5 rounded-md border px-2 py-1 font-mono text-xs",
                          features.includes(c)
                            ? "border-accent bg-accent-subtle"
                            : "border-border bg-card text-muted-foreground",
                        )}
                      >
                        <input
                          type="checkbox"
                          checked={features.includes(c)}
                          onChange={() => toggle(c)}
                          className="size-3.5"
                        />
                        {c}
                      </label>
                    ))}
                </div>
              </fieldset>
            ) : null}

            <div className="grid items-start gap-3 sm:grid-cols-[1fr_2fr]">
              <Field label="Model input" optional hint="The input the features feed.">
                <Input name="input" placeholder="features" disabled={busy} />
              </Field>
              {defaultName ? null : (
                <Field label="Description" optional>
                  <Textarea
                    name="description"
                    rows={1}
                    disabled={busy}
                    placeholder="Where the rows come from"
                  />
                </Field>
              )}
            </div>

            {progress ? (
              <UploadProgressBar
                progress={progress}
                phase={phase}
                processingLabel="Checking every row…"
                data-testid="dataset-upload-progress"
              />
            ) : null}

            {failure && failure.problems.length > 0 ? (
              <Alert variant="error" role="alert" data-testid="dataset-problems">
                <div className="min-w-0">
                  <p className="font-medium">
                    Nothing was stored: {failure.problemCount} problem
                    {failure.problemCount === 1 ? "" : "s"} in the file
                    {failure.problemCount > failure.problems.length
                      ? ` (the first ${failure.problems.length} are listed)`
                      : ""}
                    .
                  </p>
                  <ul className="mt-1.5 max-h-48 list-none space-y-0.5 overflow-auto font-mono text-xs">
                    {failure.problems.map((p, i) => (
                      <li key={i} data-testid="dataset-problem">
                        {p.message}
                      </li>
                    ))}
                  </ul>
                </div>
              </Alert>
            ) : failure && failure.fields.length === 0 ? (
              <Alert variant="error" role="alert">
                {failure.message}
              </Alert>
            ) : null}
          </DialogBody>
          <DialogFooter>
            {busy ? (
              <Button type="button" variant="outline" onClick={abort}>
                <XIcon aria-hidden /> Cancel upload
              </Button>
            ) : (
              <Button type="button" variant="outline" onClick={() => setOpen(false)}>
                Close
              </Button>
            )}
            <Button
              type="submit"
              variant="primary"
              loading={busy}
              disabled={!file || !label || !name || (columns.length > 0 && features.length === 0)}
            >
              Upload and check
            </Button>
          </DialogFooter>
        </form>
      </DialogContent>
    </Dialog>
  );
}
