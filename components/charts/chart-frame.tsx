"use client";

import { useId, useState } from "react";
import { ChartLineIcon, TableIcon } from "lucide-react";
import {
  Card,
  CardActions,
  CardDescription,
  CardHeader,
  CardHeading,
  CardTitle,
} from "@/components/ui/card";
import { cn } from "@/components/ui/cn";
import { EmptyState } from "@/components/ui/empty-state";

export type ChartLegendItem = {
  key: string;
  label: React.ReactNode;
  color: string;
  /** line: a series; ring: a marker drawn around some points (e.g. the production version). */
  marker?: "line" | "ring";
};

/**
 * The frame every chart sits in: a card with a title and description (the figure's accessible
 * name and description), an HTML legend, an empty state, and the same data as a table — shown
 * on request and always there for screen readers while the chart is shown.
 */
export function ChartFrame({
  title,
  description,
  legend = [],
  empty,
  table,
  height = 240,
  actions,
  headingLevel = "h3",
  className,
  children,
  ...props
}: {
  title: React.ReactNode;
  description?: React.ReactNode;
  legend?: ChartLegendItem[];
  /** Shown instead of the chart when set (nothing to draw yet). */
  empty?: { title: React.ReactNode; description?: React.ReactNode };
  /** The chart's data as a `<table>` (use ChartDataTable); offered as the "Table" view. */
  table?: React.ReactNode;
  /** Plot height in px. */
  height?: number;
  actions?: React.ReactNode;
  headingLevel?: "h2" | "h3" | "h4";
  className?: string;
  children: React.ReactNode;
} & Omit<React.ComponentProps<"figure">, "title" | "children">) {
  const titleId = useId();
  const descriptionId = useId();
  const [view, setView] = useState<"chart" | "table">("chart");
  return (
    <Card className={className}>
      <figure
        aria-labelledby={titleId}
        aria-describedby={description ? descriptionId : undefined}
        className="m-0"
        {...props}
      >
        <CardHeader className="pb-2">
          <CardHeading>
            <CardTitle as={headingLevel} id={titleId}>
              {title}
            </CardTitle>
            {description ? (
              <CardDescription id={descriptionId}>{description}</CardDescription>
            ) : null}
          </CardHeading>
          {actions || (table && !empty) ? (
            <CardActions>
              {actions}
              {table && !empty ? (
                <ChartToggle label="View">
                  <ChartToggleButton pressed={view === "chart"} onClick={() => setView("chart")}>
                    <ChartLineIcon aria-hidden /> Chart
                  </ChartToggleButton>
                  <ChartToggleButton pressed={view === "table"} onClick={() => setView("table")}>
                    <TableIcon aria-hidden /> Table
                  </ChartToggleButton>
                </ChartToggle>
              ) : null}
            </CardActions>
          ) : null}
        </CardHeader>
        {empty ? (
          <div className="px-4 pb-4">
            <EmptyState
              bordered
              headingLevel={({ h2: "h3", h3: "h4", h4: "h5" } as const)[headingLevel]}
              title={empty.title}
              description={empty.description}
              className="py-8"
            />
          </div>
        ) : (
          <>
            {legend.length > 0 ? <ChartLegend items={legend} /> : null}
            {view === "chart" ? (
              <>
                <div className="px-2 pb-3" style={{ height }}>
                  {children}
                </div>
                {table ? <div className="sr-only">{table}</div> : null}
              </>
            ) : (
              <div className="max-h-96 overflow-auto border-t border-border">{table}</div>
            )}
          </>
        )}
      </figure>
    </Card>
  );
}

/** A small group of pressed/unpressed buttons in a chart's header (view, axis scale). */
export function ChartToggle({ label, children }: { label: string; children: React.ReactNode }) {
  return (
    <div
      role="group"
      aria-label={label}
      className="inline-flex rounded-md border border-input bg-card p-0.5 shadow-xs"
    >
      {children}
    </div>
  );
}

export function ChartToggleButton({
  pressed,
  onClick,
  children,
}: {
  pressed: boolean;
  onClick: () => void;
  children: React.ReactNode;
}) {
  return (
    <button
      type="button"
      aria-pressed={pressed}
      onClick={onClick}
      className={cn(
        "inline-flex h-6 items-center gap-1 rounded-[5px] px-2 text-xs font-medium text-muted-foreground [&_svg]:size-3.5",
        "hover:text-foreground aria-pressed:bg-muted aria-pressed:text-foreground",
      )}
    >
      {children}
    </button>
  );
}

export function ChartLegend({ items }: { items: ChartLegendItem[] }) {
  return (
    <ul aria-label="Legend" className="flex flex-wrap gap-x-4 gap-y-1 px-4 pb-1 text-xs">
      {items.map((item) => (
        <li key={item.key} className="flex items-center gap-1.5 text-muted-foreground">
          {item.marker === "ring" ? (
            <span
              aria-hidden
              className="size-2.5 rounded-full border-2"
              style={{ borderColor: item.color }}
            />
          ) : (
            <span
              aria-hidden
              className="h-0.5 w-3 rounded-full"
              style={{ background: item.color }}
            />
          )}
          <span className="text-foreground">{item.label}</span>
        </li>
      ))}
    </ul>
  );
}

/** The tooltip box of every chart: the UI's popover surface, a title, label/value rows. */
export function ChartTooltipBox({
  title,
  color,
  rows,
}: {
  title: React.ReactNode;
  /** The series colour, shown as a swatch beside the title. */
  color?: string;
  rows: { label: React.ReactNode; value: React.ReactNode }[];
}) {
  return (
    <div className="min-w-40 rounded-md border border-border bg-popover px-2.5 py-2 text-xs text-popover-foreground shadow-md">
      <div className="mb-1 flex items-center gap-1.5 font-medium">
        {color ? (
          <span aria-hidden className="size-2 rounded-full" style={{ background: color }} />
        ) : null}
        {title}
      </div>
      <dl className="grid grid-cols-[auto_1fr] gap-x-3 gap-y-0.5">
        {rows.map((r, i) => (
          <div key={i} className="contents">
            <dt className="text-muted-foreground">{r.label}</dt>
            <dd className="text-right font-mono tabular-nums">{r.value}</dd>
          </div>
        ))}
      </dl>
    </div>
  );
}
