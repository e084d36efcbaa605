"use client";

import { useRouter } from "next/navigation";
import { useState } from "react";
import { PencilIcon, PlusIcon } from "lucide-react";
import { apiFetch } from "@/components/api-client";
import { FormDialog } from "@/components/form-dialog";
import { Button } from "@/components/ui/button";
import { Field } from "@/components/ui/field";
import { Input } from "@/components/ui/input";
import { NumberField } from "@/components/ui/number-field";
import { SimpleSelect } from "@/components/ui/select";
import { Textarea } from "@/components/ui/textarea";
import {
  ACTION_LABELS,
  ACTION_TYPES,
  type ActionType,
  type JobAction,
} from "@/lib/jobs/action-schema";
import type { JobView } from "@/lib/jobs/views";
import { ScheduleFields } from "./schedule-fields";

const ACTION_OPTIONS = ACTION_TYPES.map((t) => ({ value: t, label: ACTION_LABELS[t] }));
const CANDIDATE_OPTIONS = [
  { value: "newer-than-production", label: "Versions newer than production" },
  { value: "challenger", label: "The challenger alias" },
];
const TRAINER_OPTIONS = [
  { value: "builtin", label: "Built-in (logistic or linear regression)" },
  { value: "external", label: "External trainer command" },
];
const TRAINER_HINTS: Record<string, string> = {
  builtin:
    "Trains multinomial logistic regression (classification) or linear regression with L2 (regression) on the dataset, with production's input and feature order; the new version's parent is production.",
  external:
    "Runs the trainer command an admin configured (MODELDECK_TRAINER_COMMAND) with DATASET_PATH and OUTPUT_PATH.",
};
const NONE = "__none__";

export type JobFormChoices = { models: string[]; datasets: string[] };

function browserTimezone(): string {
  try {
    return Intl.DateTimeFormat().resolvedOptions().timeZone || "UTC";
  } catch {
    return "UTC";
  }
}

/** The action object the API expects, from the form's fields. */
function actionFrom(
  type: ActionType,
  form: FormData,
  state: { dataset: string; candidates: string; thenEvaluate: string; trainer: string },
): Record<string, unknown> {
  const text = (name: string) => String(form.get(name) ?? "").trim();
  switch (type) {
    case "import":
      return {
        type,
        directory: text("directory"),
        ...(state.thenEvaluate !== NONE ? { thenEvaluate: { dataset: state.thenEvaluate } } : {}),
      };
    case "evaluate-and-promote":
      return { type, dataset: state.dataset, candidates: state.candidates };
    case "retrain": {
      const limit = Number(text("timeLimitSeconds") || "1800");
      return {
        type,
        trainer: state.trainer,
        dataset: state.dataset,
        timeLimitSeconds: Number.isFinite(limit) ? limit : 1800,
        thenEvaluate: form.get("retrainThenEvaluate") === "on",
      };
    }
  }
}

/**
 * Creates or edits a refresh job: model, schedule (checked as it is typed, with its next
 * five fire times in the chosen time zone) and the action with its parameters.
 */
export function JobFormDialog({
  choices,
  job,
}: {
  choices: JobFormChoices;
  /** Edit this job; without it the dialog creates one. */
  job?: JobView;
}) {
  const router = useRouter();
  const action = job?.action as (JobAction & Record<string, unknown>) | undefined;
  const [model, setModel] = useState(job?.model.name ?? choices.models[0] ?? "");
  const [type, setType] = useState<ActionType>(action?.type ?? "import");
  const [dataset, setDataset] = useState(
    (action && "dataset" in action ? String(action.dataset) : undefined) ??
      choices.datasets[0] ??
      "",
  );
  const [candidates, setCandidates] = useState(
    action?.type === "evaluate-and-promote" ? action.candidates : "newer-than-production",
  );
  const [thenEvaluate, setThenEvaluate] = useState(
    action?.type === "import" && action.thenEvaluate ? action.thenEvaluate.dataset : NONE,
  );
  const [trainer, setTrainer] = useState<string>(
    action?.type === "retrain" ? action.trainer : "builtin",
  );
  const modelOptions = choices.models.map((m) => ({ value: m, label: m }));
  const datasetOptions = choices.datasets.map((d) => ({ value: d, label: d }));
  const editing = job !== undefined;

  return (
    <FormDialog
      size="lg"
      trigger={
        editing ? (
          <Button variant="outline">
            <PencilIcon aria-hidden /> Edit
          </Button>
        ) : (
          <Button variant="primary">
            <PlusIcon aria-hidden /> New job
          </Button>
        )
      }
      title={editing ? `Edit ${job.name}` : "New refresh job"}
      description="A cron schedule and what to do on each fire. Every fire is one run, with its log and result."
      submitLabel={editing ? "Save job" : "Create job"}
      onSubmit={async (form) => {
        const body = {
          model,
          schedule: String(form.get("schedule") ?? "").trim(),
          timezone: String(form.get("timezone") ?? "").trim(),
          description: String(form.get("description") ?? "").trim(),
          action: actionFrom(type, form, { dataset, candidates, thenEvaluate, trainer }),
        };
        if (editing) {
          await apiFetch(`/api/v1/jobs/${job.id}`, { method: "PATCH", body });
          router.refresh();
        } else {
          const name = String(form.get("name") ?? "").trim();
          await apiFetch("/api/v1/jobs", {
            method: "POST",
            body: { name, enabled: form.get("enabled") === "on", ...body },
          });
          router.push(`/jobs/${encodeURIComponent(name)}`);
        }
      }}
    >
      {(error) => (
        <>
          <div className="grid items-start gap-4 sm:grid-cols-2">
            {editing ? null : (
              <Field
                label="Name"
                required
                hint="Lower-case letters, digits, - _ . (used in URLs)."
                error={error?.fieldError("name")}
              >
                <Input name="name" autoComplete="off" placeholder="nightly-import" />
              </Field>
            )}
            <Field label="Model" required error={error?.fieldError("model")}>
              {(control) => (
                <SimpleSelect
                  {...control}
                  value={model}
                  onValueChange={setModel}
                  options={modelOptions}
                  placeholder={modelOptions.length ? "Select a model" : "No models yet"}
                />
              )}
            </Field>
          </div>
          <ScheduleFields
            defaultSchedule={job?.schedule ?? ""}
            defaultTimezone={job?.timezone ?? browserTimezone()}
            errors={{
              schedule: error?.fieldError("schedule"),
              timezone: error?.fieldError("timezone"),
            }}
          />
          <Field label="Action" required error={error?.fieldError("action.type")}>
            {(control) => (
              <SimpleSelect
                {...control}
                value={type}
                onValueChange={(v) => setType(v as ActionType)}
                options={ACTION_OPTIONS}
              />
            )}
          </Field>
          {type === "import" ? (
            <>
              <Field
                label="Import directory"
                required
                hint="A folder inside the data directory's imports/ folder; new .onnx files there become versions."
                error={error?.fieldError("action.directory")}
              >
                <Input
                  name="directory"
                  autoComplete="off"
                  spellCheck={false}
                  defaultValue={action?.type === "import" ? action.directory : ""}
                  placeholder="incoming"
                />
              </Field>
              <Field
                label="Then evaluate on"
                optional
                hint="Evaluate the imported versions and promote the best that passes the model's gate."
                error={error?.fieldError("action.thenEvaluate.dataset")}
              >
                {(control) => (
                  <SimpleSelect
                    {...control}
                    value={thenEvaluate}
                    onValueChange={setThenEvaluate}
                    options={[{ value: NONE, label: "Do not evaluate" }, ...datasetOptions]}
                  />
                )}
              </Field>
            </>
          ) : (
            <Field label="Dataset" required error={error?.fieldError("action.dataset")}>
              {(control) => (
                <SimpleSelect
                  {...control}
                  value={dataset}
                  onValueChange={setDataset}
                  options={datasetOptions}
                  placeholder={datasetOptions.length ? "Select a dataset" : "No datasets yet"}
                />
              )}
            </Field>
          )}
          {type === "evaluate-and-promote" ? (
            <Field label="Candidates" required error={error?.fieldError("action.candidates")}>
              {(control) => (
                <SimpleSelect
                  {...control}
                  value={candidates}
                  onValueChange={(v) => setCandidates(v as typeof candidates)}
                  options={CANDIDATE_OPTIONS}
                />
              )}
            </Field>
          ) : null}
          {type === "retrain" ? (
            <>
              <Field
                label="Trainer"
                required
                hint={TRAINER_HINTS[trainer]}
                error={error?.fieldError("action.trainer")}
              >
                {(control) => (
                  <SimpleSelect
                    {...control}
                    value={trainer}
                    onValueChange={setTrainer}
                    options={TRAINER_OPTIONS}
                  />
                )}
              </Field>
              {trainer === "external" ? (
                <NumberField
                  label="Time limit (seconds)"
                  hint="The trainer command is stopped after this long and the run fails."
                  error={error?.fieldError("action.timeLimitSeconds")}
                  name="timeLimitSeconds"
                  integer
                  min={1}
                  max={86400}
                  defaultValue={action?.type === "retrain" ? action.timeLimitSeconds : 1800}
                />
              ) : null}
              <label className="flex items-start gap-2 text-sm">
                <input
                  type="checkbox"
                  name="retrainThenEvaluate"
                  defaultChecked={action?.type === "retrain" ? action.thenEvaluate : false}
                  className="mt-0.5 size-4 accent-[var(--accent)]"
                />
                <span>
                  Then evaluate and promote
                  <span className="block text-xs text-muted-foreground">
                    The new version competes with production on the same dataset.
                  </span>
                </span>
              </label>
            </>
          ) : null}
          <Field label="Description" optional error={error?.fieldError("description")}>
            <Textarea name="description" rows={2} defaultValue={job?.description ?? ""} />
          </Field>
          {editing ? null : (
            <label className="flex items-start gap-2 text-sm">
              <input
                type="checkbox"
                name="enabled"
                defaultChecked
                className="mt-0.5 size-4 accent-[var(--accent)]"
              />
              <span>
                Enabled
                <span className="block text-xs text-muted-foreground">
                  A disabled job does not fire; Run now still works.
                </span>
              </span>
            </label>
          )}
        </>
      )}
    </FormDialog>
  );
}
