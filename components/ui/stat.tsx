import { ArrowDownRightIcon, ArrowUpRightIcon, MinusIcon } from "lucide-react";
import type * as React from "react";

import { cn } from "./cn";

export type StatDelta = {
  /** Display text, e.g. "+12%" or "−3 ms". */
  value: string;
  direction: "up" | "down" | "flat";
  /** Whether this movement is good news (colours it green) or bad (red). Default: up is good. */
  positive?: boolean;
  /** Comparison period shown after the delta, e.g. "vs last 24 h". */
  label?: string;
};

export type StatProps = {
  label: React.ReactNode;
  value: React.ReactNode;
  /** Unit shown after the value in smaller text ("ms", "req/s"). */
  unit?: React.ReactNode;
  delta?: StatDelta;
  /** Secondary line under the value. */
  hint?: React.ReactNode;
  icon?: React.ReactNode;
  className?: string;
};

/** Small KPI tile. */
export function Stat({ label, value, unit, delta, hint, icon, className }: StatProps) {
  const good = delta ? (delta.positive ?? delta.direction !== "down") : false;
  const DeltaIcon =
    delta?.direction === "up"
      ? ArrowUpRightIcon
      : delta?.direction === "down"
        ? ArrowDownRightIcon
        : MinusIcon;

  return (
    <div
      className={cn(
        "flex min-w-0 items-start justify-between gap-3 rounded-lg border border-border bg-card px-4 py-3 shadow-xs",
        className,
      )}
    >
      <dl className="grid min-w-0 gap-1">
        <dt className="truncate text-[13px] font-medium text-muted-foreground">{label}</dt>
        <dd className="flex flex-wrap items-baseline gap-x-2 gap-y-1">
          <span className="text-2xl leading-8 font-semibold tracking-tight text-foreground tabular-nums">
            {value}
            {unit ? (
              <span className="ml-1 text-sm font-normal text-muted-foreground">{unit}</span>
            ) : null}
          </span>
          {delta ? (
            <span
              className={cn(
                "inline-flex items-center gap-0.5 text-xs font-medium tabular-nums",
                delta.direction === "flat"
                  ? "text-muted-foreground"
                  : good
                    ? "text-success"
                    : "text-destructive",
              )}
            >
              <DeltaIcon aria-hidden="true" className="size-3.5" />
              <span className="sr-only">
                {delta.direction === "up"
                  ? "Up"
                  : delta.direction === "down"
                    ? "Down"
                    : "Unchanged"}
              </span>
              {delta.value}
              {delta.label ? (
                <span className="ml-1 font-normal text-muted-foreground">{delta.label}</span>
              ) : null}
            </span>
          ) : null}
        </dd>
        {hint ? <dd className="text-xs text-muted-foreground">{hint}</dd> : null}
      </dl>
      {icon ? (
        <span
          aria-hidden="true"
          className="flex size-7 shrink-0 items-center justify-center rounded-md bg-muted text-muted-foreground [&_svg]:size-4"
        >
          {icon}
        </span>
      ) : null}
    </div>
  );
}
