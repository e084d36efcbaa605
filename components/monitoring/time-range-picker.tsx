"use client";

import { useState } from "react";
import { CalendarRangeIcon } from "lucide-react";
import { Button } from "@/components/ui/button";
import { cn } from "@/components/ui/cn";
import { Input } from "@/components/ui/input";
import { Label } from "@/components/ui/label";
import {
  customRangeProblem,
  formatUtcInput,
  parseInstant,
  RANGE_PRESETS,
  type TimeRange,
} from "./time-range";

/**
 * 1 h · 24 h · 7 d · 30 d · Custom, as a segmented control; Custom opens From/To inputs (UTC,
 * like every time in the UI) validated before they apply. The caller keeps the range in the
 * URL.
 */
export function TimeRangePicker({
  value,
  resolved,
  onChange,
}: {
  value: TimeRange;
  /** The range now in effect, to prefill the custom inputs. */
  resolved: { fromMs: number; toMs: number };
  onChange: (range: TimeRange) => void;
}) {
  const [customOpen, setCustomOpen] = useState(value.kind === "custom");
  const [from, setFrom] = useState(formatUtcInput(resolved.fromMs));
  const [to, setTo] = useState(formatUtcInput(resolved.toMs));
  const [problem, setProblem] = useState<string | null>(null);

  const openCustom = () => {
    setFrom(formatUtcInput(resolved.fromMs));
    setTo(formatUtcInput(resolved.toMs));
    setProblem(null);
    setCustomOpen(true);
  };

  const apply = (event: React.FormEvent) => {
    event.preventDefault();
    const fromMs = parseInstant(from);
    const toMs = parseInstant(to);
    const issue =
      fromMs === null || toMs === null
        ? "Enter both times as YYYY-MM-DD hh:mm (UTC)."
        : customRangeProblem(fromMs, toMs);
    setProblem(issue);
    if (issue === null) onChange({ kind: "custom", fromMs: fromMs!, toMs: toMs! });
  };

  return (
    <div className="flex flex-wrap items-center justify-end gap-2">
      <div
        role="group"
        aria-label="Time range"
        className="inline-flex rounded-md border border-input bg-card p-0.5 shadow-xs"
      >
        {RANGE_PRESETS.map((p) => (
          <Segment
            key={p.key}
            pressed={value.kind === "preset" && value.key === p.key}
            title={p.title}
            onClick={() => {
              setCustomOpen(false);
              setProblem(null);
              onChange({ kind: "preset", key: p.key });
            }}
          >
            {p.label}
          </Segment>
        ))}
        <Segment
          pressed={value.kind === "custom" || customOpen}
          title="Choose the start and end"
          onClick={() =>
            customOpen && value.kind !== "custom" ? setCustomOpen(false) : openCustom()
          }
        >
          <CalendarRangeIcon aria-hidden className="size-3.5" /> Custom
        </Segment>
      </div>
      {customOpen ? (
        <form
          aria-label="Custom time range"
          onSubmit={apply}
          noValidate
          className="flex flex-wrap items-end gap-2"
        >
          <div className="grid gap-0.5">
            <Label htmlFor="range-from" className="text-xs text-muted-foreground">
              From (UTC)
            </Label>
            <Input
              id="range-from"
              type="datetime-local"
              value={from}
              onChange={(e) => setFrom(e.target.value)}
              aria-invalid={problem ? true : undefined}
              aria-describedby={problem ? "range-problem" : undefined}
              className="h-7 w-44 text-[13px]"
            />
          </div>
          <div className="grid gap-0.5">
            <Label htmlFor="range-to" className="text-xs text-muted-foreground">
              To (UTC)
            </Label>
            <Input
              id="range-to"
              type="datetime-local"
              value={to}
              onChange={(e) => setTo(e.target.value)}
              aria-invalid={problem ? true : undefined}
              aria-describedby={problem ? "range-problem" : undefined}
              className="h-7 w-44 text-[13px]"
            />
          </div>
          <Button type="submit" size="sm" variant="outline">
            Apply
          </Button>
          {problem ? (
            <p
              id="range-problem"
              role="alert"
              className="basis-full text-right text-xs text-destructive"
            >
              {problem}
            </p>
          ) : null}
        </form>
      ) : null}
    </div>
  );
}

function Segment({
  pressed,
  onClick,
  title,
  children,
}: {
  pressed: boolean;
  onClick: () => void;
  title?: string;
  children: React.ReactNode;
}) {
  return (
    <button
      type="button"
      aria-pressed={pressed}
      title={title}
      onClick={onClick}
      className={cn(
        "inline-flex h-6 items-center gap-1 rounded-[5px] px-2.5 text-xs font-medium text-muted-foreground tabular-nums",
        "hover:text-foreground aria-pressed:bg-muted aria-pressed:text-foreground",
      )}
    >
      {children}
    </button>
  );
}
