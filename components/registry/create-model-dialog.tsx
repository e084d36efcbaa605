"use client";

import { useRouter } from "next/navigation";
import { useState } from "react";
import { PlusIcon } from "lucide-react";
import { apiFetch } from "@/components/api-client";
import { FormDialog } from "@/components/form-dialog";
import { Button } from "@/components/ui/button";
import { Field } from "@/components/ui/field";
import { Input } from "@/components/ui/input";
import { SimpleSelect } from "@/components/ui/select";
import { Textarea } from "@/components/ui/textarea";
import { ApprovalCheckbox, TASK_OPTIONS, tagsFrom } from "./model-fields";

/** Registers a model; its versions are uploaded on the model's page. */
export function CreateModelDialog({ canRequireApproval }: { canRequireApproval: boolean }) {
  const router = useRouter();
  const [task, setTask] = useState("classification");
  return (
    <FormDialog
      trigger={
        <Button variant="primary">
          <PlusIcon aria-hidden /> New model
        </Button>
      }
      title="New model"
      description="A named entry for the versions of one model. Upload versions next."
      submitLabel="Create model"
      onSubmit={async (form) => {
        const name = String(form.get("name") ?? "").trim();
        const description = String(form.get("description") ?? "").trim();
        const tags = tagsFrom(form);
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
      }}
    >
      {(error) => (
        <>
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
                options={TASK_OPTIONS}
              />
            )}
          </Field>
          <Field label="Description" optional error={error?.fieldError("description")}>
            <Textarea name="description" rows={2} />
          </Field>
          <Field label="Tags" optional hint="Comma-separated." error={error?.fieldError("tags")}>
            <Input name="tags" autoComplete="off" placeholder="tabular, churn" />
          </Field>
          {canRequireApproval ? <ApprovalCheckbox /> : null}
        </>
      )}
    </FormDialog>
  );
}
