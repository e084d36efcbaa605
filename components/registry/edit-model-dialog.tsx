"use client";

import { useRouter } from "next/navigation";
import { useState } from "react";
import { PencilIcon } from "lucide-react";
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

type Model = {
  name: string;
  description: string;
  task: string;
  tags: string[];
  approvalRequired: boolean;
};

/** Edits a model's description, task, tags and (admins only) the production approval rule. */
export function EditModelDialog({ model, isAdmin }: { model: Model; isAdmin: boolean }) {
  const router = useRouter();
  const [open, setOpen] = useState(false);
  const [task, setTask] = useState(model.task);
  const [error, setError] = useState<ApiClientError | null>(null);
  const [busy, setBusy] = useState(false);

  async function onSubmit(event: React.FormEvent<HTMLFormElement>) {
    event.preventDefault();
    const form = new FormData(event.currentTarget);
    const tags = String(form.get("tags") ?? "")
      .split(",")
      .map((t) => t.trim())
      .filter(Boolean);
    const body: Record<string, unknown> = {
      description: String(form.get("description") ?? "").trim(),
      task,
      tags,
    };
    if (isAdmin) body.approvalRequired = form.get("approvalRequired") === "on";
    setBusy(true);
    setError(null);
    try {
      await apiFetch(`/api/v1/models/${encodeURIComponent(model.name)}`, { method: "PATCH", body });
      setOpen(false);
      router.refresh();
    } catch (e) {
      setError(e instanceof ApiClientError ? e : new ApiClientError(String(e), 0, "network"));
    } finally {
      setBusy(false);
    }
  }

  return (
    <Dialog open={open} onOpenChange={setOpen}>
      <DialogTrigger asChild>
        <Button variant="outline">
          <PencilIcon aria-hidden /> Edit
        </Button>
      </DialogTrigger>
      <DialogContent>
        <DialogHeader>
          <DialogTitle>Edit {model.name}</DialogTitle>
          <DialogDescription>
            The name is fixed: clients and the serving API use it.
          </DialogDescription>
        </DialogHeader>
        <form onSubmit={onSubmit}>
          <DialogBody className="space-y-4">
            {error && error.fields.length === 0 ? (
              <Alert variant="error">{error.message}</Alert>
            ) : null}
            <Field label="Task" required error={error?.fieldError("task")}>
              {(control) => (
                <SimpleSelect
                  {...control}
                  value={task}
                  onValueChange={setTask}
                  options={[
                    { value: "classification", label: "Classification" },
                    { value: "regression", label: "Regression" },
                    { value: "other", label: "Other" },
                  ]}
                />
              )}
            </Field>
            <Field label="Description" optional error={error?.fieldError("description")}>
              <Textarea name="description" rows={3} defaultValue={model.description} />
            </Field>
            <Field label="Tags" optional hint="Comma-separated." error={error?.fieldError("tags")}>
              <Input name="tags" defaultValue={model.tags.join(", ")} autoComplete="off" />
            </Field>
            {isAdmin ? (
              <label className="flex items-start gap-2 text-sm">
                <input
                  type="checkbox"
                  name="approvalRequired"
                  defaultChecked={model.approvalRequired}
                  className="mt-0.5 size-4 accent-[var(--accent)]"
                />
                <span>
                  Require approval for production
                  <span className="block text-xs text-muted-foreground">
                    Moving production then creates a request another admin must approve.
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
              Save
            </Button>
          </DialogFooter>
        </form>
      </DialogContent>
    </Dialog>
  );
}
