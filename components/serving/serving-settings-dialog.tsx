"use client";

import { PencilIcon } from "lucide-react";
import { apiFetch } from "@/components/api-client";
import { FormDialog } from "@/components/form-dialog";
import { Button } from "@/components/ui/button";
import { NumberField } from "@/components/ui/number-field";
import type { ServingSettings } from "@/lib/serving/settings";

/** A share 0…1 as a percentage without float noise (0.1 → "10", 0.125 → "12.5"). */
export const percentOf = (share: number) => String(Math.round(share * 100_000) / 1000);

/** The form's fields; `setting` is the API field an error names (the rate is sent as a share). */
const FIELDS: {
  name: string;
  setting: keyof ServingSettings;
  label: string;
  hint: string;
  integer: boolean;
  min: number;
  max: number;
  value: (s: ServingSettings) => number | string;
}[] = [
  {
    name: "maxBatchSize",
    setting: "maxBatchSize",
    label: "Max batch size",
    hint: "Rows per onnxruntime call (1–4096).",
    integer: true,
    min: 1,
    max: 4096,
    value: (s) => s.maxBatchSize,
  },
  {
    name: "maxQueueDelayMicros",
    setting: "maxQueueDelayMicros",
    label: "Max queue delay (µs)",
    hint: "How long a request may wait for others to join its batch; 0 never waits.",
    integer: true,
    min: 0,
    max: 1_000_000,
    value: (s) => s.maxQueueDelayMicros,
  },
  {
    name: "maxQueueLength",
    setting: "maxQueueLength",
    label: "Max queue length",
    hint: "Requests waiting beyond this get 503 with Retry-After.",
    integer: true,
    min: 1,
    max: 100_000,
    value: (s) => s.maxQueueLength,
  },
  {
    name: "payloadSamplePercent",
    setting: "payloadSampleRate",
    label: "Payload sample rate (%)",
    hint: "Share of requests whose inputs and outputs are kept in the prediction log.",
    integer: false,
    min: 0,
    max: 100,
    value: (s) => percentOf(s.payloadSampleRate),
  },
];

/** Edits a model's dynamic batching and payload sampling; every serving instance applies it. */
export function ServingSettingsDialog({
  model,
  settings,
  onSaved,
}: {
  model: string;
  settings: ServingSettings;
  onSaved: (settings: ServingSettings) => void;
}) {
  return (
    <FormDialog
      trigger={
        <Button variant="outline" size="sm" aria-label="Edit serving settings">
          <PencilIcon aria-hidden /> Edit
        </Button>
      }
      title={`Serving settings of ${model}`}
      description="Serving instances pick up a change within moments; requests in flight finish with the old settings."
      submitLabel="Save"
      onSubmit={async (form) => {
        const number = (key: string) => Number(String(form.get(key) ?? "").trim());
        const saved = await apiFetch<ServingSettings>(
          `/api/v1/models/${encodeURIComponent(model)}/serving`,
          {
            method: "PUT",
            body: {
              maxBatchSize: number("maxBatchSize"),
              maxQueueDelayMicros: number("maxQueueDelayMicros"),
              maxQueueLength: number("maxQueueLength"),
              // Rounded so 10.1 % is sent as 0.101, not 0.10099999999999999.
              payloadSampleRate: Math.round(number("payloadSamplePercent") * 1000) / 100_000,
            },
          },
        );
        onSaved(saved);
      }}
    >
      {(error) => (
        <div className="grid items-start gap-4 sm:grid-cols-2">
          {FIELDS.map((f) => (
            <NumberField
              key={f.name}
              label={f.label}
              required
              hint={f.hint}
              error={error?.fieldError(f.setting)}
              name={f.name}
              integer={f.integer}
              min={f.min}
              max={f.max}
              defaultValue={f.value(settings)}
            />
          ))}
        </div>
      )}
    </FormDialog>
  );
}
