"use client";

import { useState } from "react";
import { ShieldCheckIcon } from "lucide-react";
import { apiFetch } from "@/components/api-client";
import { FormDialog } from "@/components/form-dialog";
import { Time } from "@/components/time";
import { Badge } from "@/components/ui/badge";
import { Button } from "@/components/ui/button";
import { Field } from "@/components/ui/field";
import { NativeSelect } from "@/components/ui/native-select";
import { NumberField } from "@/components/ui/number-field";
import type { GateConfig } from "@/lib/evaluation/gate";
import { METRIC_NAMES, METRICS, type MetricName } from "@/lib/evaluation/metrics";
import type { ActorRef } from "@/lib/evaluation/types";

export type GateCardView = GateConfig & {
  model: string;
  isDefault: boolean;
  updatedAt: string | null;
  updatedBy: ActorRef | null;
};

const num = (n: number) => String(+n.toPrecision(6));

/**
 * The model's promotion gate as a short list of rules, and (for operators) an editor.
 * Refresh jobs promote a candidate only when it passes every rule shown here.
 */
export function GateCard({
  initial,
  task,
  canEdit,
}: {
  initial: GateCardView;
  task: "classification" | "regression" | "other";
  canEdit: boolean;
}) {
  const [gate, setGate] = useState(initial);
  const [metric, setMetric] = useState<MetricName>(initial.primaryMetric);
  const metrics = METRIC_NAMES.filter((m) => task === "other" || METRICS[m].task === task);
  const arrow = gate.direction === "higher" ? "↑ higher is better" : "↓ lower is better";

  const rules: [string, string, string][] = [
    ["primary-metric", "Primary metric", `${METRICS[gate.primaryMetric].label} (${arrow})`],
    [
      "improvement",
      "Improvement over production",
      `at least ${num(gate.minAbsoluteImprovement)} and ${num(gate.minRelativeImprovementPct)}%` +
        (gate.minAbsoluteImprovement === 0 && gate.minRelativeImprovementPct === 0
          ? " (any improvement)"
          : ""),
    ],
    [
      "latency",
      "p95 latency (batch 1)",
      gate.maxLatencyRegressionPct === null
        ? "not checked"
        : `may grow by at most ${num(gate.maxLatencyRegressionPct)}%`,
    ],
    ["rows", "Dataset rows", gate.minDatasetRows > 0 ? `at least ${gate.minDatasetRows}` : "any"],
  ];

  return (
    <div className="rounded-lg border border-border bg-card p-4" data-testid="gate-card">
      <div className="mb-3 flex items-center justify-between gap-2">
        <div className="flex items-center gap-2 text-sm font-medium">
          <ShieldCheckIcon className="size-4 text-muted-foreground" aria-hidden /> Promotion gate
          {gate.isDefault ? <Badge variant="neutral">default</Badge> : null}
        </div>
        {canEdit ? (
          <FormDialog
            trigger={
              <Button size="sm" variant="outline">
                Edit gate
              </Button>
            }
            title="Edit the promotion gate"
            description="A candidate version is promoted automatically only when it passes every rule against the version in production, evaluated on the same dataset."
            submitLabel="Save gate"
            onSubmit={async (form) => {
              const optionalNumber = (key: string) => {
                const text = String(form.get(key) ?? "").trim();
                return text === "" ? null : Number(text);
              };
              const { gate: saved } = await apiFetch<{ gate: GateCardView }>(
                `/api/v1/models/${encodeURIComponent(gate.model)}/gate`,
                {
                  method: "PUT",
                  body: {
                    primaryMetric: form.get("primaryMetric"),
                    direction: form.get("direction"),
                    minAbsoluteImprovement: optionalNumber("minAbsoluteImprovement") ?? 0,
                    minRelativeImprovementPct: optionalNumber("minRelativeImprovementPct") ?? 0,
                    maxLatencyRegressionPct: optionalNumber("maxLatencyRegressionPct"),
                    minDatasetRows: optionalNumber("minDatasetRows") ?? 0,
                  },
                },
              );
              setGate(saved);
            }}
          >
            {(error) => (
              <div className="grid items-start gap-3 sm:grid-cols-2">
                <Field label="Primary metric" error={error?.fieldError("primaryMetric")}>
                  <NativeSelect
                    name="primaryMetric"
                    value={metric}
                    onChange={(e) => setMetric(e.target.value as MetricName)}
                  >
                    {metrics.map((m) => (
                      <option key={m} value={m}>
                        {METRICS[m].label}
                      </option>
                    ))}
                  </NativeSelect>
                </Field>
                <Field label="Better when">
                  <NativeSelect
                    name="direction"
                    key={metric}
                    defaultValue={METRICS[metric].direction}
                  >
                    <option value="higher">higher</option>
                    <option value="lower">lower</option>
                  </NativeSelect>
                </Field>
                <NumberField
                  label="Min. absolute improvement"
                  hint="In the metric's units (0.01 = one point of accuracy)."
                  error={error?.fieldError("minAbsoluteImprovement")}
                  name="minAbsoluteImprovement"
                  min={0}
                  defaultValue={gate.minAbsoluteImprovement}
                />
                <NumberField
                  label="Min. relative improvement (%)"
                  error={error?.fieldError("minRelativeImprovementPct")}
                  name="minRelativeImprovementPct"
                  min={0}
                  defaultValue={gate.minRelativeImprovementPct}
                />
                <NumberField
                  label="Max. p95 latency increase (%)"
                  optional
                  hint="Empty: latency is not checked."
                  error={error?.fieldError("maxLatencyRegressionPct")}
                  name="maxLatencyRegressionPct"
                  min={0}
                  defaultValue={gate.maxLatencyRegressionPct ?? ""}
                />
                <NumberField
                  label="Min. dataset rows"
                  error={error?.fieldError("minDatasetRows")}
                  name="minDatasetRows"
                  integer
                  min={0}
                  defaultValue={gate.minDatasetRows}
                />
              </div>
            )}
          </FormDialog>
        ) : null}
      </div>
      <dl className="grid gap-x-4 gap-y-2 text-[13px] sm:grid-cols-2">
        {rules.map(([id, term, value]) => (
          <div key={id} className="grid content-start gap-0.5">
            <dt className="text-xs text-muted-foreground">{term}</dt>
            <dd data-testid={`gate-${id}`}>{value}</dd>
          </div>
        ))}
      </dl>
      <p className="mt-3 text-xs text-muted-foreground">
        {gate.isDefault || !gate.updatedAt ? (
          "No gate set for this model: the default applies (the primary metric must improve)."
        ) : (
          <>
            Set by {gate.updatedBy?.label} · <Time value={gate.updatedAt} />
          </>
        )}
      </p>
    </div>
  );
}
