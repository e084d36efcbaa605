"use client";

import { useEffect, useMemo, useState } from "react";
import { apiFetch } from "@/components/api-client";
import { Field } from "@/components/ui/field";
import { Input } from "@/components/ui/input";

type Description =
  | { valid: true; description: string; nextRuns: string[]; nextRunsLocal: string[] }
  | { valid: false; problems: { field: "schedule" | "timezone"; message: string }[] };

const capitalise = (s: string) => s.charAt(0).toUpperCase() + s.slice(1);

/**
 * The schedule and time-zone inputs of the job form, checked as they are typed (through
 * POST /api/v1/cron/describe, the server's own validator): the schedule in words and the
 * next five fire times in the chosen zone, or what is wrong with which field.
 */
export function ScheduleFields({
  defaultSchedule,
  defaultTimezone,
  errors,
}: {
  defaultSchedule: string;
  defaultTimezone: string;
  /** Errors the API returned on submit, by field. */
  errors: { schedule?: string; timezone?: string };
}) {
  const [schedule, setSchedule] = useState(defaultSchedule);
  const [timezone, setTimezone] = useState(defaultTimezone);
  const [result, setResult] = useState<{ key: string; value: Description } | null>(null);
  const key = `${schedule}\u0000${timezone}`;
  // Only the answer for what is typed now counts (an older one is still on its way).
  const described = schedule.trim() !== "" && result?.key === key ? result.value : null;
  const zones = useMemo(() => {
    try {
      return (Intl as { supportedValuesOf?: (k: string) => string[] }).supportedValuesOf?.(
        "timeZone",
      );
    } catch {
      return undefined;
    }
  }, []);

  useEffect(() => {
    if (schedule.trim() === "") return;
    let cancelled = false;
    const timer = setTimeout(() => {
      apiFetch<Description>("/api/v1/cron/describe", {
        method: "POST",
        body: { schedule, timezone: timezone || "UTC" },
      })
        .then((d) => !cancelled && setResult({ key: `${schedule}\u0000${timezone}`, value: d }))
        .catch(() => undefined);
    }, 250);
    return () => {
      cancelled = true;
      clearTimeout(timer);
    };
  }, [schedule, timezone]);

  const live = (field: "schedule" | "timezone") =>
    described && !described.valid
      ? described.problems.filter((p) => p.field === field).map((p) => `${capitalise(p.message)}.`)
      : [];
  // What is typed now, as the server checked it; the submit's error only until then.
  const scheduleErrors = described ? live("schedule") : errors.schedule ? [errors.schedule] : [];
  const timezoneErrors = described ? live("timezone") : errors.timezone ? [errors.timezone] : [];

  return (
    <div className="grid gap-3">
      <div className="grid items-start gap-3 sm:grid-cols-[3fr_2fr]">
        <Field
          label="Schedule"
          required
          hint="Cron: minute hour day-of-month month day-of-week; 6 fields put seconds first."
          error={scheduleErrors.length ? scheduleErrors : undefined}
        >
          <Input
            name="schedule"
            value={schedule}
            onChange={(e) => setSchedule(e.target.value)}
            autoComplete="off"
            spellCheck={false}
            className="font-mono"
            placeholder="0 3 * * *"
          />
        </Field>
        <Field
          label="Time zone"
          required
          error={timezoneErrors.length ? timezoneErrors : undefined}
        >
          <Input
            name="timezone"
            value={timezone}
            onChange={(e) => setTimezone(e.target.value)}
            list="modeldeck-time-zones"
            autoComplete="off"
            spellCheck={false}
          />
        </Field>
        {zones ? (
          <datalist id="modeldeck-time-zones">
            {["UTC", ...zones].map((z) => (
              <option key={z} value={z} />
            ))}
          </datalist>
        ) : null}
      </div>
      <div
        className="rounded-md border border-border bg-subtle px-3 py-2 text-[13px]"
        aria-live="polite"
        data-testid="schedule-preview"
      >
        {described?.valid ? (
          <>
            <p className="font-medium text-foreground">{described.description}</p>
            <p className="mt-1 text-xs text-muted-foreground">Next five fire times ({timezone}):</p>
            <ol className="mt-0.5 grid gap-0.5 font-mono text-xs text-muted-foreground">
              {described.nextRunsLocal.map((t, i) => (
                <li key={described.nextRuns[i]}>{t}</li>
              ))}
            </ol>
          </>
        ) : (
          <p className="text-muted-foreground">
            {described
              ? "Fix the schedule to see when it fires."
              : "Type a schedule to see when it fires."}
          </p>
        )}
      </div>
    </div>
  );
}
