"use client";

import { useRouter } from "next/navigation";
import { useState } from "react";
import { PencilIcon } from "lucide-react";
import { apiFetch } from "@/components/api-client";
import { FormDialog } from "@/components/form-dialog";
import { Button } from "@/components/ui/button";
import { Field } from "@/components/ui/field";
import { Input } from "@/components/ui/input";
import { SimpleSelect } from "@/components/ui/select";
import { Textarea } from "@/components/ui/textarea";
import { ApprovalCheckbox, TASK_OPTIONS, tagsFrom } from "./model-fields";

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
  const [task, setTask] = useState(model.task);
  return (
    <FormDialog
      trigger={
        <Button variant="outline">
          <PencilIcon aria-hidden /> Edit
        </Button>
      }
      title={`Edit ${model.name}`}
      description="The name is fixed: clients and the serving API use it."
      submitLabel="Save"
      onSubmit={async (form) => {
        await apiFetch(`/api/v1/models/${encodeURIComponent(model.name)}`, {
          method: "PATCH",
          body: {
            description: String(form.get("description") ?? "").trim(),
            task,
            tags: tagsFrom(form),
            ...(isAdmin ? { approvalRequired: form.get("approvalRequired") === "on" } : {}),
          },
        });
        router.refresh();
      }}
    >
      {(error) => (
        <>
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
            <Textarea name="description" rows={3} defaultValue={model.description} />
          </Field>
          <Field label="Tags" optional hint="Comma-separated." error={error?.fieldError("tags")}>
            <Input name="tags" defaultValue={model.tags.join(", ")} autoComplete="off" />
          </Field>
          {isAdmin ? <ApprovalCheckbox defaultChecked={model.approvalRequired} /> : null}
        </>
      )}
    </FormDialog>
  );
}
