"use client";

import { useRouter } from "next/navigation";
import { useState } from "react";
import { PlusIcon } from "lucide-react";
import { ApiClientError, apiFetch } from "@/components/api-client";
import { Alert } from "@/components/ui/alert";
import { Button } from "@/components/ui/button";
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
import { SimpleSelect } from "@/components/ui/select";
import { Textarea } from "@/components/ui/textarea";

const taskOptions = [
  { value: "classification", label: "Classification" },
  { value: "regression", label: "Regression" },
  { value: "other", label: "Other" },
];

/** Registers a model; its versions are uploaded on the model's page. */
export function CreateModelDialog({ canRequireApproval }: { canRequireApproval: boolean }) {
  const router = useRouter();
  const [open, setOpen] = useState(false);
  const [task, setTask] = useState("classification");
  const [error, setError] = useState<ApiClientError | null>(null);
  const [busy, setBusy] = useState(false);

  async function onSubmit(event: React.FormEvent<HTMLFormElement>) {
    event.preventDefault();
    const form = new FormData(event.currentTarget);
    const name = String(form.get("name") ?? "").trim();
    const description = String(form.get("description") ?? "").trim();
    const tags = String(form.get("tags") ?? "")
      .split(",")
      .map((t) => t.trim())
      .filter(Boolean);
    setBusy(true);
    setError(null);
    try {
      await apiFetch("/api/v1/models", {
        method: "POST",
        body: {
          name,
          task,
          ...(description ? { description } : {}),
          ...(tags.length ? { tags } : {}),
          ...(canRequireApproval && form.get("approvalRequired") === "on"
            ? { approvalRequired: true }
            : {}),
        },
      });
      router.push(`/models/${encodeURIComponent(name)}`);
    } catch (e) {
      setError(e instanceof ApiClientError ? e : new ApiClientError(String(e), 0, "network"));
      setBusy(false);
    }
  }

  return (
    <Dialog
      open={open}
      onOpenChange={(next) => {
        setOpen(next);
        if (!next) setError(null);
      }}
    >
      <DialogTrigger asChild>
        <Button variant="primary">
          <PlusIcon aria-hidden /> New model
        </Button>
      </DialogTrigger>
      <DialogContent>
        <DialogHeader>
          <DialogTitle>New model</DialogTitle>
          <DialogDescription>
            A named entry for the versions of one model. Upload versions next.
          </DialogDescription>
        </DialogHeader>
        <form onSubmit={onSubmit}>
          <DialogBody className="space-y-4">
            {error && error.fields.length === 0 ? (
              <Alert variant="error">{error.message}</Alert>
            ) : null}
            <Field
              label="Name"
              required
              hint="Lower-case letters, digits, - _ . (used in URLs and the serving API)."
              error={error?.fieldError("name")}
            >
              <Input name="name" autoComplete="off" placeholder="churn-classifier" />
            </Field>
            <Field label="Task" required error={error?.fieldError("task")}>
              {(control) => (
                <SimpleSelect
                  {...control}
                  value={task}
                  onValueChange={setTask}
                  options={taskOptions}
                />
              )}
            </Field>
            <Field label="Description" optional error={error?.fieldError("description")}>
              <Textarea name="description" rows={2} />
            </Field>
            <Field label="Tags" optional hint="Comma-separated." error={error?.fieldError("tags")}>
              <Input name="tags" autoComplete="off" placeholder="tabular, churn" />
            </Field>
            {canRequireApproval ? (
              <label className="flex items-start gap-2 text-sm">
                <input
                  type="checkbox"
                  name="approvalRequired"
                  className="mt-0.5 size-4 accent-[var(--accent)]"
                />
                <span>
                  Require approval for production
                  <span className="block text-xs text-muted-foreground">
                    Moving production then needs another admin to approve.
                  </span>
                </span>
              </label>
            ) : null}
          </DialogBody>
          <DialogFooter>
            <Button type="button" variant="outline" onClick={() => setOpen(false)}>
              Cancel
            </Button>
            <Button type="submit" variant="primary" loading={busy}>
              Create model
            </Button>
          </DialogFooter>
        </form>
      </DialogContent>
    </Dialog>
  );
}
