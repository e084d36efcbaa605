"use client";

import { PencilIcon } from "lucide-react";
import { apiFetch } from "@/components/api-client";
import { FormDialog } from "@/components/form-dialog";
import { Button } from "@/components/ui/button";
import { Field } from "@/components/ui/field";
import { Input } from "@/components/ui/input";
import type { ServingSettings } from "@/lib/serving/settings";

/** A share 0…1 as a percentage without float noise (0.1 → "10", 0.125 → "12.5"). */
export const percentOf = (share: number) => String(Math.round(share * 100_000) / 1000);

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
          <Field
            label="Max batch size"
            required
            hint="Rows per onnxruntime call (1–4096)."
            error={error?.fieldError("maxBatchSize")}
          >
            <Input
              name="maxBatchSize"
              type="number"
              inputMode="numeric"
              min={1}
              max={4096}
              step={1}
              defaultValue={settings.maxBatchSize}
            />
          </Field>
          <Field
            label="Max queue delay (µs)"
            required
            hint="How long a request may wait for others to join its batch; 0 never waits."
            error={error?.fieldError("maxQueueDelayMicros")}
          >
            <Input
              name="maxQueueDelayMicros"
              type="number"
              inputMode="numeric"
              min={0}
              max={1_000_000}
              step={1}
              defaultValue={settings.maxQueueDelayMicros}
            />
          </Field>
          <Field
            label="Max queue length"
            required
            hint="Requests waiting beyond this get 503 with Retry-After."
            error={error?.fieldError("maxQueueLength")}
          >
            <Input
              name="maxQueueLength"
              type="number"
              inputMode="numeric"
              min={1}
              max={100_000}
              step={1}
              defaultValue={settings.maxQueueLength}
            />
          </Field>
          <Field
            label="Payload sample rate (%)"
            required
            hint="Share of requests whose inputs and outputs are kept in the prediction log."
            error={error?.fieldError("payloadSampleRate")}
          >
            <Input
              name="payloadSamplePercent"
              type="number"
              inputMode="decimal"
              min={0}
              max={100}
              step="any"
              defaultValue={percentOf(settings.payloadSampleRate)}
            />
          </Field>
        </div>
      )}
    </FormDialog>
  );
}
