"use client";

import { useRouter } from "next/navigation";
import { useState } from "react";
import { BellOffIcon, CheckIcon, Trash2Icon } from "lucide-react";
import { apiFetch } from "@/components/api-client";
import { FormDialog } from "@/components/form-dialog";
import { ConfirmDialog } from "@/components/ui/alert-dialog";
import { Button } from "@/components/ui/button";
import { Field } from "@/components/ui/field";
import { SimpleSelect } from "@/components/ui/select";
import { Textarea } from "@/components/ui/textarea";
import { ALERT_SEVERITIES } from "@/lib/alerts/definitions";

/** Acknowledge an open alert: who is on it, and a comment (both recorded). */
export function AcknowledgeDialog({ alertId, ruleName }: { alertId: string; ruleName: string }) {
  const router = useRouter();
  return (
    <FormDialog
      trigger={
        <Button variant="outline" size="sm" aria-label={`Acknowledge ${ruleName}`}>
          <CheckIcon aria-hidden /> Ack
        </Button>
      }
      title={`Acknowledge “${ruleName}”`}
      description="Tells everyone someone is on it. The alert keeps its state and is still evaluated."
      submitLabel="Acknowledge"
      onSubmit={async (form) => {
        await apiFetch(`/api/v1/alerts/${alertId}/ack`, {
          method: "POST",
          body: { comment: String(form.get("comment") ?? "") },
        });
        router.refresh();
      }}
    >
      {(error) => (
        <Field label="Comment" required error={error?.fieldError("comment")}>
          <Textarea name="comment" rows={3} placeholder="Looking into the slow version." />
        </Field>
      )}
    </FormDialog>
  );
}

const DURATIONS = [
  { value: "3600", label: "1 hour" },
  { value: "14400", label: "4 hours" },
  { value: "86400", label: "1 day" },
  { value: "604800", label: "7 days" },
];
const ANY = "__any__";

export type SilenceChoices = {
  rules: { id: string; name: string; model: string }[];
  models: string[];
};

/**
 * Silence notifications of matching alerts until an expiry. From an alert row it is preset to
 * that alert's rule; from the silences list every matcher can be chosen.
 */
export function SilenceDialog({
  choices,
  preset,
  compact = false,
}: {
  choices: SilenceChoices;
  preset?: { ruleId: string; ruleName: string };
  compact?: boolean;
}) {
  const router = useRouter();
  const [ruleId, setRuleId] = useState(preset?.ruleId ?? ANY);
  const [model, setModel] = useState(ANY);
  const [severity, setSeverity] = useState(ANY);
  const [duration, setDuration] = useState("3600");
  return (
    <FormDialog
      trigger={
        compact ? (
          <Button
            variant="ghost"
            size="icon"
            aria-label={`Silence ${preset?.ruleName ?? "alerts"}`}
            title="Silence its notifications"
          >
            <BellOffIcon aria-hidden />
          </Button>
        ) : (
          <Button variant="outline">
            <BellOffIcon aria-hidden /> New silence
          </Button>
        )
      }
      title={preset ? `Silence “${preset.ruleName}”` : "New silence"}
      description="Matching alerts still change state and show here; only their webhooks are muted until the silence expires."
      submitLabel="Silence"
      onSubmit={async (form) => {
        await apiFetch("/api/v1/silences", {
          method: "POST",
          body: {
            ruleId: ruleId === ANY ? null : ruleId,
            model: model === ANY ? null : model,
            severity: severity === ANY ? null : severity,
            comment: String(form.get("comment") ?? ""),
            endsAt: new Date(Date.now() + Number(duration) * 1000).toISOString(),
          },
        });
        router.refresh();
      }}
    >
      {(error) => (
        <>
          {preset ? null : (
            <div className="grid items-start gap-4 sm:grid-cols-3">
              <Field label="Rule" error={error?.fieldError("ruleId")}>
                {(control) => (
                  <SimpleSelect
                    {...control}
                    value={ruleId}
                    onValueChange={setRuleId}
                    options={[
                      { value: ANY, label: "Any rule" },
                      ...choices.rules.map((r) => ({
                        value: r.id,
                        label: `${r.name} (${r.model})`,
                      })),
                    ]}
                  />
                )}
              </Field>
              <Field label="Model" error={error?.fieldError("model")}>
                {(control) => (
                  <SimpleSelect
                    {...control}
                    value={model}
                    onValueChange={setModel}
                    options={[
                      { value: ANY, label: "Any model" },
                      ...choices.models.map((m) => ({ value: m, label: m })),
                    ]}
                  />
                )}
              </Field>
              <Field label="Severity" error={error?.fieldError("severity")}>
                {(control) => (
                  <SimpleSelect
                    {...control}
                    value={severity}
                    onValueChange={setSeverity}
                    options={[
                      { value: ANY, label: "Any severity" },
                      ...ALERT_SEVERITIES.map((s) => ({ value: s, label: s })),
                    ]}
                  />
                )}
              </Field>
            </div>
          )}
          <Field label="For" required error={error?.fieldError("endsAt")}>
            {(control) => (
              <SimpleSelect
                {...control}
                value={duration}
                onValueChange={setDuration}
                options={DURATIONS}
              />
            )}
          </Field>
          <Field label="Comment" required error={error?.fieldError("comment")}>
            <Textarea name="comment" rows={3} placeholder="Deploying a fix; known issue." />
          </Field>
        </>
      )}
    </FormDialog>
  );
}

export function ExpireSilenceButton({ silenceId }: { silenceId: string }) {
  const router = useRouter();
  return (
    <ConfirmDialog
      trigger={
        <Button variant="ghost" size="sm">
          Expire
        </Button>
      }
      title="Expire this silence now?"
      description="Matching alerts notify again from their next transition."
      confirmLabel="Expire silence"
      onConfirm={async () => {
        await apiFetch(`/api/v1/silences/${silenceId}/expire`, { method: "POST" });
        router.refresh();
      }}
    />
  );
}

export function DeleteRuleButton({ ruleId, ruleName }: { ruleId: string; ruleName: string }) {
  const router = useRouter();
  return (
    <ConfirmDialog
      trigger={
        <Button variant="ghost" size="icon" aria-label={`Delete rule ${ruleName}`}>
          <Trash2Icon aria-hidden />
        </Button>
      }
      title={`Delete the rule “${ruleName}”?`}
      changes={["Its alerts and their history are deleted.", "It stops being evaluated."]}
      confirmLabel="Delete rule"
      destructive
      onConfirm={async () => {
        await apiFetch(`/api/v1/alert-rules/${ruleId}`, { method: "DELETE" });
        router.refresh();
      }}
    />
  );
}
