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
  ALERT_COMPARISONS,
  ALERT_METRICS,
  ALERT_SEVERITIES,
  METRIC_DEFINITIONS,
  type AlertComparison,
  type AlertMetric,
  type AlertSeverity,
} from "@/lib/alerts/definitions";
import type { AlertRuleView } from "@/lib/alerts/rules";

export type RuleModelChoice = {
  name: string;
  task: string;
  latestVersion: number | null;
  aliases: string[];
};

const ALL = "all";
const COMPARISON_LABELS: Record<AlertComparison, string> = {
  gt: "above (>)",
  gte: "at or above (≥)",
  lt: "below (<)",
  lte: "at or below (≤)",
};

function scopeValue(rule?: AlertRuleView): string {
  if (rule?.version != null) return `version:${rule.version}`;
  if (rule?.alias) return `alias:${rule.alias}`;
  return ALL;
}

/**
 * Creates or edits an alert rule. The threshold's unit and a hint follow the chosen metric;
 * metrics the model's task lacks are not offered; the API's field messages show in place.
 */
export function AlertRuleFormDialog({
  models,
  rule,
}: {
  models: RuleModelChoice[];
  rule?: AlertRuleView;
}) {
  const router = useRouter();
  const editing = rule !== undefined;
  const [model, setModel] = useState(rule?.model.name ?? models[0]?.name ?? "");
  const [metric, setMetric] = useState<AlertMetric>(rule?.metric ?? "latency_p95");
  const [comparison, setComparison] = useState<AlertComparison>(rule?.comparison ?? "gt");
  const [severity, setSeverity] = useState<AlertSeverity>(rule?.severity ?? "warning");
  const [scope, setScope] = useState(scopeValue(rule));
  const choice = models.find((m) => m.name === model);
  const def = METRIC_DEFINITIONS[metric];

  // A replaced metric (error_rate) is offered only to the rule that already uses it.
  const metricOptions = ALERT_METRICS.filter((m) => {
    const { task: needs, replacedBy } = METRIC_DEFINITIONS[m];
    if (replacedBy && m !== metric) return false;
    return !needs || !choice || choice.task === needs || m === metric;
  }).map((m) => ({ value: m, label: METRIC_DEFINITIONS[m].label }));
  const aliasNames = [...new Set(["production", "staging", ...(choice?.aliases ?? [])])];
  const scopeOptions = [
    { value: ALL, label: "All versions" },
    ...aliasNames.map((a) => ({ value: `alias:${a}`, label: `Alias ${a}` })),
    ...Array.from({ length: choice?.latestVersion ?? 0 }, (_, i) => choice!.latestVersion! - i).map(
      (v) => ({ value: `version:${v}`, label: `Version ${v}` }),
    ),
  ];

  return (
    <FormDialog
      size="lg"
      trigger={
        editing ? (
          <Button variant="ghost" size="sm" aria-label={`Edit rule ${rule.name}`}>
            <PencilIcon aria-hidden /> Edit
          </Button>
        ) : (
          <Button variant="primary">
            <PlusIcon aria-hidden /> New rule
          </Button>
        )
      }
      title={editing ? `Edit ${rule.name}` : "New alert rule"}
      description="A metric of one model over a window, compared with a threshold. Evaluated every few seconds by the scheduler; no data neither fires nor resolves an alert."
      submitLabel={editing ? "Save rule" : "Create rule"}
      onSubmit={async (form) => {
        const num = (name: string) => {
          const raw = String(form.get(name) ?? "").trim();
          return raw === "" ? Number.NaN : Number(raw);
        };
        const [scopeKind, scopeArg] = scope.split(":");
        const body = {
          name: String(form.get("name") ?? "").trim(),
          description: String(form.get("description") ?? "").trim(),
          model,
          metric,
          comparison,
          severity,
          version: scopeKind === "version" ? Number(scopeArg) : null,
          alias: scopeKind === "alias" ? scopeArg : null,
          threshold: num("threshold"),
          windowSeconds: Math.round(num("windowMinutes") * 60),
          forSeconds: num("forSeconds"),
          keepFiringForSeconds: num("keepFiringForSeconds"),
          enabled: form.get("enabled") === "on",
        };
        if (editing) {
          await apiFetch(`/api/v1/alert-rules/${rule.id}`, { method: "PATCH", body });
        } else {
          await apiFetch("/api/v1/alert-rules", { method: "POST", body });
        }
        router.refresh();
      }}
    >
      {(error) => (
        <>
          <Field label="Name" required error={error?.fieldError("name")}>
            <Input
              name="name"
              autoComplete="off"
              defaultValue={rule?.name ?? ""}
              placeholder="p95 latency too high"
            />
          </Field>
          <div className="grid items-start gap-4 sm:grid-cols-2">
            <Field label="Model" required error={error?.fieldError("model")}>
              {(control) => (
                <SimpleSelect
                  {...control}
                  value={model}
                  onValueChange={(v) => {
                    setModel(v);
                    setScope(ALL);
                  }}
                  options={models.map((m) => ({ value: m.name, label: m.name }))}
                  placeholder={models.length ? "Select a model" : "No models yet"}
                />
              )}
            </Field>
            <Field
              label="Scope"
              hint="An alias is resolved at every evaluation, so the rule follows promotions."
              error={error?.fieldError("version") ?? error?.fieldError("alias")}
            >
              {(control) => (
                <SimpleSelect
                  {...control}
                  value={scope}
                  onValueChange={setScope}
                  options={scopeOptions}
                />
              )}
            </Field>
          </div>
          <Field label="Metric" required hint={def.hint} error={error?.fieldError("metric")}>
            {(control) => (
              <SimpleSelect
                {...control}
                value={metric}
                onValueChange={(v) => setMetric(v as AlertMetric)}
                options={metricOptions}
              />
            )}
          </Field>
          <div className="grid items-start gap-4 sm:grid-cols-2">
            <Field label="Fires when the value is" required error={error?.fieldError("comparison")}>
              {(control) => (
                <SimpleSelect
                  {...control}
                  value={comparison}
                  onValueChange={(v) => setComparison(v as AlertComparison)}
                  options={ALERT_COMPARISONS.map((c) => ({
                    value: c,
                    label: COMPARISON_LABELS[c],
                  }))}
                />
              )}
            </Field>
            <NumberField
              label={`Threshold (${def.unit})`}
              required
              name="threshold"
              min={def.min}
              max={def.max}
              defaultValue={rule?.threshold ?? ""}
              placeholder={def.unit === "ms" ? "250" : def.max === 1 ? "0.9" : "1"}
              error={error?.fieldError("threshold")}
            />
          </div>
          <div className="grid items-start gap-4 sm:grid-cols-3">
            <NumberField
              label="Window (minutes)"
              required
              hint="Values are computed over this much recent data (at least 1 minute)."
              name="windowMinutes"
              min={1}
              max={43200}
              defaultValue={rule ? rule.windowSeconds / 60 : 5}
              error={error?.fieldError("windowSeconds")}
            />
            <NumberField
              label="For (seconds)"
              hint="The condition must hold this long before the alert fires (pending until then)."
              name="forSeconds"
              integer
              min={0}
              defaultValue={rule?.forSeconds ?? 60}
              error={error?.fieldError("forSeconds")}
            />
            <NumberField
              label="Keep firing for (seconds)"
              hint="After the condition clears, keep firing this long (avoids flapping)."
              name="keepFiringForSeconds"
              integer
              min={0}
              defaultValue={rule?.keepFiringForSeconds ?? 0}
              error={error?.fieldError("keepFiringForSeconds")}
            />
          </div>
          <div className="grid items-start gap-4 sm:grid-cols-2">
            <Field label="Severity" required error={error?.fieldError("severity")}>
              {(control) => (
                <SimpleSelect
                  {...control}
                  value={severity}
                  onValueChange={(v) => setSeverity(v as AlertSeverity)}
                  options={ALERT_SEVERITIES.map((s) => ({
                    value: s,
                    label: s.charAt(0).toUpperCase() + s.slice(1),
                  }))}
                />
              )}
            </Field>
            <label className="flex items-start gap-2 pt-6 text-sm">
              <input
                type="checkbox"
                name="enabled"
                defaultChecked={rule?.enabled ?? true}
                className="mt-0.5 size-4 accent-[var(--accent)]"
              />
              <span>
                Enabled
                <span className="block text-xs text-muted-foreground">
                  A disabled rule is not evaluated; its open alert closes.
                </span>
              </span>
            </label>
          </div>
          <Field label="Description" optional error={error?.fieldError("description")}>
            <Textarea name="description" rows={2} defaultValue={rule?.description ?? ""} />
          </Field>
        </>
      )}
    </FormDialog>
  );
}
